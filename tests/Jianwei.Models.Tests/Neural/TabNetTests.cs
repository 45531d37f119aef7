using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Neural;

namespace Jianwei.Models.Tests;

public class TabNetTests
{
    /// <summary>Risk from a, −b and grade D; "noise" carries nothing.</summary>
    private static (RawTable Table, TableSchema Schema, int[] Y) Data(int n, int seed)
    {
        var r = new Random(seed);
        var rows = new List<string[]>(); var y = new int[n];
        string[] grades = ["A", "B", "C", "D"];
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        for (int i = 0; i < n; i++)
        {
            double a = r.NextDouble() * 2 - 1, b = r.NextDouble() * 2 - 1, noise = r.NextDouble();
            string g = grades[r.Next(4)];
            double z = 3 * a - 2 * b + (g == "D" ? 1.5 : 0) - 0.5 + 0.8 * (r.NextDouble() - 0.5);
            y[i] = z > 0 ? 1 : 0;
            rows.Add([a.ToString("R", inv), b.ToString("R", inv), noise.ToString("R", inv), g]);
        }
        var table = new RawTable("synthetic", ["a", "b", "noise", "grade"], rows, Enumerable.Range(2, n).Select(i => (long)i).ToList());
        var schema = new TableSchema { Columns = [new("a", ColumnRole.Feature, ColumnType.Numeric), new("b", ColumnRole.Feature, ColumnType.Numeric), new("noise", ColumnRole.Feature, ColumnType.Numeric), new("grade", ColumnRole.Feature, ColumnType.Categorical)] };
        return (table, schema, y);
    }

    private static readonly TabNetOptions Small = new() { MaxEpochs = 40, Patience = 8, BatchSize = 256, VirtualBatch = 64, Seed = 2 };

    [Fact]
    public void LearnsAndExplainsWithSparseMasks()
    {
        var (table, schema, y) = Data(3000, 1);
        int[] train = Enumerable.Range(0, 2000).ToArray(), valid = Enumerable.Range(2000, 500).ToArray(), test = Enumerable.Range(2500, 500).ToArray();
        var f = TokenFeatures.Fit(table, schema, train);
        var model = new TabNet(f.NumericCount, f.CategorySizes, Small);
        model.Fit(f.Transform(table, train), train.Select(i => y[i]).ToArray(), f.Transform(table, valid), valid.Select(i => y[i]).ToArray());
        double auc = Metrics.RocAuc(model.PredictProbability(f.Transform(table, test)), test.Select(i => y[i]).ToArray());
        Assert.True(auc > 0.9, $"TabNet AUC {auc}");
        var importance = model.Explain(f.Transform(table, test));
        Assert.All(importance, row => Assert.Equal(1f, row.Sum(), 3));
        double Mean(int j) => importance.Average(row => row[j]);
        Assert.True(Mean(0) > Mean(2) && Mean(1) > Mean(2), $"importance a {Mean(0)}, b {Mean(1)}, noise {Mean(2)}");
    }

    [Fact]
    public void PretrainingLowersReconstructionLossAndFineTuningStartsFromIt()
    {
        var (table, schema, y) = Data(2000, 3);
        int[] train = Enumerable.Range(0, 1500).ToArray(), valid = Enumerable.Range(1500, 500).ToArray();
        var f = TokenFeatures.Fit(table, schema, train);
        var model = new TabNet(f.NumericCount, f.CategorySizes, Small with { Ranger = true });
        model.Pretrain(f.Transform(table, train), f.Transform(table, valid), maxEpochs: 15);
        Assert.True(model.PretrainingCurve.Min() < model.PretrainingCurve[0], $"pretraining curve {string.Join(", ", model.PretrainingCurve)}");
        model.Fit(f.Transform(table, train), train.Select(i => y[i]).ToArray(), f.Transform(table, valid), valid.Select(i => y[i]).ToArray());
        Assert.True(model.ValidationCurve.Max() > 0.85, $"fine-tuned AUC {model.ValidationCurve.Max()}");
    }
}
