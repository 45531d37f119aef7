using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Evaluation.Reports;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Pipeline;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei demo [--quick] [--out DIR] [--preset P]</c>: the README's first command. Generates the
/// embedded SME credit data (labeled and unlabeled companies), holds out a stratified test set, trains
/// each classic learner, then the bundle — by default the best preset: co-pretraining the multimodal
/// transformer on labeled and unlabeled rows, fine-tuning it, stacking it with XGBoost — prints the
/// comparison against the generator's true-score ceiling, and writes the HTML report.
/// </summary>
internal static class DemoCommand
{
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
        var quick = new Option<bool>("--quick") { Description = "a smaller dataset (4,000 companies), seconds of co-pretraining: under two minutes" };
        var preset = new Option<string>("--preset") { Description = "the bundle's preset: best (co-pretrained multimodal transformer + XGBoost), balanced or fast", DefaultValueFactory = _ => "best" };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "where the data, the bundle and the report go", DefaultValueFactory = _ => new DirectoryInfo("jianwei-demo") };
        var cmd = new Command("demo", """
            Run the whole product on generated small-enterprise credit data: generate, train the classic
            learners, co-pretrain and fine-tune the multimodal transformer, compare, explain, report.
            Writes data/, model/ and report.html under --out (about 12 minutes on 2 cores; --quick: 2).

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
            string dataDir = Path.Combine(root, "data");
            Directory.CreateDirectory(dataDir);
            string bundleDir = Path.Combine(root, "model");
            ModelBundle.CheckReplaceable(bundleDir);
            int companies = isQuick ? 4_000 : 20_000, unlabeledCompanies = isQuick ? 4_000 : 50_000;
            stderr.WriteLine($"[1/4] generating {companies:N0} labeled + {unlabeledCompanies:N0} unlabeled companies (Chinese profiles, recruitment posts, registration changes) ...");
            var ds = SmeDataGenerator.Generate(new SmeDataOptions(Labeled: companies, Unlabeled: unlabeledCompanies));
            string allPath = Path.Combine(dataDir, "companies.csv"), unlabeledPath = Path.Combine(dataDir, "unlabeled.csv");
            SmeDataset.WriteCsv(allPath, ds.Labeled, withLabel: true);
            SmeDataset.WriteCsv(unlabeledPath, ds.Unlabeled, withLabel: false);
            var table = RawTable.Load(allPath);
            var schema = SchemaInference.Infer(table, "default", "1");
            var y = schema.Labels(table);
            var split = DataSplits.StratifiedTrainValidTest(y, 0, 0.25, seed: 0);
            string trainPath = Path.Combine(dataDir, "train.csv"), testPath = Path.Combine(dataDir, "test.csv");
            WriteRows(table, split.Train, trainPath);
            WriteRows(table, split.Test, testPath);
            var train = RawTable.Load(trainPath);
            var test = RawTable.Load(testPath);
            var yTrain = schema.Labels(train);
            var yTest = schema.Labels(test);

            stderr.WriteLine($"[2/4] comparing learners on {test.RowCount:N0} held-out companies ...");
            var rows = new List<(string Name, double Auc, double PrAuc, double Ks, double Seconds)>();
            var learners = isQuick ? new[] { TabularLearner.Logistic, TabularLearner.Boosting } : [TabularLearner.Logistic, TabularLearner.Boosting, TabularLearner.Stack];
            var testRows = Enumerable.Range(0, test.RowCount).ToArray();
            foreach (var learner in learners)
            {
                var t = Stopwatch.StartNew();
                using var model = TabularModel.Fit(train, schema, yTrain, Enumerable.Range(0, train.RowCount).ToArray(), new TabularModelOptions { Learner = learner });
                var p = model.Predict(test, testRows);
                rows.Add((learner switch
                {
                    TabularLearner.Logistic => "logistic regression (table + TF-IDF of texts)",
                    TabularLearner.Boosting => "XGBoost (table + TF-IDF terms)",
                    _ => "stack: LR + XGBoost",
                }, Evaluation.Metrics.RocAuc(p, yTest), Evaluation.Metrics.PrAuc(p, yTest), Evaluation.Metrics.Ks(p, yTest), t.Elapsed.TotalSeconds));
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      {rows[^1].Name}: ROC-AUC {rows[^1].Auc:0.0000} ({rows[^1].Seconds:0.0} s)"));
            }

            stderr.WriteLine($"[3/4] training the {presetValue.ToString().ToLowerInvariant()} bundle ...");
            var bundleClock = Stopwatch.StartNew();
            var multimodal = MultimodalLearnerOptions.ForBudget(isQuick ? 0.3 : 3);
            if (isQuick) multimodal = multimodal with { FineTune = multimodal.FineTune with { TimeBudget = TimeSpan.FromSeconds(40) } };
            var trainAndUnlabeled = train.Append(RawTable.Load(unlabeledPath), mayBeAbsent: "default");
            using (var bundle = ModelBundle.Train(trainAndUnlabeled, schema, trainPath, new BundleTrainingOptions { Preset = presetValue, Multimodal = multimodal }, stderr))
            {
                bundle.Save(bundleDir);
                stderr.WriteLine("[4/4] evaluating and writing the report ...");
                var scores = BundleEvaluation.Evaluate(bundle, test);
                var p = scores.Probabilities;
                rows.Add(($"the bundle: {Describe(bundle.Model.Learner)}", Evaluation.Metrics.RocAuc(p, yTest), Evaluation.Metrics.PrAuc(p, yTest), Evaluation.Metrics.Ks(p, yTest), bundleClock.Elapsed.TotalSeconds));
                string reportPath = Path.Combine(root, "report.html");
                AtomicFile.WriteAllText(reportPath, HtmlReport.Render(BundleReport.Build(bundle, bundleDir, test, "test.csv", scores)));

                stdout.WriteLine();
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Held-out test set: {test.RowCount:N0} companies, default rate {yTest.Average():0.00%}"));
                stdout.WriteLine();
                stdout.WriteLine("| model | ROC-AUC | PR-AUC | KS | train time |");
                stdout.WriteLine("|---|---:|---:|---:|---:|");
                foreach (var r in rows)
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Auc:0.0000} | {r.PrAuc:0.0000} | {r.Ks:0.0000} | {r.Seconds:0.0} s |"));
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| true risk score (the ceiling, whole dataset) | {ds.TrueScoreAuc:0.0000} | | | |"));
                stdout.WriteLine();
                stdout.WriteLine("All modes of the published comparison, with k-fold CV: jianwei bench " + allPath + " --label default --unlabeled " + unlabeledPath);
                stdout.WriteLine($"data:   {dataDir}");
                stdout.WriteLine($"model:  {bundleDir}   (try: jianwei predict {bundleDir} {testPath} --out scores.csv)");
                stdout.WriteLine($"report: {reportPath}");
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done in {clock.Elapsed.TotalSeconds:0} s"));
            }
            return 0;
        });
        return cmd;
    }

    private static string Describe(TabularLearner learner) => learner switch
    {
        TabularLearner.MultimodalStack => "co-pretrained multimodal transformer + XGBoost",
        TabularLearner.Multimodal => "co-pretrained multimodal transformer",
        TabularLearner.Stack => "stack: LR + XGBoost",
        TabularLearner.Boosting => "XGBoost (table + TF-IDF terms)",
        _ => "logistic regression (table + TF-IDF of texts)",
    };

    /// <summary>Writes the chosen rows of a table as CSV (RFC 4180 quoting), atomically.</summary>
    private static void WriteRows(RawTable table, IReadOnlyList<int> rows, string path)
    {
        var sb = new System.Text.StringBuilder(CsvFormat.Line(table.Header));
        foreach (int r in rows) sb.Append(CsvFormat.Line(table.Rows[r]));
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
