using Jianwei.Evaluation;
using Jianwei.Models.Learners;
using Jianwei.Models.Neural;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests.Learners;

/// <summary>
/// The FT-Transformer as a bundle learner: it learns what a linear model cannot, its Integrated
/// Gradients add up to the logit's move from the value-free row (completeness), and it saves and loads
/// to the same scores — refusing a weight file that is not finite or smaller than its configuration.
/// </summary>
[Collection("Serial")]
public class FtTransformerLearnerTests
{
    private static readonly FtTransformerOptions Small = new() { Dim = 16, Layers = 1, Heads = 2, MaxEpochs = 25, Patience = 5, BatchSize = 128, LearningRate = 3e-3f, Seed = 1 };

    private static readonly Lazy<(Jianwei.Data.RawTable Table, Jianwei.Data.TableSchema Schema, int[] Y, FtTransformerLearner Learner)> s_fitted = new(() =>
    {
        var (table, schema, y) = FtTransformerTests.Data(3000, 1);
        return (table, schema, y, FtTransformerLearner.Fit(table, schema, y, Enumerable.Range(0, 2500).ToArray(), Small));
    });

    private static readonly int[] Test = Enumerable.Range(2500, 500).ToArray();

    [Fact]
    public void LearnsTheInteractionAndExplainsByIntegratedGradientsThatAddUp()
    {
        var (table, _, y, learner) = s_fitted.Value;
        double auc = Metrics.RocAuc(learner.Predict(table, Test), Test.Select(i => y[i]).ToArray());
        Assert.True(auc > 0.93, $"ROC-AUC {auc}");

        // Completeness: a row's attributions sum to its logit minus the value-free row's (to the Riemann sum's error, small with many steps).
        var inputs = learner.Features.Transform(table, Test[..6]);
        for (int i = 0; i < 6; i++)
        {
            var a = learner.Model.IntegratedGradients(inputs, i, steps: 256);
            Assert.Equal(a.Logit - a.BaselineLogit, a.Features.Sum(), 0.05);
        }
        // The learner's explanation (32 steps): every row's contributions sum to its log-odds less one common baseline.
        var rows = Test[..6];
        var explained = learner.Explain(table, rows, 1);
        var logOdds = learner.Predict(table, rows).Select(LogOdds.Of).ToArray();
        var baselines = rows.Select((_, i) => logOdds[i] - explained[i].Columns.Sum(c => c.Contribution)).ToArray();
        Assert.All(baselines, b => Assert.Equal(baselines[0], b, 0.15));
        Assert.Contains(explained, e => e.Columns.Sum(c => c.Contribution) is var s && Math.Abs(s) > 1);   // the check can fail
        Assert.Equal(["a", "b", "b", "grade"], explained[0].Columns.Select(c => c.Column));                    // b's missing indicator is b's
        // Scaling by the ensemble's weight scales every contribution.
        var half = learner.Explain(table, rows[..1], 0.5)[0].Columns;
        for (int j = 0; j < half.Count; j++) Assert.Equal(0.5 * explained[0].Columns[j].Contribution, half[j].Contribution, 9);
    }

    [Fact]
    public void SavesAndLoadsToTheSameScoresAndRefusesBadWeights()
    {
        var (table, _, _, learner) = s_fitted.Value;
        var dir = Directory.CreateTempSubdirectory("jianwei-ft").FullName;
        var parts = new System.Text.Json.Nodes.JsonObject();
        learner.Save(parts, dir);
        var json = JsonFields.Parse(parts.ToJsonString(), Path.Combine(dir, "tabular.json"));
        var back = FtTransformerLearner.Load(json, dir);
        Assert.Equal(learner.Predict(table, Test), back.Predict(table, Test));

        // A configuration larger than the weights is refused before anything is allocated.
        var big = (System.Text.Json.Nodes.JsonObject)parts.DeepClone();
        big["ft_transformer"]!["dim"] = 4096;
        big["ft_transformer"]!["heads"] = 2;
        var e = Assert.Throws<ModelFormatException>(() => FtTransformerLearner.Load(JsonFields.Parse(big.ToJsonString(), "tabular.json"), dir));
        Assert.Contains("describes a model of at least", e.Message);

        // A weight that is not finite is refused, naming the file and the tensor.
        string path = Path.Combine(dir, FtTransformerLearner.WeightsFile);
        var bytes = File.ReadAllBytes(path);
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, bytes.Length - 4);
        File.WriteAllBytes(path, bytes);
        e = Assert.Throws<ModelFormatException>(() => FtTransformerLearner.Load(json, dir));
        Assert.Contains(FtTransformerLearner.WeightsFile, e.Message);
        Assert.Contains("weights must be finite", e.Message);
        File.Delete(path);
        Assert.Contains("the file is missing", Assert.Throws<ModelFormatException>(() => FtTransformerLearner.Load(json, dir)).Message);
        Directory.Delete(dir, true);
    }
}
