using Jianwei.Data;

namespace Jianwei.Models.Bundles;

/// <summary>A bundle's scores on the labeled rows of a table.</summary>
/// <param name="Rows">The labeled rows (indices into the table).</param>
/// <param name="Labels">Their 0/1 labels.</param>
/// <param name="Probabilities">Their scores.</param>
/// <param name="Metrics">The standard metrics at the bundle's threshold (<see cref="ModelBundle.Summarize"/>).</param>
public sealed record LabeledScores(int[] Rows, int[] Labels, double[] Probabilities, Dictionary<string, double> Metrics);

/// <summary>Measuring a bundle on labeled rows, as <c>jianwei evaluate</c> does.</summary>
public static class BundleEvaluation
{
    /// <summary>
    /// Scores <paramref name="table"/> and measures the rows whose label (the bundle's, or
    /// <paramref name="labelColumn"/>) is present. A label value the model was not trained on is
    /// refused with its line, never counted as negative; both classes must occur.
    /// </summary>
    public static LabeledScores Evaluate(ModelBundle bundle, RawTable table, string? labelColumn = null)
    {
        var schema = bundle.Schema;
        string label = labelColumn ?? schema.Label!;
        int li = table.IndexOf(label);
        if (li < 0) throw new DataFormatException(table.Source, null, label, "the label column is missing.");
        var parser = new ValueParser(schema.MissingMarkers);
        var rows = Enumerable.Range(0, table.RowCount).Where(r => !parser.IsMissing(table.Rows[r][li])).ToArray();
        CheckClasses(table, li, label, rows, schema);
        var y = rows.Select(r => table.Rows[r][li].Trim() == schema.PositiveClass ? 1 : 0).ToArray();
        if (y.Distinct().Count() < 2) throw new DataFormatException(table.Source, null, label, $"the label has a single class here (positive class '{schema.PositiveClass}').");
        var all = bundle.Score(table);
        var p = rows.Select(r => all[r]).ToArray();
        return new LabeledScores(rows, y, p, ModelBundle.Summarize(p, y, bundle.Threshold));
    }

    /// <summary>
    /// Refuses a label value outside the classes the bundle records ("meh" among 0/1); for an older
    /// bundle without them, a label with more than two values.
    /// </summary>
    private static void CheckClasses(RawTable table, int li, string label, int[] rows, TableSchema schema)
    {
        if (schema.LabelClasses is { Count: > 0 } known && label == schema.Label)
        {
            var set = new HashSet<string>(known, StringComparer.Ordinal);
            foreach (int r in rows)
                if (!set.Contains(table.Rows[r][li].Trim()))
                    throw new DataFormatException(table.Source, table.Lines[r], label,
                        $"'{table.Rows[r][li].Trim()}' is not a class the model was trained on ({string.Join(", ", known.Take(6))}{(known.Count > 6 ? ", …" : "")}).");
            return;
        }
        var values = rows.Select(r => table.Rows[r][li].Trim()).Distinct().ToList();
        if (values.Count > 2)
            throw new DataFormatException(table.Source, null, label, $"the label has {values.Count} values ({string.Join(", ", values.Take(6))}); this bundle was trained on two classes and does not record them.");
    }
}
