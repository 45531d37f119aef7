using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Bundles;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;

namespace Jianwei.Models.Tests.Learners;

/// <summary>
/// The learners behind <see cref="ILearner"/>: their explanations add up to their own log-odds (the
/// bias cancels between two rows), a stack's explanation is its learners' scaled by the stacker's
/// weights, and a stacker that would weigh a learner negatively keeps the better one alone.
/// </summary>
public class LearnerTests
{
    private static readonly Lazy<(RawTable Table, TableSchema Schema, int[] Labels)> s_data = new(() =>
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("jianwei-learners").FullName, "companies.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 3, Labeled: 900, Unlabeled: 0, Language: "en")).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var schema = SchemaInference.Infer(table, "default", "1");
        return (table, schema, schema.Labels(table));
    });

    private static readonly int[] Train = Enumerable.Range(0, 700).ToArray();
    private static readonly int[] Rows = Enumerable.Range(700, 40).ToArray();

    /// <summary>
    /// For every pair of rows, the difference of their log-odds equals the difference of their summed
    /// contributions (exactly for logistic regression, to float rounding for XGBoost's SHAP).
    /// </summary>
    private static void AssertAdditive(ILearner learner, double tolerance)
    {
        var (table, _, _) = s_data.Value;
        var logOdds = learner.Predict(table, Rows).Select(p => Math.Log(p / (1 - p))).ToArray();
        var sums = learner.Explain(table, Rows, 1).Select(e => e.Columns.Sum(c => c.Contribution)).ToArray();
        for (int i = 1; i < Rows.Length; i++)
            Assert.Equal(logOdds[i] - logOdds[0], sums[i] - sums[0], tolerance);
        Assert.Contains(sums, s => Math.Abs(s - sums[0]) > 0.1);   // the rows differ, so the check can fail
    }

    [Fact]
    public void LogisticExplanationsAddUpToTheLogOdds()
    {
        var (table, schema, y) = s_data.Value;
        using var learner = LogisticLearner.Fit(table, schema, y, Train);
        AssertAdditive(learner, 1e-9);
        Assert.Equal("logistic", learner.Name);
    }

    [Fact]
    public void BoostingExplanationsAddUpToTheLogOdds()
    {
        var (table, schema, y) = s_data.Value;
        using var learner = BoostingLearner.Fit(table, schema, y, Train, new BoostingOptions { MaxRounds = 60, Threads = 1 }, textTerms: 20, seed: 0);
        AssertAdditive(learner, 1e-4);
    }

    [Fact]
    public void LightGbmExplanationsAddUpToTheLogOdds()
    {
        var (table, schema, y) = s_data.Value;
        using var learner = BoostingLearner.Fit(table, schema, y, Train, new BoostingOptions { MaxRounds = 60, Threads = 1 }, textTerms: 20, seed: 0, TreeLibrary.LightGbm);
        AssertAdditive(learner, 1e-9);
        Assert.Equal("lightgbm", learner.Name);
    }

    [Fact]
    public void ScaledExplanationsAreScaled()
    {
        var (table, schema, y) = s_data.Value;
        using var learner = LogisticLearner.Fit(table, schema, y, Train);
        var once = learner.Explain(table, Rows[..3], 1);
        var scaled = learner.Explain(table, Rows[..3], -2.5);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(once[i].Columns.Select(c => c.Column), scaled[i].Columns.Select(c => c.Column));
            foreach (var (a, b) in once[i].Columns.Zip(scaled[i].Columns)) Assert.Equal(-2.5 * a.Contribution, b.Contribution, 1e-12);
        }
    }

    [Fact]
    public void StackExplanationIsTheWeightedSumOfItsLearners()
    {
        var (table, schema, y) = s_data.Value;
        using var model = TabularModel.Fit(table, schema, y, Train, new TabularModelOptions { Learner = TabularLearner.Stack, StackFolds = 3, Boosting = new() { MaxRounds = 60, Threads = 1 } });
        Assert.Equal(["logistic", "boosting"], model.Learners.Select(l => l.Name));
        var explained = model.ExplainRows(table, Rows[..5], top: 1000);
        for (int l = 0; l < 2; l++) Assert.True(model.Combiner!.Weights[l] != 0);
        for (int i = 0; i < 5; i++)
        {
            var expected = new Dictionary<string, double>();
            for (int l = 0; l < 2; l++)
                foreach (var (column, value) in model.Learners[l].Explain(table, [Rows[i]], model.Combiner!.Weights[l])[0].Columns)
                    expected[column] = expected.GetValueOrDefault(column) + value;
            foreach (var reason in explained[i].Reasons) Assert.Equal(expected[reason.Feature], reason.Contribution, 1e-12);
            Assert.Equal(expected.Count(kv => kv.Value != 0), explained[i].Reasons.Length);
        }
    }

    [Fact]
    public void NonNegativeStackerDropsALearnerWhoseWeightWouldBeNegative()
    {
        // Learner 0 ranks the labels; learner 1 ranks them backwards: a free stacker gives it a negative weight.
        var rng = new Random(1);
        var labels = Enumerable.Range(0, 400).Select(i => i % 3 == 0 ? 1 : 0).ToArray();
        double[] good = labels.Select(l => Math.Clamp(0.3 + 0.4 * l + 0.2 * (rng.NextDouble() - 0.5), 0.01, 0.99)).ToArray();
        double[] backwards = labels.Select(l => Math.Clamp(0.7 - 0.3 * l + 0.3 * (rng.NextDouble() - 0.5), 0.01, 0.99)).ToArray();
        Assert.True(LogisticStacker.Fit([good, backwards], labels).Weights[1] < 0);
        var positive = LogisticStacker.FitNonNegative([good, backwards], labels);
        Assert.True(positive.Weights[0] > 0);
        Assert.Equal(0, positive.Weights[1]);
        var p = positive.Predict([good, backwards]);
        Assert.Equal(Evaluation.Metrics.RocAuc(good, labels), Evaluation.Metrics.RocAuc(p, labels), 12);   // the good learner's ranking, rescaled
    }
}
