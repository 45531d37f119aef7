using System.Globalization;
using System.Text;
using Jianwei.Data;

namespace Jianwei.Models.Bundles;

/// <summary>The CSV <c>jianwei predict</c> writes: the id column when the model has one and the table holds it, then probability and label.</summary>
public static class ScoreFile
{
    /// <summary>
    /// One line per row of <paramref name="table"/>: its id, the probability <paramref name="p"/> (six
    /// decimals) and the label, 1 at or above the bundle's threshold.
    /// </summary>
    public static string Csv(ModelBundle bundle, RawTable table, IReadOnlyList<double> p)
    {
        int idIdx = bundle.IdColumn is string id ? table.IndexOf(id) : -1;
        var sb = new StringBuilder();
        sb.Append(idIdx >= 0 ? CsvFormat.Field(bundle.IdColumn) + "," : "").Append("probability,label\n");
        for (int r = 0; r < p.Count; r++)
        {
            if (idIdx >= 0) sb.Append(CsvFormat.Field(table.Rows[r][idIdx])).Append(',');
            sb.Append(p[r].ToString("0.######", CultureInfo.InvariantCulture)).Append(',').Append(p[r] >= bundle.Threshold ? '1' : '0').Append('\n');
        }
        return sb.ToString();
    }
}
