using Jianwei.Data;
using Jianwei.Evaluation;

namespace Jianwei.Models.Bundles;

/// <summary>
/// Permutation importance (Breiman 2001): how much a model loses when one column's values are
/// shuffled among the rows, for models with no measure of their own (the networks).
/// </summary>
public static class PermutationImportance
{
    /// <summary>
    /// On up to <paramref name="limit"/> of <paramref name="rows"/> (picked by <paramref name="seed"/>): for
    /// each of <paramref name="columns"/>, the ROC-AUC lost against <paramref name="labels"/> (one per row
    /// of <paramref name="rows"/>) when that column is shuffled — or, without labels of both classes,
    /// the mean absolute change of the log-odds. Normalized to sum 1.
    /// </summary>
    public static Dictionary<string, double> Measure(Func<RawTable, int[], double[]> predict, IEnumerable<string> columns, RawTable table, IReadOnlyList<int> rows,
                                                     IReadOnlyList<int>? labels, int limit, int seed)
    {
        var pick = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(pick);
        pick = pick.Take(limit).Order().ToArray();
        var sample = new RawTable(table.Source, table.Header, pick.Select(i => table.Rows[rows[i]]).ToList(), pick.Select(i => table.Lines[rows[i]]).ToList());
        var y = labels is null ? null : pick.Select(i => labels[i]).ToArray();
        bool byAuc = y is not null && y.Distinct().Count() == 2;
        var all = Enumerable.Range(0, sample.RowCount).ToArray();
        var reference = predict(sample, all);
        double referenceAuc = byAuc ? Metrics.RocAuc(reference, y!) : 0;
        var lost = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            int c = sample.IndexOf(column);
            if (c < 0) continue;
            var order = all.ToArray();
            new Random(seed + c + 1).Shuffle(order);
            var shuffled = new RawTable(sample.Source, sample.Header,
                sample.Rows.Select((r, i) => { var copy = (string[])r.Clone(); copy[c] = sample.Rows[order[i]][c]; return copy; }).ToList(), sample.Lines);
            var p = predict(shuffled, all);
            lost[column] = byAuc ? Math.Max(0, referenceAuc - Metrics.RocAuc(p, y!))
                                 : p.Select((v, i) => Math.Abs(LogOdds.Of(v) - LogOdds.Of(reference[i]))).Average();
        }
        return Learners.Shares.Of(lost);
    }
}
