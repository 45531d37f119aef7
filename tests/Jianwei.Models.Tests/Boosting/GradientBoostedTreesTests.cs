using Jianwei.Evaluation;
using Jianwei.Models.Boosting;

namespace Jianwei.Models.Tests;

public class GradientBoostedTreesTests
{
    private static (DenseMatrix X, int[] Y) Data(int n, int seed) => TreeData.Make(n, seed);
    private static readonly string[] Names = TreeData.Names;
    private static readonly bool[] Cats = TreeData.Categorical;
    private static readonly BoostingOptions Fast = new() { MaxRounds = 300, LearningRate = 0.1, EarlyStoppingRounds = 20, Threads = 2 };

    [Fact]
    public void LearnsStopsEarlyAndExplains()
    {
        var (x, y) = Data(3000, 1);
        var (vx, vy) = Data(1000, 2);
        var (tx, ty) = Data(2000, 3);
        using var model = GradientBoostedTrees.Train(x, y, Fast, vx, vy, Names, Cats);
        var p = model.PredictProbability(tx);
        double auc = Metrics.RocAuc(p.Select(v => (double)v).ToArray(), ty);
        Assert.True(auc > 0.97, $"AUC {auc}");
        Assert.True(model.BestRound < Fast.MaxRounds - 1, "early stopping never triggered");
        Assert.True(model.ValidationCurve.Count <= model.BestRound + Fast.EarlyStoppingRounds + 1);
        Assert.Equal(model.ValidationCurve.Min(), model.ValidationCurve[model.BestRound]);

        // SHAP contributions add up to the log-odds, row by row.
        var margin = model.PredictMargin(tx);
        var contrib = model.PredictContributions(tx);
        for (int i = 0; i < 50; i++)
            Assert.Equal(margin[i], contrib.AsSpan(i * 5, 5).ToArray().Sum(), 3);

        // The informative features carry the gain; the noise feature little.
        var gain = model.GainImportance();
        Assert.True(gain["a"] > 5 * gain.GetValueOrDefault("noise"));
        Assert.True(gain["grade"] > gain.GetValueOrDefault("noise"));
    }

    [Fact]
    public void JsonRoundTripPredictsTheSame()
    {
        var (x, y) = Data(1500, 4);
        using var model = GradientBoostedTrees.Train(x, y, Fast with { MaxRounds = 40 }, featureNames: Names, categorical: Cats);
        var json = model.ToJson();
        Assert.Contains("\"feature_names\"", System.Text.Encoding.UTF8.GetString(json));
        using var back = GradientBoostedTrees.FromJson(json);
        Assert.Equal(Names, back.FeatureNames);
        Assert.Equal(Cats, back.Categorical);
        Assert.Equal(39, back.BestRound);
        Assert.Equal(model.PredictProbability(x), back.PredictProbability(x));
    }

    [Fact]
    public void SameSeedSameModel()
    {
        var (x, y) = Data(1000, 5);
        using var a = GradientBoostedTrees.Train(x, y, Fast with { MaxRounds = 30 }, featureNames: Names, categorical: Cats);
        using var b = GradientBoostedTrees.Train(x, y, Fast with { MaxRounds = 30 }, featureNames: Names, categorical: Cats);
        Assert.Equal(a.ToJson(), b.ToJson());
    }

    [Fact]
    public void PositiveWeightRaisesPredictedRisk()
    {
        var (x, y) = Data(1500, 6);
        using var plain = GradientBoostedTrees.Train(x, y, Fast with { MaxRounds = 50 }, featureNames: Names, categorical: Cats);
        using var weighted = GradientBoostedTrees.Train(x, y, Fast with { MaxRounds = 50, PositiveWeight = 5 }, featureNames: Names, categorical: Cats);
        double a = plain.PredictProbability(x).Average(v => v), b = weighted.PredictProbability(x).Average(v => v);
        Assert.True(b > a + 0.02, $"mean probability {a} unweighted, {b} with positive weight 5");
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var (x, y) = Data(100, 7);
        using var model = GradientBoostedTrees.Train(x, y, Fast with { MaxRounds = 5 }, featureNames: Names, categorical: Cats);
        var e = Assert.Throws<ArgumentException>(() => model.PredictProbability(new DenseMatrix(new float[6], 2, 3)));
        Assert.Contains("4 features", e.Message);
        var bad = (float[])x.Values.Clone();
        bad[3] = 1.5f;
        e = Assert.Throws<ArgumentException>(() => model.PredictProbability(new DenseMatrix(bad, 100, 4)));
        Assert.Contains("'grade'", e.Message);
        Assert.Throws<ArgumentException>(() => GradientBoostedTrees.Train(x, y.Select(v => v * 2).ToArray(), Fast));
        Assert.Throws<ArgumentException>(() => GradientBoostedTrees.Train(x, y, Fast with { EvalMetric = "rmse" }));
    }
}
