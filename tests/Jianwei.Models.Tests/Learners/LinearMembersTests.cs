using Jianwei.Data;
using Jianwei.Models.Bundles;

namespace Jianwei.Models.Tests.Learners;

/// <summary>The ensemble's second and third linear members (naive Bayes–scaled texts, binned numbers): each chooses its C, saves, and loads to the same scores.</summary>
public class LinearMembersTests
{
    [Theory]
    [InlineData(TabularLearner.NaiveBayesLogistic, "nb-logistic")]
    [InlineData(TabularLearner.BinnedLogistic, "binned-logistic")]
    public void AMemberChoosesItsCAndRoundTrips(TabularLearner candidate, string name)
    {
        var dir = Directory.CreateTempSubdirectory("jianwei-linear").FullName;
        var path = Path.Combine(dir, "companies.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 5, Labeled: 800, Unlabeled: 0, Language: "en")).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var schema = SchemaInference.Infer(table, "default", "1");
        var y = schema.Labels(table);
        int[] train = Enumerable.Range(0, 600).ToArray(), test = Enumerable.Range(600, 200).ToArray();
        var options = new TabularModelOptions { Learner = TabularLearner.Ensemble, EnsembleFolds = 3, Seed = 1, TuneLogistic = true, EnsembleCandidates = [candidate] };
        using var model = TabularModel.Fit(table, schema, y, train, options);
        var row = Assert.Single(model.Leaderboard);
        Assert.Equal(name, row.Learner);
        Assert.Matches(@"^C \d+(\.\d+)? \(best of 6 on a 20 % holdout; validation ROC-AUC 0\.\d{4}\)$", row.Settings);
        Assert.InRange(row.RocAuc, 0.55, 1);   // out of fold, on 600 companies with about 40 defaults: above chance

        var bundleDir = Path.Combine(dir, "bundle");
        model.Save(bundleDir);
        using var back = TabularModel.Load(bundleDir);
        Assert.Equal(name, Assert.Single(back.Learners).Name);
        Assert.Equal(model.Predict(table, test), back.Predict(table, test));
        Assert.Equal(model.Explain(table, test[..3]), back.Explain(table, test[..3]));
        Directory.Delete(dir, recursive: true);
    }
}
