using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Learners;

namespace Jianwei.Models.Tests.Learners;

/// <summary>
/// The boosted trees' tuning search: from settings that cannot fit the data (stumps, few rounds), it
/// finds ones that do; with no time it keeps the settings it was given.
/// </summary>
public class BoostingSearchTests
{
    [Theory]
    [InlineData(TreeLibrary.XGBoost)]
    [InlineData(TreeLibrary.LightGbm)]
    public void FindsSettingsThatFitAnInteractionTheStartCannot(TreeLibrary library)
    {
        // Risk from the sign of a·b (an XOR): depth-1 trees cannot express it.
        var (table, schema, y) = FtTransformerTests.Data(3000, 2);
        int[] train = Enumerable.Range(0, 2400).ToArray(), test = Enumerable.Range(2400, 600).ToArray();
        var stumps = new BoostingOptions { MaxDepth = 1, Leaves = 2, MaxRounds = 90, LearningRate = 0.05, Threads = 2 };
        var result = BoostingSearch.Run(table, schema, y, train, library, stumps, 0, trials: 9, seed: 1, budget: null);
        Assert.Equal(9, result.Tried);
        Assert.True(result.Options.MaxDepth > 1, result.Settings);
        Assert.Contains("best of 9 by successive halving", result.Settings);

        double Auc(BoostingOptions o)
        {
            using var learner = BoostingLearner.Fit(table, schema, y, train, o, 0, 1, library);
            return Metrics.RocAuc(learner.Predict(table, test), test.Select(i => y[i]).ToArray());
        }
        double before = Auc(stumps), after = Auc(result.Options);
        Assert.True(after > before + 0.1, $"tuned {after:F3} vs the start {before:F3}");
    }

    [Fact]
    public void WithNoTimeItKeepsTheSettingsItWasGiven()
    {
        var (table, schema, y) = FtTransformerTests.Data(600, 3);
        var start = new BoostingOptions { MaxRounds = 50, Threads = 2 };
        var result = BoostingSearch.Run(table, schema, y, Enumerable.Range(0, 600).ToArray(), TreeLibrary.XGBoost, start, 0, trials: 12, seed: 0, budget: TimeSpan.Zero);
        Assert.Equal(1, result.Tried);
        Assert.Equal(start, result.Options);
        Assert.Contains("stopped by its time budget", result.Settings);
    }
}
