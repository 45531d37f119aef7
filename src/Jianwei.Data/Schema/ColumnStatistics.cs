namespace Jianwei.Data;

/// <summary>Per-column statistics for reports: missing rate, distinct values, top values, quantiles.</summary>
public sealed record ColumnStatistics
{
    /// <summary>Column name.</summary>
    public required string Name { get; init; }
    /// <summary>Its schema entry.</summary>
    public required ColumnSchema Schema { get; init; }
    /// <summary>Rows counted.</summary>
    public int Rows { get; init; }
    /// <summary>Share of missing cells.</summary>
    public double MissingRate { get; init; }
    /// <summary>Distinct non-missing values.</summary>
    public int Distinct { get; init; }
    /// <summary>Most frequent values with counts (up to five).</summary>
    public IReadOnlyList<(string Value, int Count)> TopValues { get; init; } = [];
    /// <summary>For numbers: min, 5 %, 25 %, 50 %, 75 %, 95 %, max; for text: the same quantiles of length in characters.</summary>
    public IReadOnlyList<double>? Quantiles { get; init; }
    /// <summary>Mean of numbers (or text length).</summary>
    public double? Mean { get; init; }
    /// <summary>Standard deviation of numbers (or text length).</summary>
    public double? StandardDeviation { get; init; }

    /// <summary>The quantile levels of <see cref="Quantiles"/>.</summary>
    public static readonly double[] Levels = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1];

    /// <summary>Statistics of every column of a table under a schema.</summary>
    public static List<ColumnStatistics> Compute(RawTable table, TableSchema schema)
    {
        var parser = new ValueParser(schema.MissingMarkers);
        var result = new List<ColumnStatistics>();
        foreach (var col in schema.Columns)
        {
            int idx = table.IndexOf(col.Name);
            if (idx < 0) continue;
            var raw = table.Column(idx);
            var present = raw.Where(v => !parser.IsMissing(v)).Select(v => v.Trim()).ToList();
            var top = present.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(5).Select(g => (g.Key, g.Count())).ToList();
            List<double>? numbers = col.Type switch
            {
                ColumnType.Numeric => present.Select(v => ValueParser.TryParseNumber(v, out double d) ? d : double.NaN).Where(double.IsFinite).ToList(),
                ColumnType.Text => present.Select(v => (double)v.Length).ToList(),
                _ => null,
            };
            result.Add(new ColumnStatistics
            {
                Name = col.Name, Schema = col, Rows = raw.Length,
                MissingRate = raw.Length == 0 ? 0 : 1 - present.Count / (double)raw.Length,
                Distinct = present.Distinct().Count(), TopValues = top,
                Quantiles = numbers is { Count: > 0 } ? QuantilesOf(numbers) : null,
                Mean = numbers is { Count: > 0 } ? numbers.Average() : null,
                StandardDeviation = numbers is { Count: > 1 } ? Math.Sqrt(numbers.Sum(x => (x - numbers.Average()) * (x - numbers.Average())) / (numbers.Count - 1)) : null,
            });
        }
        return result;
    }

    /// <summary>Linear-interpolation quantiles (NumPy's default) at <see cref="Levels"/>.</summary>
    public static double[] QuantilesOf(List<double> values)
    {
        var s = values.Order().ToArray();
        return Levels.Select(q =>
        {
            double pos = q * (s.Length - 1);
            int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
            return s[lo] + (pos - lo) * (s[hi] - s[lo]);
        }).ToArray();
    }
}
