using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests;

/// <summary>LightGBM through its C API: it learns, stops early, explains additively, saves and loads exactly, repeats bit for bit, and refuses a bad model file.</summary>
public class LightGbmTreesTests
{
    private static (DenseMatrix X, int[] Y) Data(int n, int seed) => TreeData.Make(n, seed);
    private static readonly string[] Names = TreeData.Names;
    private static readonly bool[] Cats = TreeData.Categorical;
    private static readonly BoostingOptions Fast = new() { MaxRounds = 400, LearningRate = 0.1, EarlyStoppingRounds = 20, Threads = 2 };

    [Fact]
    public void LearnsStopsEarlyAndExplainsAdditively()
    {
        var (x, y) = Data(3000, 1);
        var (vx, vy) = Data(1000, 2);
        var (tx, ty) = Data(2000, 3);
        using var model = LightGbmTrees.Train(x, y, Fast, vx, vy, Names, Cats);
        double auc = Metrics.RocAuc(model.PredictProbability(tx), ty);
        Assert.True(auc > 0.97, $"AUC {auc}");
        Assert.True(model.BestRound < Fast.MaxRounds - 1, "early stopping never triggered");
        Assert.True(model.ValidationCurve.Count <= model.BestRound + Fast.EarlyStoppingRounds + 1);
        Assert.Equal(model.ValidationCurve.Min(), model.ValidationCurve[model.BestRound]);

        // The kept model is the best round's: its validation log loss is the curve's minimum.
        var pv = model.PredictProbability(vx);
        Assert.Equal(model.ValidationCurve[model.BestRound], Metrics.LogLoss(pv, vy), 6);

        // SHAP contributions add up to the log-odds, and the log-odds are the probabilities'.
        var margin = model.PredictMargin(tx);
        var p = model.PredictProbability(tx);
        var contrib = model.PredictContributions(tx);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(margin[i], contrib.AsSpan(i * 5, 5).ToArray().Sum(), 9);
            Assert.Equal(p[i], 1 / (1 + Math.Exp(-margin[i])), 12);
        }
        var gain = model.GainImportance();
        Assert.True(gain["a"] > 5 * gain.GetValueOrDefault("noise"));
        Assert.True(gain["grade"] > gain.GetValueOrDefault("noise"));
    }

    [Fact]
    public void TextRoundTripPredictsTheSameAndRunsRepeat()
    {
        var (x, y) = Data(1500, 4);
        var (vx, vy) = Data(500, 5);
        using var model = LightGbmTrees.Train(x, y, Fast, vx, vy, Names, Cats);
        using var again = LightGbmTrees.Train(x, y, Fast, vx, vy, Names, Cats);
        var (tx, _) = Data(300, 6);
        Assert.Equal(model.PredictProbability(tx), again.PredictProbability(tx));   // deterministic=true, column-wise histograms
        using var back = LightGbmTrees.FromText(model.ToText(), Names, Cats);
        Assert.Equal(model.PredictProbability(tx), back.PredictProbability(tx));
        Assert.Equal(model.PredictContributions(tx), back.PredictContributions(tx));
        Assert.Equal(model.BestRound, back.BestRound);
    }

    [Fact]
    public void BadModelFilesAreRefusedWithTheFileNamed()
    {
        var (x, y) = Data(500, 7);
        using var model = LightGbmTrees.Train(x, y, Fast with { MaxRounds = 10 }, featureNames: Names, categorical: Cats);
        var text = model.ToText();
        var e = Assert.Throws<ModelFormatException>(() => LightGbmTrees.FromText("not a model"u8.ToArray(), Names, Cats, "m/lightgbm.txt"));
        Assert.StartsWith("m/lightgbm.txt", e.Message);
        e = Assert.Throws<ModelFormatException>(() => LightGbmTrees.FromText(text, ["a", "b", "noise"], [false, false, false], "m/lightgbm.txt"));
        Assert.Contains("max_feature_idx: '3'; the model reads 3 features", e.Message);
        Assert.Throws<ModelFormatException>(() => LightGbmTrees.FromText([.. text[..100], 0, .. text[100..]], Names, Cats, "m/lightgbm.txt"));
    }
}
