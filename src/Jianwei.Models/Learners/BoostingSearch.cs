using System.Diagnostics;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Features;

namespace Jianwei.Models.Learners;

/// <summary>The settings a tuning search chose.</summary>
/// <param name="Options">The winning settings (the given ones when nothing beat them).</param>
/// <param name="Settings">The winner in words, with how it was chosen, for the leaderboard.</param>
/// <param name="Tried">Configurations trained at least once.</param>
public sealed record SearchResult(BoostingOptions Options, string Settings, int Tried);

/// <summary>
/// A small tuning search for boosted trees — the "tuned LightGBM" of the method's comparison — by
/// successive halving (Jamieson and Talwalkar 2016; one bracket of Hyperband): <c>trials</c> settings (the
/// given ones first, the rest drawn from a grid of learning rate, depth and leaves, minimum child
/// weight, row and column sampling and L2) are grown on 80 % of the rows for a ninth of the round cap,
/// each early-stopped and scored by ROC-AUC on the other 20 %; the best third goes on with three times
/// the rounds, until one is left or the cap is reached. Within a time budget: when it runs out, the best
/// of the highest rung reached wins.
/// </summary>
public static class BoostingSearch
{
    private const int Eta = 3;
    private static readonly double[] LearningRates = [0.02, 0.05, 0.1];
    private static readonly int[] Depths = [3, 4, 5, 6, 8];
    private static readonly double[] MinChildWeights = [1, 3, 10];
    private static readonly double[] ColumnSamples = [0.5, 0.7, 0.9];
    private static readonly double[] Subsamples = [0.7, 0.85, 1.0];
    private static readonly double[] L2s = [1, 3, 10];

    /// <summary>Searches on <paramref name="rows"/> of <paramref name="table"/> (0/1 <paramref name="labels"/> for every row).</summary>
    public static SearchResult Run(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TreeLibrary library, BoostingOptions start, int textTerms,
                                   int trials, int seed, TimeSpan? budget)
    {
        var clock = Stopwatch.StartNew();
        var split = DataSplits.StratifiedTrainValidTest(rows, labels, 0.2, 0, seed);
        var features = TreeFeatures.Fit(table, schema, split.Train, termsPerText: textTerms);
        DenseMatrix x = features.Transform(table, split.Train), xValid = features.Transform(table, split.Validation);
        int[] y = split.Train.Select(r => labels[r]).ToArray(), yValid = split.Validation.Select(r => labels[r]).ToArray();
        var alive = Candidates(start, trials, seed).Select(o => (Options: o, Score: double.NaN)).ToList();
        int tried = 0, rung = 0, rungs = 1;
        while (Math.Pow(Eta, rungs) < alive.Count) rungs++;   // the last rung has at most η settings, at the full round cap
        while (true)
        {
            int rounds = Math.Max(10, (int)(start.MaxRounds / Math.Pow(Eta, rungs - 1 - rung)));
            var scored = new List<(BoostingOptions Options, double Score)>();
            foreach (var (options, _) in alive)
            {
                if (scored.Count > 0 && budget is TimeSpan b && clock.Elapsed > b) break;
                using var trees = BoostingLearner.Grow(library, features, x, y, options with { MaxRounds = rounds }, xValid, yValid);
                scored.Add((options, Metrics.RocAuc(trees.Probabilities(xValid), yValid)));
                if (rung == 0) tried++;
            }
            // Best first; ties keep the earlier (the given settings come first).
            alive = scored.Select((s, i) => (s, i)).OrderByDescending(t => t.s.Score).ThenBy(t => t.i).Select(t => t.s).ToList();
            bool outOfTime = budget is TimeSpan limit && clock.Elapsed > limit;
            if (alive.Count == 1 || rounds >= start.MaxRounds || outOfTime)
            {
                var (best, score) = alive[0];
                return new SearchResult(best, Describe(best, library) + string.Create(CultureInfo.InvariantCulture,
                    $" (best of {tried} by successive halving{(outOfTime ? ", stopped by its time budget" : "")}; validation ROC-AUC {score:0.0000})"), tried);
            }
            alive = alive.Take((alive.Count + Eta - 1) / Eta).ToList();
            rung++;
        }
    }

    /// <summary>The given settings, then <paramref name="trials"/> − 1 distinct draws from the grid (seeded).</summary>
    private static List<BoostingOptions> Candidates(BoostingOptions start, int trials, int seed)
    {
        var list = new List<BoostingOptions> { start };
        var rng = new Random(seed);
        for (int attempt = 0; list.Count < trials && attempt < 50 * trials; attempt++)
        {
            int depth = Depths[rng.Next(Depths.Length)];
            var o = start with
            {
                LearningRate = LearningRates[rng.Next(LearningRates.Length)], MaxDepth = depth, Leaves = Math.Min((1 << depth) - 1, 63),
                MinChildWeight = MinChildWeights[rng.Next(MinChildWeights.Length)], ColumnSample = ColumnSamples[rng.Next(ColumnSamples.Length)],
                Subsample = Subsamples[rng.Next(Subsamples.Length)], L2 = L2s[rng.Next(L2s.Length)],
            };
            if (!list.Contains(o)) list.Add(o);
        }
        return list;
    }

    /// <summary>Settings in words, as the leaderboard shows them.</summary>
    public static string Describe(BoostingOptions o, TreeLibrary library) => string.Create(CultureInfo.InvariantCulture,
        $"learning rate {o.LearningRate}, depth {o.MaxDepth}{(library == TreeLibrary.LightGbm ? $" ({o.Leaves} leaves)" : "")}, min child weight {o.MinChildWeight}, row sample {o.Subsample}, column sample {o.ColumnSample}, L2 {o.L2}");
}
