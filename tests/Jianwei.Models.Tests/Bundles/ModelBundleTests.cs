using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Learners;
using Jianwei.Models.Bundles;
using Jianwei.Models.Training;

namespace Jianwei.Models.Tests.Bundles;

[Collection("Serial")]   // compares runs bit for bit (see SerialCollection)
public class ModelBundleTests
{
    private static (RawTable Table, TableSchema Schema, int[] Labels, string Path) Data(int rows = 1500, int seed = 1)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-pipe-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "companies.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: seed, Labeled: rows, Unlabeled: 0)).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var schema = SchemaInference.Infer(table, "default", "1");
        int li = table.IndexOf("default");
        return (table, schema, table.Rows.Select(r => r[li] == "1" ? 1 : 0).ToArray(), path);
    }

    [Theory]
    [InlineData(TabularLearner.Logistic)]
    [InlineData(TabularLearner.Boosting)]
    [InlineData(TabularLearner.LightGbm)]
    [InlineData(TabularLearner.Stack)]
    [InlineData(TabularLearner.FtTransformer)]
    public void SavedModelScoresExactlyLikeTheFittedOne(TabularLearner learner)
    {
        var (table, schema, y, path) = Data();
        var train = Enumerable.Range(0, 1200).ToArray();
        var test = Enumerable.Range(1200, 300).ToArray();
        using var model = TabularModel.Fit(table, schema, y, train, new TabularModelOptions { Learner = learner });
        var before = model.Predict(table, test);
        double auc = Evaluation.Metrics.RocAuc(before, test.Select(r => y[r]).ToArray());
        Assert.True(auc > 0.6, $"the model should beat chance on held-out companies (ROC-AUC {auc:F3})");
        var dir = Path.Combine(Path.GetDirectoryName(path)!, "model");
        model.Save(dir);
        using var again = TabularModel.Load(dir);
        Assert.Equal(before, again.Predict(table, test));
        // Columns in another order (a scoring file exported differently) score the same.
        var reordered = new RawTable("reordered", table.Header.Reverse().ToArray(), test.Select(r => table.Rows[r].Reverse().ToArray()).ToList(), test.Select(r => (long)r).ToList());
        Assert.Equal(before, again.Predict(reordered, Enumerable.Range(0, test.Length).ToArray()));
    }

    [Fact]
    public void BoostingReadsTextTermsAndReportsThemUnderTheirColumn()
    {
        var (table, schema, y, _) = Data(1200);
        var train = Enumerable.Range(0, 1000).ToArray();
        var test = Enumerable.Range(1000, 200).ToArray();
        using var withText = TabularModel.Fit(table, schema, y, train, new TabularModelOptions { Learner = TabularLearner.Boosting });
        var columns = schema.Columns.Where(c => c.Role == ColumnRole.Feature).Select(c => c.Name).ToHashSet();
        var reasons = withText.Explain(table, test, top: 1000).SelectMany(r => r).Select(r => r.Feature).ToHashSet();
        Assert.Subset(columns, reasons);                                   // terms are summed into their text column
        Assert.Contains("recruitment", reasons);
        var importance = withText.Importance(table, test);
        Assert.Subset(columns, importance.Keys.ToHashSet());
        Assert.True(importance.Where(kv => kv.Key is "profile" or "recruitment" or "changes").Sum(kv => kv.Value) > 0, "text terms should carry some gain");
        // Zero terms: the table alone, as before.
        using var tableOnly = TabularModel.Fit(table, schema, y, train, new TabularModelOptions { Learner = TabularLearner.Boosting, BoostingTextTerms = 0 });
        Assert.DoesNotContain("recruitment", tableOnly.Importance(table, test).Keys);
    }

    [Fact]
    public void ExplanationsAddUpForTheLogisticModel()
    {
        // Logistic regression: the contributions of all columns plus the intercept are the log-odds.
        var (table, schema, y, _) = Data(800);
        var rows = Enumerable.Range(0, 800).ToArray();
        using var model = TabularModel.Fit(table, schema, y, rows, new TabularModelOptions { Learner = TabularLearner.Logistic });
        var p = model.Predict(table, [5]);
        var all = model.Explain(table, [5], top: 1000)[0];
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-lr-{Guid.NewGuid():N}");
        model.Save(dir);
        double intercept = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tabular.json")))!["logistic"]!["intercept"]!.GetValue<double>();
        Assert.Equal(Math.Log(p[0] / (1 - p[0])), intercept + all.Sum(r => r.Contribution), 4);
        Assert.True(all.Select(r => Math.Abs(r.Contribution)).SequenceEqual(all.Select(r => Math.Abs(r.Contribution)).OrderByDescending(v => v)));
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData(Preset.Fast)]
    [InlineData(Preset.Balanced)]
    public void BundleRoundTripsAndRejectsWhatItCannotRead(Preset preset)
    {
        var (table, schema, _, path) = Data(1000);
        using var bundle = ModelBundle.Train(table, schema, path, new BundleTrainingOptions { Preset = preset });
        Assert.InRange(bundle.Threshold, 0, 1);
        Assert.True(bundle.Metrics["roc_auc"] > 0.55);
        Assert.StartsWith("sha256:", bundle.DataFingerprint);
        var dir = Path.Combine(Path.GetDirectoryName(path)!, "bundle");
        bundle.Save(dir);
        bundle.Save(dir);   // overwriting swaps in a new directory; no leftovers beside it
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetDirectoryName(path)!), d => Path.GetFileName(d).StartsWith('.'));
        var files = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!["files"]!.AsArray().Select(f => f!.GetValue<string>()).ToArray();
        Assert.Equal(preset == Preset.Fast ? ["tabular.json"] : ["tabular.json", "xgboost.json"], files);
        using (var loaded = ModelBundle.Load(dir))
        {
            Assert.Equal(bundle.Threshold, loaded.Threshold);
            Assert.Equal(bundle.Score(table), loaded.Score(table));
            Assert.Equal("company_id", loaded.IdColumn);
        }
        // A table without a feature column: the error names it.
        var idx = table.IndexOf("industry");
        var missing = new RawTable("x.csv", table.Header.Where((_, i) => i != idx).ToArray(), table.Rows.Select(r => r.Where((_, i) => i != idx).ToArray()).ToList(), table.Lines);
        Assert.Contains("industry", Assert.Throws<DataFormatException>(() => bundle.Score(missing)).Message);
        // A newer format version is refused with a clear message.
        var manifest = Path.Combine(dir, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"format_version\": 1", "\"format_version\": 99"));
        Assert.Contains("format_version: 99", Assert.Throws<Jianwei.Models.Serialization.ModelFormatException>(() => ModelBundle.Load(dir)).Message);
        File.WriteAllText(manifest, "{ not json");
        Assert.Contains("manifest.json", Assert.Throws<Jianwei.Models.Serialization.ModelFormatException>(() => ModelBundle.Load(dir)).Message);
    }

    [Fact]
    public void SingleClassLabelsAreAUserError()
    {
        var (table, schema, _, path) = Data(300);
        var e = Assert.Throws<DataFormatException>(() => ModelBundle.Train(table, schema with { PositiveClass = "7" }, path, new BundleTrainingOptions { Preset = Preset.Fast }));
        Assert.Contains("single class", e.Message);
    }

    [Fact]
    public void BestPresetCoPretrainsOnUnlabeledRowsSelectsAmongTheLearnersAndRoundTrips()
    {
        var (table, schema, _, path) = Data(1200);
        // 400 more companies without labels: the best preset co-pretrains on them too.
        int li = table.IndexOf("default");
        var unlabeled = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 9, Labeled: 400, Unlabeled: 0)).Labeled;
        var extraPath = Path.Combine(Path.GetDirectoryName(path)!, "unlabeled.csv");
        SmeDataset.WriteCsv(extraPath, unlabeled, withLabel: true);
        var extra = RawTable.Load(extraPath);
        var combined = new RawTable(table.Source, table.Header, table.Rows.Concat(extra.Rows.Select(r => { var c = (string[])r.Clone(); c[li] = ""; return c; })).ToList(), table.Lines.Concat(extra.Lines).ToList());
        var tiny = new Jianwei.Models.Learners.MultimodalLearnerOptions
        {
            Encoder = new() { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 256 },
            TextBudget = 24, VocabularySize = 1500, PretrainBudget = TimeSpan.FromSeconds(3), FineTune = new() { MaxEpochs = 3, Patience = 2, LearningRate = 2e-3f },
        };
        // No time limit (so the run repeats), 3 folds, a short tuning search: every candidate is fitted.
        var best = new BundleTrainingOptions { Preset = Preset.Best, Multimodal = tiny, Limit = TimeLimit.None, Folds = 3, BoostingTrials = 3 };
        using var bundle = ModelBundle.Train(combined, schema, path, best);
        Assert.Equal(TabularLearner.Ensemble, bundle.Model.Learner);
        Assert.Equal(["logistic", "nb-logistic", "binned-logistic", "lightgbm", "boosting", "ft-transformer", "multimodal"], bundle.Model.Leaderboard.Select(r => r.Learner));
        Assert.All(bundle.Model.Leaderboard, r => Assert.Null(r.Skipped));
        Assert.Matches(@"^co-pretrained \d+ steps in \d+ s on 1,360 rows \(400 unlabeled\)$", bundle.Model.Leaderboard[^1].Settings);
        Assert.Contains("best of 3 by successive halving", bundle.Model.Leaderboard[3].Settings);
        var combiner = bundle.Model.Combiner!;
        Assert.All(combiner.Weights, w => Assert.True(w > 0));                  // members of weight 0 are not kept; none is negative
        if (combiner.Kind == "selection") Assert.Equal(1, combiner.Weights.Sum(), 12);
        Assert.Equal("ensemble", bundle.Training["learner"]!.GetValue<string>());
        Assert.Equal(3, bundle.Training["folds"]!.GetValue<int>());
        Assert.Equal(400, bundle.Training["unlabeled_rows"]!.GetValue<int>());
        Assert.Equal(960, bundle.Training["train_rows"]!.GetValue<int>());   // 80 % of the 1,200 labeled rows; unlabeled rows never reach fine-tuning
        Assert.InRange(bundle.Metrics["roc_auc"], 0, 1);
        // Beats chance on 4,000 companies it never saw. The bundle's own validation AUC rests on 240 rows
        // with ~17 defaults (standard error ≈ 0.07), too few to hold a threshold against; here it is ≈ 0.017.
        var (fresh, _, freshLabels, _) = Data(4000, seed: 5);
        double freshAuc = Evaluation.Metrics.RocAuc(bundle.Model.Predict(fresh, Enumerable.Range(0, 4000).ToArray()), freshLabels);
        Assert.True(freshAuc > 0.6, $"ROC-AUC on fresh companies {freshAuc:F3} (validation {bundle.Metrics["roc_auc"]:F3})");

        var dir = Path.Combine(Path.GetDirectoryName(path)!, "bundle");
        bundle.Save(dir);
        var files = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!["files"]!.AsArray().Select(f => f!.GetValue<string>()).ToArray();
        foreach (var kept in bundle.Model.Learners.Where(l => l.Name is not ("logistic" or "nb-logistic" or "binned-logistic")))   // the linear members are their fields alone
            Assert.Contains(files, f => f.StartsWith($"{kept.Name}-fold-3/", StringComparison.Ordinal));
        var scoreRows = Enumerable.Range(0, 200).ToArray();
        var before = bundle.Model.Predict(table, scoreRows);
        using (var loaded = ModelBundle.Load(dir))
            Assert.Equal(before, loaded.Model.Predict(table, scoreRows));
        var importance = bundle.Model.Importance(table, scoreRows, scoreRows.Select(r => table.Rows[r][li] == "1" ? 1 : 0).ToArray(), permutationRows: 200);
        Assert.Equal(1, importance.Values.Sum(), 6);
        Assert.Contains("debt_ratio", importance.Keys);
    }

    [Fact]
    public void TheMultimodalCandidateExplainsEachTextPieceThroughTheEnsemble()
    {
        var (table, schema, _, path) = Data(600);
        var tiny = new Jianwei.Models.Learners.MultimodalLearnerOptions
        {
            Encoder = new() { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 256 },
            TextBudget = 24, VocabularySize = 1500, PretrainBudget = TimeSpan.FromSeconds(2), FineTune = new() { MaxEpochs = 2, Patience = 2, LearningRate = 2e-3f },
        };
        using var bundle = ModelBundle.Train(table, schema, path, new BundleTrainingOptions
        {
            Preset = Preset.Best, Multimodal = tiny, Limit = TimeLimit.None, Folds = 2, Candidates = [TabularLearner.Multimodal],
        });
        var member = Assert.Single(bundle.Model.Learners);
        Assert.Equal(2, ((BaggedLearner)member).Folds.Count);
        int li = table.IndexOf("default");
        var dir = Path.Combine(Path.GetDirectoryName(path)!, "bundle");
        bundle.Save(dir);
        var files = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!["files"]!.AsArray().Select(f => f!.GetValue<string>()).ToArray();
        Assert.Equal(["multimodal-fold-1/multimodal/config.json", "multimodal-fold-1/multimodal/model.safetensors", "multimodal-fold-1/multimodal/multimodal_data.json",
                      "multimodal-fold-1/multimodal/vocab.txt", "multimodal-fold-2/multimodal/config.json", "multimodal-fold-2/multimodal/model.safetensors",
                      "multimodal-fold-2/multimodal/multimodal_data.json", "multimodal-fold-2/multimodal/vocab.txt", "tabular.json"], files);
        var scoreRows = Enumerable.Range(0, 200).ToArray();
        var before = bundle.Model.Predict(table, scoreRows);
        using (var loaded = ModelBundle.Load(dir))
            Assert.Equal(before, loaded.Model.Predict(table, scoreRows));

        // Explanations: reasons over columns, and each text column's pieces in reading order.
        var explained = bundle.Model.ExplainRows(table, [3, 4], top: 100);
        foreach (var (e, row) in explained.Zip(new[] { 3, 4 }))
        {
            Assert.NotNull(e.Tokens);
            Assert.Equal(["profile", "recruitment", "changes"], e.Tokens!.Keys.ToArray());
            var profile = table.Rows[row][table.IndexOf("profile")];
            // The pieces within the text budget, then "…" for the words past it that the keyword channel read.
            Assert.Equal(Jianwei.Models.Learners.MultimodalLearner.BeyondBudget, e.Tokens["profile"][^1].Text);
            var read = string.Concat(e.Tokens["profile"].SkipLast(1).Select(t => t.Text)).Replace(" ", "");
            Assert.NotEmpty(read);
            Assert.StartsWith(read, profile.Replace(" ", "").ToLowerInvariant());
            // The pieces of both fold models, added: they sum to the column's contribution.
            Assert.Equal(e.Reasons.Single(r => r.Feature == "profile").Contribution, e.Tokens["profile"].Sum(t => t.Contribution), 6);
        }
        var importance = bundle.Model.Importance(table, scoreRows, scoreRows.Select(r => table.Rows[r][li] == "1" ? 1 : 0).ToArray(), permutationRows: 200);
        Assert.Equal(1, importance.Values.Sum(), 6);
        Assert.Contains("profile", importance.Keys);
        Assert.Contains("debt_ratio", importance.Keys);
    }
}
