using System.Text.Json;
using Jianwei.Data;
using static Jianwei.Cli.Tests.Cli;

namespace Jianwei.Cli.Tests;

/// <summary>The train → predict → evaluate → explain contract, in process, as a user would run it.</summary>
public sealed class ModelCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"jianwei-cli-{Guid.NewGuid():N}");

    public ModelCommandTests()
    {
        Directory.CreateDirectory(_dir);
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 2, Labeled: 1200, Unlabeled: 0));
        SmeDataset.WriteCsv(Path.Combine(_dir, "train.csv"), ds.Labeled.Take(1000).ToList(), withLabel: true);
        SmeDataset.WriteCsv(Path.Combine(_dir, "test.csv"), ds.Labeled.Skip(1000).ToList(), withLabel: true);
        SmeDataset.WriteCsv(Path.Combine(_dir, "new.csv"), ds.Labeled.Skip(1000).Take(20).ToList(), withLabel: false);
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void BestPresetWithoutTextTrainsTheValidatedEnsembleAndPrintsItsLeaderboard()
    {
        // The table's numbers and categories only: the best preset is then the ensemble of LR, LightGBM, XGBoost and the FT-Transformer.
        var table = RawTable.Load(P("train.csv"));
        var keep = Enumerable.Range(0, table.Header.Count).Where(c => table.Header[c] is not ("profile" or "recruitment" or "changes")).ToArray();
        var csv = new System.Text.StringBuilder(CsvFormat.Line(keep.Select(c => table.Header[c])));
        foreach (var row in table.Rows) csv.Append(CsvFormat.Line(keep.Select(c => row[c])));
        File.WriteAllText(P("numbers.csv"), csv.ToString());
        var (code, output, err) = Run("train", P("numbers.csv"), "--label", "default", "--out", P("ensemble"), "--preset", "best");
        Assert.True(code == 0, err);
        Assert.Contains("leaderboard (out-of-fold on the training rows; combined by ", output);
        foreach (var learner in new[] { "logistic", "lightgbm", "boosting", "ft-transformer" }) Assert.Matches($@"\n  {learner} +0\.\d{{4}} ", output);
        var manifest = JsonDocument.Parse(File.ReadAllText(P("ensemble/manifest.json"))).RootElement.GetProperty("training");
        Assert.Equal("ensemble", manifest.GetProperty("learner").GetString());
        Assert.Equal(600, manifest.GetProperty("time_limit_seconds").GetDouble());   // the best preset's default
        Assert.Equal(5, manifest.GetProperty("folds").GetInt32());                  // chosen by that limit
        var candidates = manifest.GetProperty("leaderboard").GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(["logistic", "nb-logistic", "binned-logistic", "lightgbm", "boosting", "ft-transformer", "multimodal"], candidates.Select(c => c.GetProperty("learner").GetString()));
        foreach (int skipped in new[] { 1, 6 }) Assert.Equal("the table has no text column", candidates[skipped].GetProperty("skipped").GetString());   // never dropped silently
        Assert.Contains("\n  multimodal       skipped: the table has no text column", output);
        Assert.Contains("\n  nb-logistic      skipped: the table has no text column", output);
        Assert.Contains("by successive halving", candidates[3].GetProperty("settings").GetString());
        var kept = candidates.Where(c => c.GetProperty("weight").GetDouble() != 0).Select(c => c.GetProperty("learner").GetString()).ToList();
        // It scores and explains like any bundle.
        (code, _, err) = Run("predict", P("ensemble"), P("numbers.csv"), "--out", P("ensemble-scores.csv"));
        Assert.True(code == 0, err);
        (code, output, err) = Run("explain", P("ensemble"), P("numbers.csv"), "--rows", "2");
        Assert.True(code == 0, err);
        Assert.Contains("probability", output);

        // `leaderboard`: the recorded one equals the manifest's; on labeled rows, the combined line is `evaluate`'s.
        (code, output, err) = Run("leaderboard", P("ensemble"), "--json");
        Assert.True(code == 0, err);
        var recorded = JsonDocument.Parse(output).RootElement.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(7, recorded.Count);
        Assert.Equal(JsonValueKind.Null, recorded[^1].GetProperty("roc_auc").ValueKind);   // skipped: no score
        foreach (var c in candidates.Where(c => !c.TryGetProperty("skipped", out _)))
            Assert.Equal(c.GetProperty("roc_auc").GetDouble(), recorded.Single(m => m.GetProperty("learner").GetString() == c.GetProperty("learner").GetString()).GetProperty("roc_auc").GetDouble(), 6);
        (code, output, err) = Run("leaderboard", P("ensemble"), P("numbers.csv"), "--json");
        Assert.True(code == 0, err);
        var scored = JsonDocument.Parse(output).RootElement.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal([.. kept, "combined"], scored.Select(m => m.GetProperty("learner").GetString()));   // the members of weight 0 are not in the bundle
        (code, output, err) = Run("evaluate", P("ensemble"), P("numbers.csv"), "--json");
        Assert.True(code == 0, err);
        Assert.Equal(JsonDocument.Parse(output).RootElement.GetProperty("metrics").GetProperty("roc_auc").GetDouble(), scored[^1].GetProperty("roc_auc").GetDouble(), 12);
        (code, output, err) = Run("leaderboard", P("ensemble"));
        Assert.True(code == 0, err);
        Assert.Contains("out-of-fold on the training rows; combined by ", output);
        (code, _, err) = Run("evaluate", P("ensemble"), P("numbers.csv"), "--report", P("ensemble.html"));
        Assert.True(code == 0, err);
        var html = File.ReadAllText(P("ensemble.html"));
        Assert.Contains("<h2>Ensemble leaderboard</h2>", html);
        Assert.Contains("<td class='l'>lightgbm</td>", html);
        Assert.Contains("<td class='l'>ft-transformer</td>", html);
    }

    [Fact]
    public void TrainPredictEvaluateExplain()
    {
        var (code, output, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("model"), "--preset", "fast", "--json");
        Assert.True(code == 0, err);
        var trained = JsonDocument.Parse(output).RootElement;
        Assert.InRange(trained.GetProperty("metrics").GetProperty("roc_auc").GetDouble(), 0.55, 1);
        Assert.True(File.Exists(P("model/manifest.json")));

        (code, output, err) = Run("predict", P("model"), P("new.csv"), "--out", P("scores.csv"));
        Assert.True(code == 0, err);
        var scores = RawTable.Load(P("scores.csv"));
        Assert.Equal(["company_id", "probability", "label"], scores.Header);
        Assert.Equal(20, scores.RowCount);
        Assert.All(scores.Rows, r => Assert.InRange(double.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture), 0, 1));
        Assert.Equal(RawTable.Load(P("new.csv")).Rows.Select(r => r[0]), scores.Rows.Select(r => r[0]));

        (code, output, err) = Run("evaluate", P("model"), P("test.csv"), "--label", "default", "--report", P("report.html"), "--json");
        Assert.True(code == 0, err);
        var evaluated = JsonDocument.Parse(output).RootElement.GetProperty("metrics");
        Assert.Equal(200, evaluated.GetProperty("rows").GetDouble());
        var html = File.ReadAllText(P("report.html"));
        foreach (var part in new[] { "ROC curve", "Precision–recall", "KS = ", "Calibration", "Score distribution", "Confusion matrix", "Feature importance", "sample rows explained" })
            Assert.Contains(part, html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));

        (code, output, err) = Run("explain", P("model"), P("new.csv"), "--rows", "3");
        Assert.True(code == 0, err);
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains("probability")));
    }

    [Fact]
    public void UserErrorsExitWithTwoAndOneLine()
    {
        var (code, _, err) = Run("train", P("train.csv"), "--label", "nope", "--out", P("m"));
        Assert.Equal(2, code);
        Assert.Contains("nope", err);
        Assert.Single(err.Trim().Split('\n'));

        (code, _, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "turbo");
        Assert.Equal(2, code);
        Assert.Contains("--preset: 'turbo'", err);

        (code, _, err) = Run("predict", P("no-such-bundle"), P("new.csv"), "--out", P("s.csv"));
        Assert.Equal(2, code);
        Assert.Contains("no-such-bundle", err);

        Assert.Equal(0, Run("train", P("train.csv"), "--label", "default", "--out", P("model"), "--preset", "fast").Code);
        var table = RawTable.Load(P("new.csv"));
        File.WriteAllText(P("broken.csv"), string.Join(",", table.Header.Where(h => h != "debt_ratio")) + "\n");
        (code, _, err) = Run("predict", P("model"), P("broken.csv"), "--out", P("s.csv"));
        Assert.Equal(2, code);
        Assert.Contains("debt_ratio", err);
    }

    [Fact]
    public void BenchWritesTheContractJsonAndRefusesUnknownModes()
    {
        var (code, output, err) = Run("bench", P("train.csv"), "--label", "default", "--modes", "lr,xgb", "--folds", "2", "--json", P("bench.json"));
        Assert.True(code == 0, err);
        Assert.Contains("| lr | 0.", output);
        var json = JsonDocument.Parse(File.ReadAllText(P("bench.json"))).RootElement;
        Assert.Equal("train.csv", json.GetProperty("dataset").GetString());
        Assert.Equal(1000, json.GetProperty("rows").GetInt32());
        foreach (var mode in new[] { "lr", "xgb" })
            foreach (var key in new[] { "auc", "auc_std", "pr_auc", "ks", "accuracy", "seconds" })
                Assert.True(json.GetProperty("modes").GetProperty(mode).TryGetProperty(key, out _), $"{mode}.{key} missing");
        // Each bad option exits 2 with a message naming it.
        foreach (var (message, args) in new (string, string[])[]
        {
            ("unknown mode 'warp'", ["--modes", "lr,warp"]),
            ("--optimizer: 'sgd' is not adamw or ranger", ["--modes", "multimodal", "--optimizer", "sgd"]),
            ("--fgm: must not be negative", ["--modes", "multimodal", "--fgm", "-1"]),
            ("--text-budget: at least 1 token", ["--modes", "text", "--text-budget", "0"]),
            ("--pretrain-steps: 0 (use --budget) or more", ["--modes", "multimodal", "--pretrain-steps", "-1"]),
            ("--head-layers: between 1 and the encoder's 2 layers", ["--modes", "multimodal", "--head-layers", "3"]),
            ("--dropout-schedule: 'sometimes' is not constant, early, late or curriculum", ["--modes", "multimodal", "--dropout-schedule", "sometimes"]),
            ("--labels: 'many' is not a whole number of at least 2", ["--modes", "lr", "--labels", "100,many"]),
            ("--labels: '1' is not a whole number of at least 2", ["--modes", "lr", "--labels", "1"]),
            ("--keyword-rate: must not be negative", ["--modes", "multimodal", "--keyword-rate", "-1"]),
            ("--pseudo-label: must not be negative", ["--modes", "multimodal", "--pseudo-label", "-1"]),
            ("--pseudo-threshold: a confidence in (0.5, 1]", ["--modes", "multimodal", "--pseudo-threshold", "0.4"]),
            ("--keyword-start: 'warm' is not auto, zero, lr or choose", ["--modes", "multimodal", "--keyword-start", "warm"]),
        })
        {
            (code, _, err) = Run(["bench", P("train.csv"), "--label", "default", .. args]);
            Assert.Equal(2, code);
            Assert.Contains(message, err);
        }
    }

    [Fact]
    public void BenchDrawsALearningCurve()
    {
        var (code, output, err) = Run("bench", P("train.csv"), "--label", "default", "--modes", "lr,xgb", "--folds", "2", "--labels", "5000,100",
                                      "--json", P("curve.json"), "--html", P("curve.html"));
        Assert.True(code == 0, err);
        Assert.True(output.IndexOf("100 labeled training rows per fold:", StringComparison.Ordinal) < output.IndexOf("500 labeled training rows per fold:", StringComparison.Ordinal));
        var curve = JsonDocument.Parse(File.ReadAllText(P("curve.json"))).RootElement.GetProperty("curve");
        Assert.Equal([100, 500], curve.EnumerateArray().Select(p => p.GetProperty("labels").GetInt32()));   // 1,000 rows in 2 folds: 500 to train on at most
        foreach (var point in curve.EnumerateArray())
            Assert.InRange(point.GetProperty("modes").GetProperty("xgb").GetProperty("auc").GetDouble(), 0, 1);
        string html = File.ReadAllText(P("curve.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("ROC-AUC against labeled rows", html);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(html, "<polyline").Count);   // one line per mode
    }

    [Fact]
    public void TrainPassesFineTuningOptionsToTheBestPresetAndRecordsThem()
    {
        var (code, _, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("tricks"), "--preset", "best", "--budget", "0.03",
                                 "--candidates", "multimodal", "--folds", "2", "--time-limit", "0", "--head-layers", "2", "--freeze-epochs", "1", "--optimizer", "ranger", "--dropout-schedule", "early", "--dropout-epochs", "2",
                                 "--ema", "0.99", "--keywords", "256", "--keyword-start", "lr", "--pseudo-label", "0.5", "--pseudo-threshold", "0.9");
        Assert.True(code == 0, err);
        var tuning = JsonDocument.Parse(File.ReadAllText(P("tricks/manifest.json"))).RootElement.GetProperty("training").GetProperty("fine_tuning");
        Assert.Equal("ranger", tuning.GetProperty("optimizer").GetString());
        Assert.Equal(1, tuning.GetProperty("freeze_epochs").GetInt32());
        Assert.Equal("early", tuning.GetProperty("dropout_schedule").GetString());
        Assert.Equal(2, tuning.GetProperty("dropout_schedule_epochs").GetDouble());
        Assert.Equal("none", tuning.GetProperty("metric_loss").GetString());
        Assert.Equal(0.99, tuning.GetProperty("weight_average_decay").GetDouble(), 6);
        Assert.Equal(256, tuning.GetProperty("keyword_buckets").GetInt32());
        Assert.Equal("lr", tuning.GetProperty("keyword_start").GetString());
        Assert.Equal(0.5, tuning.GetProperty("pseudo_label_weight").GetDouble(), 6);
        Assert.Equal(0.9, tuning.GetProperty("pseudo_label_threshold").GetDouble(), 6);
        // The head that was trained is the head that was saved, in each fold model: the last two layers' [CLS], and the keyword channel.
        var multimodal = Directory.GetFiles(P("tricks"), "model.safetensors", SearchOption.AllDirectories);
        Assert.Equal(2, multimodal.Length);
        Assert.All(multimodal, m => Assert.Equal(2, Jianwei.Models.Multimodal.MultimodalTransformer.Load(Path.GetDirectoryName(m)!).Model.HeadLayers));
        Assert.All(multimodal, m => Assert.Equal(256, Jianwei.Models.Multimodal.MultimodalTransformer.Load(Path.GetDirectoryName(m)!).Model.KeywordBuckets));
        foreach (var (message, args) in new (string, string[])[]
        {
            ("--head-layers: between 1 and the encoder's 2 layers", ["--head-layers", "0"]),
            ("--metric-loss: 'cosine' is not supcon or triplet", ["--metric-loss", "cosine"]),
            ("--ema: a decay in [0, 1) (0: off)", ["--ema", "1"]),
            ("--keywords: between 0 (no keyword channel) and 16777216 buckets", ["--keywords", "-5"]),
        })
        {
            (code, _, err) = Run(["train", P("train.csv"), "--label", "default", "--out", P("never"), "--preset", "best", .. args]);
            Assert.Equal(2, code);
            Assert.Contains(message, err);
            Assert.False(Directory.Exists(P("never")));
        }
        // Other presets have no transformer: the options are ignored, and said to be.
        (code, _, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("fast"), "--preset", "fast", "--fgm", "0.5", "--head-layers", "2");
        Assert.True(code == 0, err);
        Assert.Contains("note: --fgm, --head-layers fine-tune the best preset's transformer; the fast preset has none, so they are ignored.", err);
        (code, _, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("fast3"), "--preset", "fast", "--time-limit", "5", "--refit-full");
        Assert.True(code == 0, err);
        Assert.Contains("note: --time-limit, --refit-full shape the best preset's ensemble; the fast preset has nothing to trade for time, so they are ignored.", err);
        (code, _, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("fast2"), "--preset", "fast");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("note:", err);
    }

    [Fact]
    public void PretrainWritesAHuggingFaceEncoderAndResumes()
    {
        var (code, output, err) = Run("pretrain", P("train.csv"), "--text", "profile,recruitment", "--out", P("enc"), "--minutes", "0.05", "--vocab-size", "800");
        Assert.True(code == 0, err);
        Assert.Contains("held-out masked-token accuracy", output);
        var config = Jianwei.Models.Transformers.BertCheckpoint.ReadConfig(P("enc/encoder"));
        var encoder = new Jianwei.Models.Transformers.BertForMaskedLM(config, new Jianwei.Tensors.Rng(0));
        Assert.Empty(Jianwei.Models.Transformers.BertCheckpoint.LoadInto(encoder, P("enc/encoder")).Initialized);
        Assert.True(File.Exists(P("enc/encoder/vocab.txt")));
        int rows = File.ReadAllLines(P("enc/run/train_log.csv")).Length;
        // Running it again resumes from the last checkpoint: the run is complete, nothing is repeated.
        (code, output, err) = Run("pretrain", P("train.csv"), "--text", "profile,recruitment", "--out", P("enc"), "--minutes", "0.05");
        Assert.True(code == 0, err);
        Assert.Equal(rows, File.ReadAllLines(P("enc/run/train_log.csv")).Length);
        (code, _, err) = Run("pretrain", P("train.csv"), "--text", "profile", "--out", P("enc2"), "--objective", "mpnet", "--attention", "linear");
        Assert.Equal(2, code);
        Assert.Contains("needs --attention softmax", err);
    }

    [ChromiumFact]
    public void MultimodalReportWithTokenAttributionsRendersInHeadlessChromiumWithoutConsoleErrors()
    {
        // The best preset on text with the multimodal transformer as its one candidate: co-pretraining (a few seconds here), two fold models fine-tuned.
        var (code, _, err) = Run("train", P("train.csv"), "--label", "default", "--out", P("model"), "--preset", "best", "--budget", "0.05", "--unlabeled", P("new.csv"),
                                 "--candidates", "multimodal", "--folds", "2", "--time-limit", "0");
        Assert.True(code == 0, err);
        Assert.Contains("+20 unlabeled for co-pretraining", err);
        Assert.Contains("co-pretrain |", err);
        Assert.Equal(0, Run("evaluate", P("model"), P("test.csv"), "--report", P("report.html")).Code);
        var html = File.ReadAllText(P("report.html"));
        foreach (var part in new[] { "Token attributions", "Training curves", "co-pretraining loss", "fine-tuning validation ROC-AUC", "permutation importance", "<span title='" })
            Assert.Contains(part, html);
        (code, var output, err) = Run("explain", P("model"), P("new.csv"), "--rows", "2", "--json");
        Assert.True(code == 0, err);
        Assert.Equal(2, JsonDocument.Parse(output).RootElement.GetArrayLength());
        var problems = Chromium.Screenshot(P("report.html"), P("report.png"));
        Assert.Empty(problems);
        var png = File.ReadAllBytes(P("report.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 50_000, $"a {png.Length}-byte screenshot is too small to hold the charts");
    }

    [Fact]
    public void QuickDemoWritesDataModelAndReport()
    {
        var (code, output, err) = Run("demo", "--quick", "--out", P("demo"));
        Assert.True(code == 0, err);
        Assert.Contains("| logistic regression", output);
        Assert.Matches(@"\| the bundle: validated ensemble \(bagged candidates, selection or stacker on out-of-fold predictions\) \| 0\.\d{4} \|", output);
        var training = JsonDocument.Parse(File.ReadAllText(P("demo/model/manifest.json"))).RootElement.GetProperty("training");
        Assert.Equal("ensemble", training.GetProperty("learner").GetString());
        Assert.Equal(60, training.GetProperty("time_limit_seconds").GetDouble());
        // Every candidate is on the leaderboard, fitted or skipped with its reason.
        var candidates = training.GetProperty("leaderboard").GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("learner").GetString()).ToList();
        Assert.Equal(["logistic", "nb-logistic", "binned-logistic", "lightgbm", "boosting", "ft-transformer", "multimodal"], candidates);
        Assert.True(File.Exists(P("demo/data/unlabeled.csv")));
        Assert.Matches(@"true risk score .*\| 0\.\d{4} \|", output);
        Assert.True(File.Exists(P("demo/report.html")));
        Assert.True(File.Exists(P("demo/model/manifest.json")));
        Assert.True(File.Exists(P("demo/data/test.csv")));
    }

    [Fact]
    public void OptionsComeFromAYamlOrJsonConfigAndTheCommandLineWins()
    {
        File.WriteAllText(P("train.yaml"), "# training settings\nlabel: default\npreset: turbo\nout: " + P("from-yaml") + "\njson: true\n");
        // The file's preset is wrong on purpose: the command line's --preset overrides it.
        var (code, output, err) = Run("train", P("train.csv"), "--config", P("train.yaml"), "--preset", "fast");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(P("from-yaml/manifest.json")));
        Assert.Equal("fast", JsonDocument.Parse(output).RootElement.GetProperty("training").GetProperty("preset").GetString());   // json: true turned the flag on

        File.WriteAllText(P("train.json"), "{\"label\": \"default\", \"preset\": \"fast\", \"out\": \"" + P("from-json").Replace("\\", "/") + "\"}");
        Assert.Equal(0, Run("train", P("train.csv"), "--config", P("train.json")).Code);
        Assert.True(File.Exists(P("from-json/manifest.json")));

        (code, _, err) = Run("train", P("train.csv"), "--config", P("train.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("--preset: 'turbo'", err);

        File.WriteAllText(P("bad.yaml"), "label: default\nlable: default\n");
        (code, _, err) = Run("train", P("train.csv"), "--config", P("bad.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("bad.yaml:2: 'lable' is not an option of 'jianwei train'", err);
        File.WriteAllText(P("broken.yaml"), "label: [default\n");
        (code, _, err) = Run("train", P("train.csv"), "--config", P("broken.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("broken.yaml:", err);
        Assert.Contains("not valid YAML or JSON", err);
    }
}
