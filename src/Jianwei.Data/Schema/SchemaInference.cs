namespace Jianwei.Data;

/// <summary>
/// Infers each column's type and role from its values. Rules, applied to the non-missing values:
/// all numbers → Numeric (Boolean if only 0 and 1; Identifier if distinct integers on every row and
/// the name says id); all boolean words → Boolean; all dates → DateTime; otherwise strings: unique on
/// every row, short and without spaces → Identifier; long or mostly distinct multi-word (or multi-
/// character Chinese) values → Text; anything else → Categorical. A column with no values is ignored.
/// </summary>
public static class SchemaInference
{
    /// <summary>Names read as the label when the user names none.</summary>
    public static readonly IReadOnlyList<string> LabelNames = ["label", "target", "y", "class", "default", "is_default", "bad", "status", "outcome", "违约", "标签"];

    /// <summary>
    /// The schema of a table. <paramref name="label"/> names the label column (error if absent); when
    /// null, a column named like a label (<see cref="LabelNames"/>) is used if there is one.
    /// </summary>
    public static TableSchema Infer(RawTable table, string? label = null, string? positiveClass = null, ValueParser? parser = null, int sampleRows = 200_000)
    {
        parser ??= new ValueParser();
        if (label is not null && table.IndexOf(label) < 0)
            throw new DataFormatException(table.Source, 1, label, $"the label column is missing (columns: {string.Join(", ", table.Header.Take(20))}{(table.Header.Count > 20 ? ", ..." : "")}).");
        label ??= table.Header.FirstOrDefault(h => LabelNames.Contains(h.Trim().ToLowerInvariant()));
        var columns = new List<ColumnSchema>();
        int rows = Math.Min(table.RowCount, sampleRows);
        for (int c = 0; c < table.Header.Count; c++)
        {
            var name = table.Header[c];
            var values = new List<string>(rows);
            for (int r = 0; r < rows; r++)
            {
                var row = table.Rows[r];
                var v = c < row.Length ? row[c] : "";
                if (!parser.IsMissing(v)) values.Add(v.Trim());
            }
            if (name == label) { columns.Add(new ColumnSchema(name, ColumnRole.Label, ColumnType.Categorical)); continue; }
            columns.Add(InferColumn(name, values, rows));
        }
        string? positive = null;
        IReadOnlyList<string>? labelClasses = null;
        if (label is not null)
        {
            var labelValues = table.Column(table.IndexOf(label)).Where(v => !parser.IsMissing(v)).Select(v => v.Trim()).ToList();
            var classes = labelValues.Distinct().Order(StringComparer.Ordinal).ToList();
            labelClasses = classes;
            if (classes.Count < 2)
                throw new DataFormatException(table.Source, null, label, classes.Count == 0 ? "the label column has no values." : $"the label has a single class ('{classes[0]}'): nothing to learn.");
            positive = positiveClass ?? GuessPositive(labelValues);
            if (!classes.Contains(positive))
                throw new DataFormatException(table.Source, null, label, $"the positive class '{positive}' does not occur (classes: {string.Join(", ", classes.Take(10))}).");
        }
        return new TableSchema { Columns = columns, Label = label, PositiveClass = positive, LabelClasses = labelClasses, MissingMarkers = parser.MissingMarkers.Order(StringComparer.Ordinal).ToArray() };
    }

    /// <summary>The distinct values of the label column (trimmed, missing ones left out), sorted.</summary>
    public static IReadOnlyList<string> LabelClasses(RawTable table, string label, ValueParser? parser = null)
    {
        parser ??= new ValueParser();
        int li = table.IndexOf(label);
        if (li < 0) throw new DataFormatException(table.Source, 1, label, "the label column is missing.");
        return table.Column(li).Where(v => !parser.IsMissing(v)).Select(v => v.Trim()).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Infers one column from its non-missing values (trimmed) out of <paramref name="rows"/> rows.</summary>
    public static ColumnSchema InferColumn(string name, IReadOnlyList<string> values, int rows)
    {
        if (values.Count == 0) return new(name, ColumnRole.Ignore, ColumnType.Categorical);
        var distinct = new HashSet<string>(values, StringComparer.Ordinal);
        bool allNumbers = true, allIntegers = true;
        foreach (var v in values)
        {
            if (!ValueParser.TryParseNumber(v, out double d)) { allNumbers = false; break; }
            if (d != Math.Floor(d)) allIntegers = false;
        }
        if (allNumbers)
        {
            if (distinct.All(v => v is "0" or "1")) return new(name, ColumnRole.Feature, ColumnType.Boolean);
            bool unique = distinct.Count == rows && values.Count == rows;
            if (unique && allIntegers && LooksLikeId(name)) return new(name, ColumnRole.Identifier, ColumnType.Numeric);
            return new(name, ColumnRole.Feature, ColumnType.Numeric);
        }
        if (values.All(v => ValueParser.TryParseBoolean(v, out _))) return new(name, ColumnRole.Feature, ColumnType.Boolean);
        if (values.All(v => ValueParser.TryParseDate(v, out _))) return new(name, ColumnRole.Feature, ColumnType.DateTime);

        double avgLength = values.Average(v => v.Length);
        double distinctShare = distinct.Count / (double)values.Count;
        double avgWords = values.Average(v => v.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
        double avgCjk = values.Average(v => v.Count(ch => ch is >= '\u4E00' and <= '\u9FFF'));
        bool uniquePerRow = distinct.Count == rows && values.Count == rows;
        if (uniquePerRow && avgLength <= 40 && values.All(v => !v.Any(char.IsWhiteSpace)) && avgCjk < 4)
            return new(name, ColumnRole.Identifier, ColumnType.Categorical);
        if (avgLength >= 30 || (distinctShare >= 0.5 && (avgWords >= 3 || avgCjk >= 6)))
            return new(name, ColumnRole.Feature, ColumnType.Text);
        return new(name, ColumnRole.Feature, ColumnType.Categorical);
    }

    private static bool LooksLikeId(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        return n is "id" or "uuid" or "key" || n.EndsWith("_id", StringComparison.Ordinal) || n.EndsWith(" id", StringComparison.Ordinal)
            || n.StartsWith("id_", StringComparison.Ordinal) || n.EndsWith("编号", StringComparison.Ordinal) || n.EndsWith("代码", StringComparison.Ordinal)
            || n.EndsWith("序号", StringComparison.Ordinal);
    }

    /// <summary>The class that most likely means "bad": 1, bad, default, yes, true, 违约 — else the rarer class.</summary>
    public static string GuessPositive(IReadOnlyList<string> labelValues)
    {
        var counts = labelValues.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        string[] preferred = ["1", "bad", "Bad", "BAD", "default", "Default", "yes", "Yes", "true", "True", "违约", "是", "逾期", "positive", "fraud", "churn"];
        foreach (var p in preferred) if (counts.ContainsKey(p)) return p;
        return counts.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
    }
}
