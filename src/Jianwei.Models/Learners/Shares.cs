namespace Jianwei.Models.Learners;

/// <summary>Importance values as shares of their total (all zero when the total is not positive).</summary>
internal static class Shares
{
    public static Dictionary<string, double> Of(Dictionary<string, double> values)
    {
        double total = values.Values.Sum();
        return values.ToDictionary(kv => kv.Key, kv => total > 0 ? kv.Value / total : 0, StringComparer.Ordinal);
    }
}
