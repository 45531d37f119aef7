using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Learners;

namespace Jianwei.Models.Tests.Learners;

/// <summary>The logistic regression's C search: with many noise columns and few rows it regularizes harder than C = 1, and gains on new rows.</summary>
public class LogisticSearchTests
{
    /// <summary>Two informative numbers among 300 noise ones.</summary>
    private static (RawTable Table, TableSchema Schema, int[] Y) Noisy(int n, int seed)
    {
        var r = new Random(seed);
        var header = Enumerable.Range(0, 302).Select(j => $"x{j}").ToList();
        var rows = new List<string[]>(); var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            var v = Enumerable.Range(0, 302).Select(_ => r.NextDouble() * 2 - 1).ToArray();
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-(1.5 * v[0] - 1.5 * v[1]))) ? 1 : 0;
            rows.Add(v.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        var table = new RawTable("synthetic", header, rows, Enumerable.Range(2, n).Select(i => (long)i).ToList());
        return (table, new TableSchema { Columns = header.Select(h => new ColumnSchema(h, ColumnRole.Feature, ColumnType.Numeric)).ToArray() }, y);
    }

    [Fact]
    public void ChoosesAStrongerPenaltyWhenNoiseOutnumbersSignal()
    {
        var (table, schema, y) = Noisy(2300, 4);
        int[] train = Enumerable.Range(0, 300).ToArray(), test = Enumerable.Range(300, 2000).ToArray();
        var (c, settings) = LogisticSearch.Run(table, schema, y, train, seed: 0, budget: null);
        Assert.True(c < 1, settings);
        Assert.Contains("best of 6 on a 20 % holdout", settings);
        double Auc(double strength) => Metrics.RocAuc(LogisticLearner.Fit(table, schema, y, train, strength).Predict(table, test), test.Select(i => y[i]).ToArray());
        Assert.True(Auc(c) > Auc(1) + 0.005, $"C {c}: {Auc(c):F4} vs C 1: {Auc(1):F4}");
        // Without time it keeps scikit-learn's default.
        var (kept, why) = LogisticSearch.Run(table, schema, y, train, seed: 0, budget: TimeSpan.Zero);
        Assert.Equal(1, kept);
        Assert.Contains("stopped by its time budget", why);
    }
}
