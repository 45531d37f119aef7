using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Logistic;
using Jianwei.Models.Neural;

namespace Jianwei.Models.Tests;

[Collection("Serial")]
public class FtTransformerTests
{
    /// <summary>Risk from an interaction (a·b &gt; 0, an XOR in signs) and a risky category; a linear model cannot fit the XOR.</summary>
    internal static (RawTable Table, TableSchema Schema, int[] Y) Data(int n, int seed)
    {
        var r = new Random(seed);
        var rows = new List<string[]>(); var y = new int[n];
        string[] grades = ["A", "B", "C", "D"];
        for (int i = 0; i < n; i++)
        {
            double a = r.NextDouble() * 2 - 1, b = r.NextDouble() * 2 - 1;
            string g = grades[r.Next(4)];
            double z = 3 * Math.Sign(a * b) + (g == "D" ? 1.5 : 0) - 0.5 + 0.5 * (r.NextDouble() - 0.5);
            y[i] = z > 0 ? 1 : 0;
            rows.Add([a.ToString("R", System.Globalization.CultureInfo.InvariantCulture), r.NextDouble() < 0.05 ? "NA" : b.ToString("R", System.Globalization.CultureInfo.InvariantCulture), g]);
        }
        var table = new RawTable("synthetic", ["a", "b", "grade"], rows, Enumerable.Range(2, n).Select(i => (long)i).ToList());
        var schema = new TableSchema { Columns = [new("a", ColumnRole.Feature, ColumnType.Numeric), new("b", ColumnRole.Feature, ColumnType.Numeric), new("grade", ColumnRole.Feature, ColumnType.Categorical)] };
        return (table, schema, y);
    }

    private static readonly FtTransformerOptions Small = new() { Dim = 16, Layers = 1, Heads = 2, MaxEpochs = 25, Patience = 5, BatchSize = 128, LearningRate = 3e-3f, Seed = 1 };

    [Fact]
    public void LearnsAnInteractionThatALinearModelCannot()
    {
        var (table, schema, y) = Data(3000, 1);
        int[] train = Enumerable.Range(0, 2000).ToArray(), valid = Enumerable.Range(2000, 500).ToArray(), test = Enumerable.Range(2500, 500).ToArray();
        var features = TokenFeatures.Fit(table, schema, train);
        Assert.Equal(3, features.NumericCount);   // a, b and b's missing indicator
        var model = new FtTransformer(features.NumericCount, features.CategorySizes, Small);
        model.Fit(features.Transform(table, train), train.Select(i => y[i]).ToArray(), features.Transform(table, valid), valid.Select(i => y[i]).ToArray());
        double auc = Metrics.RocAuc(model.PredictProbability(features.Transform(table, test)), test.Select(i => y[i]).ToArray());

        var linear = LinearFeatures.Fit(table, schema, train);
        var lr = LogisticRegression.Fit(linear.Transform(table, train), train.Select(i => y[i]).ToArray());
        double lrAuc = Metrics.RocAuc(lr.PredictProbability(linear.Transform(table, test)), test.Select(i => y[i]).ToArray());
        Assert.True(auc > 0.93, $"FT-Transformer AUC {auc}");
        Assert.True(auc > lrAuc + 0.15, $"FT-Transformer {auc} vs logistic regression {lrAuc}");
        Assert.Equal(model.ValidationCurve.Max(), Metrics.RocAuc(model.PredictProbability(features.Transform(table, valid)), valid.Select(i => y[i]).ToArray()), 9);   // best epoch restored
    }

    [Fact]
    public void PiecewiseLinearNumericsLearnToo()
    {
        var (table, schema, y) = Data(3000, 4);
        int[] train = Enumerable.Range(0, 2000).ToArray(), valid = Enumerable.Range(2000, 500).ToArray(), test = Enumerable.Range(2500, 500).ToArray();
        var features = TokenFeatures.Fit(table, schema, train, piecewiseBins: 8);
        Assert.Equal(8, features.NumericWidth);
        var inputs = features.Transform(table, test);
        Assert.Equal(500 * 3 * 8, inputs.Numeric.Length);
        var model = new FtTransformer(features.NumericCount, features.CategorySizes, Small, numericWidth: 8);
        model.Fit(features.Transform(table, train), train.Select(i => y[i]).ToArray(), features.Transform(table, valid), valid.Select(i => y[i]).ToArray());
        double auc = Metrics.RocAuc(model.PredictProbability(inputs), test.Select(i => y[i]).ToArray());
        Assert.True(auc > 0.93, $"FT-Transformer with piecewise-linear numerics: AUC {auc}");
        Assert.Throws<ArgumentException>(() => new FtTransformer(features.NumericCount, features.CategorySizes, Small).PredictProbability(inputs));
    }

    [Fact]
    public void EveryParameterGetsAGradientAndRunsRepeat()
    {
        var (table, schema, y) = Data(400, 2);
        var rows = Enumerable.Range(0, 400).ToArray();
        var features = TokenFeatures.Fit(table, schema, rows);
        var inputs = features.Transform(table, rows);
        double[] Run()
        {
            var m = new FtTransformer(features.NumericCount, features.CategorySizes, Small with { MaxEpochs = 2 });
            m.Fit(inputs, y, inputs, y);
            return m.PredictProbability(inputs);
        }
        Assert.Equal(Run(), Run());

        // After training, the last step's gradients are still in place: every parameter must have one.
        var model = new FtTransformer(features.NumericCount, features.CategorySizes, Small with { MaxEpochs = 1 });
        model.Fit(inputs, y, inputs, y);
        foreach (var (name, p) in model.NamedParameters()) Assert.True(p.Grad is not null && p.Grad.Data.ToArray().Any(v => v != 0), $"{name} got no gradient");
    }
}
