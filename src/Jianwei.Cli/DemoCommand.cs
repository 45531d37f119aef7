using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Evaluation.Reports;
using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Bundles;
using Jianwei.Models.Training;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei demo [--quick] [--out DIR] [--preset P]</c>: the README's first command. Generates the
/// embedded SME credit data (labeled and unlabeled companies), holds out a stratified test set, trains
/// each classic learner, then the bundle — by default the best preset: the validated ensemble, whose
/// candidates include the multimodal transformer co-pretrained on labeled and unlabeled rows — prints
/// the comparison against the generator's true-score ceiling, and writes the HTML report.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The best preset's time limit in the quick demo.</summary>
    private static readonly TimeSpan QuickTimeLimit = TimeSpan.FromMinutes(1);

    /// <summary>The file that marks a folder as the demo's (so running the demo again may overwrite it).</summary>
    public const string MarkerFile = "demo.json";

    /// <summary>
    /// A folder an earlier demo wrote before the marker existed: only data/ (the generator's CSV files),
    /// model/ (a bundle) and report.html.
    /// </summary>
    private static bool WrittenBefore(string dir)
    {
        var names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).ToList();
        if (names.Any(n => n is not ("data" or "model" or "report.html"))) return false;
        string data = Path.Combine(dir, "data"), model = Path.Combine(dir, "model");
        if (Directory.Exists(data) && (Directory.EnumerateDirectories(data).Any() || !Directory.EnumerateFiles(data).All(SmeDataset.HasOurHeader))) return false;
        return !Directory.Exists(model) || OwnedDirectory.MarkerKind(Path.Combine(model, "manifest.json")) == "jianwei-bundle";
    }

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var quick = new Option<bool>("--quick") { Description = $"a smaller dataset (4,000 companies) and a {QuickTimeLimit.TotalMinutes:0}-minute time limit for the bundle: about two minutes" };
        var preset = new Option<string>("--preset") { Description = "the bundle's preset: best (the validated ensemble: LR, tuned LightGBM and XGBoost, the FT-Transformer and the co-pretrained multimodal transformer, combined on out-of-fold predictions), balanced or fast", DefaultValueFactory = _ => "best" };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "where the data, the bundle and the report go", DefaultValueFactory = _ => new DirectoryInfo("jianwei-demo") };
        var cmd = new Command("demo", """
            Run the whole product on generated small-enterprise credit data: generate, train the classic
            learners, co-pretrain and fine-tune the multimodal transformer, compare, explain, report.
            Writes data/, model/ and report.html under --out (about 12 minutes on 2 cores, the best
            preset's 10-minute time limit included; --quick: 2).

            Examples:
              jianwei demo
              jianwei demo --quick --out /tmp/demo
              jianwei demo --preset balanced
            """) { quick, outDir, preset };
        cmd.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            bool isQuick = parse.GetValue(quick);
            var presetValue = TrainCommand.ParsePreset(parse.GetValue(preset)!);
            // The demo writes data/, model/ and report.html only into a new or empty folder, or one an earlier demo wrote.
            string root = OwnedDirectory.Claim(parse.GetValue(outDir)!.FullName, MarkerFile, "jianwei-demo", WrittenBefore);
            string bundleDir = Path.Combine(root, "model");
            ModelBundle.CheckReplaceable(bundleDir);
            var data = Generate(Path.Combine(root, "data"), isQuick, stderr);
            stderr.WriteLine($"[2/4] comparing learners on {data.Test.RowCount:N0} held-out companies ...");
            var results = (isQuick ? new[] { TabularLearner.Logistic, TabularLearner.Boosting } : [TabularLearner.Logistic, TabularLearner.Boosting, TabularLearner.Stack])
                .Select(learner => Score(data, learner, stderr)).ToList();
            stderr.WriteLine($"[3/4] training the {presetValue.ToString().ToLowerInvariant()} bundle ...");
            var bundleClock = Stopwatch.StartNew();
            var trainAndUnlabeled = data.Train.Append(RawTable.Load(data.UnlabeledPath), mayBeAbsent: "default");
            string reportPath = Path.Combine(root, "report.html");
            var options = new BundleTrainingOptions
            {
                Preset = presetValue, Multimodal = MultimodalLearnerOptions.ForBudget(3),
                Limit = presetValue == Preset.Best ? new TimeLimit(isQuick ? QuickTimeLimit : BundleTrainingOptions.DefaultBestTimeLimit) : null,
            };
            using (var bundle = ModelBundle.Train(trainAndUnlabeled, data.Schema, data.TrainPath, options, stderr))
            {
                bundle.Save(bundleDir);
                stderr.WriteLine("[4/4] evaluating and writing the report ...");
                var scores = BundleEvaluation.Evaluate(bundle, data.Test);
                results.Add(Scored($"the bundle: {TabularModel.Describe(bundle.Model.Learner)}", scores.Probabilities, data.YTest, bundleClock.Elapsed.TotalSeconds));
                AtomicFile.WriteAllText(reportPath, HtmlReport.Render(BundleReport.Build(bundle, bundleDir, data.Test, "test.csv", scores)));
            }
            PrintSummary(stdout, data, results);
            stdout.WriteLine($"model:  {bundleDir}   (try: jianwei predict {bundleDir} {data.TestPath} --out scores.csv)");
            stdout.WriteLine($"report: {reportPath}");
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done in {clock.Elapsed.TotalSeconds:0} s"));
            return 0;
        });
        return cmd;
    }

    /// <summary>The demo's data: the generated companies, their stratified 75/25 split as written, labels and the generator's ceiling.</summary>
    private sealed record DemoData(string Directory, string AllPath, string UnlabeledPath, string TrainPath, string TestPath,
                                   RawTable Train, RawTable Test, TableSchema Schema, int[] YTrain, int[] YTest, double Ceiling);

    /// <summary>A learner's scores on the held-out companies.</summary>
    private sealed record Result(string Name, double Auc, double PrAuc, double Ks, double Seconds);

    /// <summary>Step 1: generates labeled and unlabeled companies into <paramref name="dataDir"/> and splits off the test set.</summary>
    private static DemoData Generate(string dataDir, bool isQuick, TextWriter stderr)
    {
        Directory.CreateDirectory(dataDir);
        int companies = isQuick ? 4_000 : 20_000, unlabeledCompanies = isQuick ? 4_000 : 50_000;
        stderr.WriteLine($"[1/4] generating {companies:N0} labeled + {unlabeledCompanies:N0} unlabeled companies (Chinese profiles, recruitment posts, registration changes) ...");
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Labeled: companies, Unlabeled: unlabeledCompanies));
        string allPath = Path.Combine(dataDir, "companies.csv"), unlabeledPath = Path.Combine(dataDir, "unlabeled.csv");
        SmeDataset.WriteCsv(allPath, ds.Labeled, withLabel: true);
        SmeDataset.WriteCsv(unlabeledPath, ds.Unlabeled, withLabel: false);
        var table = RawTable.Load(allPath);
        var schema = SchemaInference.Infer(table, "default", "1");
        var split = DataSplits.StratifiedTrainValidTest(schema.Labels(table), 0, 0.25, seed: 0);
        string trainPath = Path.Combine(dataDir, "train.csv"), testPath = Path.Combine(dataDir, "test.csv");
        WriteRows(table, split.Train, trainPath);
        WriteRows(table, split.Test, testPath);
        RawTable train = RawTable.Load(trainPath), test = RawTable.Load(testPath);
        return new DemoData(dataDir, allPath, unlabeledPath, trainPath, testPath, train, test, schema, schema.Labels(train), schema.Labels(test), ds.TrueScoreAuc);
    }

    /// <summary>Step 2, one classic learner: fit on the training companies, score the held-out ones.</summary>
    private static Result Score(DemoData data, TabularLearner learner, TextWriter stderr)
    {
        var t = Stopwatch.StartNew();
        using var model = TabularModel.Fit(data.Train, data.Schema, data.YTrain, Enumerable.Range(0, data.Train.RowCount).ToArray(), new TabularModelOptions { Learner = learner });
        var p = model.Predict(data.Test, Enumerable.Range(0, data.Test.RowCount).ToArray());
        var result = Scored(TabularModel.Describe(learner), p, data.YTest, t.Elapsed.TotalSeconds);
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      {result.Name}: ROC-AUC {result.Auc:0.0000} ({result.Seconds:0.0} s)"));
        return result;
    }

    private static Result Scored(string name, double[] p, int[] y, double seconds) =>
        new(name, Evaluation.Metrics.RocAuc(p, y), Evaluation.Metrics.PrAuc(p, y), Evaluation.Metrics.Ks(p, y), seconds);

    /// <summary>The comparison table against the generator's ceiling, and where things are.</summary>
    private static void PrintSummary(TextWriter stdout, DemoData data, List<Result> results)
    {
        stdout.WriteLine();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Held-out test set: {data.Test.RowCount:N0} companies, default rate {data.YTest.Average():0.00%}"));
        stdout.WriteLine();
        stdout.WriteLine("| model | ROC-AUC | PR-AUC | KS | train time |");
        stdout.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var r in results)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Auc:0.0000} | {r.PrAuc:0.0000} | {r.Ks:0.0000} | {r.Seconds:0.0} s |"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| true risk score (the ceiling, whole dataset) | {data.Ceiling:0.0000} | | | |"));
        stdout.WriteLine();
        stdout.WriteLine("All modes of the published comparison, with k-fold CV: jianwei bench " + data.AllPath + " --label default --unlabeled " + data.UnlabeledPath);
        stdout.WriteLine($"data:   {data.Directory}");
    }

    /// <summary>Writes the chosen rows of a table as CSV (RFC 4180 quoting), atomically.</summary>
    private static void WriteRows(RawTable table, IReadOnlyList<int> rows, string path)
    {
        var sb = new System.Text.StringBuilder(CsvFormat.Line(table.Header));
        foreach (int r in rows) sb.Append(CsvFormat.Line(table.Rows[r]));
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
