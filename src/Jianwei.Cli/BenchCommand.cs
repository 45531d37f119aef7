using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation.Reports;
using Jianwei.Models.Experiments;
using Jianwei.Models.Multimodal;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei bench DATA --label COL [--positive V] [--unlabeled FILE] [--modes a,b] [--folds K] [--seed S]
/// [--json FILE] [--html FILE] [--budget MIN | --pretrain-steps N]</c>: the published comparison on any dataset, same folds
/// for every mode.
/// </summary>
internal static class BenchCommand
{
    private const string Help = """
        Run the comparison the method was published with, on your data, same folds for every mode:
        logistic regression, XGBoost and LightGBM (table + TF-IDF terms), the LR + XGBoost stack, the validated
        ensemble of the three, TabNet, a text-only
        transformer from scratch and pretrained, late fusion (text and table models trained apart,
        then joined), the multimodal transformer without and with co-pretraining, and the
        co-pretrained model stacked with XGBoost.

        Examples:
          jianwei bench companies.csv --label default --unlabeled unlabeled.csv --json results.json
          jianwei bench loans.csv --label status --positive bad --modes lr,xgb,multimodal --folds 3
          jianwei bench companies.csv --label default --modes multimodal,multimodal-no-cells --freeze-epochs 1 --contrastive 0.1
          jianwei bench companies.csv --label default --unlabeled unlabeled.csv --labels 250,500,1000,2000 --html curve.html
        """;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Argument<FileInfo>("DATA") { Description = "labeled table with at least one text column" };
        var label = new Option<string>("--label") { Description = "the label column", Required = true };
        var positive = new Option<string?>("--positive") { Description = "the label value that counts as positive" };
        var unlabeled = new Option<FileInfo?>("--unlabeled") { Description = "rows without labels (same columns) for self-supervised pretraining" };
        var modes = new Option<string>("--modes") { Description = $"comma-separated modes ({string.Join(", ", Comparison.Modes)}); on request: {string.Join(", ", Comparison.SemiSupervised.Concat(Comparison.Ablations))}", DefaultValueFactory = _ => string.Join(",", Comparison.Modes) };
        var folds = new Option<int>("--folds") { Description = "stratified folds", DefaultValueFactory = _ => 5 };
        var labelCounts = new Option<string?>("--labels") { Description = "a learning curve: comma-separated counts of each fold's training rows that keep their labels (the rest join the unlabeled rows); every mode at each count, scored on the whole test fold" };
        var seed = new Option<int>("--seed") { Description = "seed of the folds and learners", DefaultValueFactory = _ => 0 };
        var json = new Option<FileInfo?>("--json") { Description = "write the results as JSON here" };
        var html = new Option<FileInfo?>("--html") { Description = "write the results table as HTML here" };
        var budget = new Option<double>("--budget") { Description = "minutes of self-supervised pretraining (co-pretraining) at most", DefaultValueFactory = _ => 5 };
        var pretrainSteps = new Option<int>("--pretrain-steps") { Description = "steps of each self-supervised pretraining instead of --budget: the same scores on any machine (0: --budget decides)", DefaultValueFactory = _ => 0 };
        var schemaFile = new Option<FileInfo?>("--schema") { Description = "a schema file pinning roles and types" };
        var textBudget = new Option<int>("--text-budget") { Description = "transformer modes: tokens kept per text column (longer texts are cut)", DefaultValueFactory = _ => new ComparisonOptions().TextBudget };
        var cmd = new Command("bench", Help) { data, label, positive, unlabeled, modes, folds, labelCounts, seed, json, html, budget, pretrainSteps, schemaFile, textBudget };
        // Fine-tuning tricks: measure one by running the same command with and without it.
        var fineTuning = new FineTuningOptions("text and multimodal");
        fineTuning.AddTo(cmd);
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(data)!;
            OptionChecks.File(parse.GetValue(json), "--json");
            OptionChecks.File(parse.GetValue(html), "--html");
            var table = input.Load(parse, file);
            var extra = parse.GetValue(unlabeled) is FileInfo u ? input.Load(parse, u) : null;
            var schema = SchemaResolution.Resolve(table, parse.GetValue(label)!, parse.GetValue(positive), parse.GetValue(schemaFile)?.FullName);
            var modeList = parse.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var options = new ComparisonOptions
            {
                Modes = modeList, Folds = parse.GetValue(folds) >= 2 ? parse.GetValue(folds) : throw new UserErrorException("--folds: at least 2."), Seed = parse.GetValue(seed),
                LabelCounts = parse.GetValue(labelCounts) is string counts ? LabelCounts(counts) : null,
                PretrainBudget = TimeSpan.FromMinutes(OptionChecks.Within(parse.GetValue(budget), "--budget", 0, 24 * 60, "minutes")),
                PretrainSteps = parse.GetValue(pretrainSteps) is >= 0 and var ps ? ps : throw new UserErrorException("--pretrain-steps: 0 (use --budget) or more."),
                Segmenter = ChineseSegmenter.FindDictionary() is string dict ? ChineseSegmenter.Load(dict) : null, Log = stderr,
                TextBudget = parse.GetValue(textBudget) is >= 1 and var tb ? tb : throw new UserErrorException("--text-budget: at least 1 token."),
                HeadLayers = fineTuning.HeadLayers(parse, new ComparisonOptions().Encoder.Layers), KeywordBuckets = fineTuning.KeywordBuckets(parse),
                FineTune = fineTuning.Apply(parse, new ComparisonOptions().FineTune),
            };
            foreach (var m in modeList)
                if (!Comparison.Modes.Contains(m) && !Comparison.Ablations.Contains(m) && !Comparison.SemiSupervised.Contains(m))
                    throw new UserErrorException($"--modes: unknown mode '{m}' (modes: {string.Join(", ", Comparison.Modes)}; on request: {string.Join(", ", Comparison.SemiSupervised.Concat(Comparison.Ablations))}).");
            var y = schema.Labels(table);
            int positives = y.Count(v => v == 1), negatives = y.Length - positives;
            if (Math.Min(positives, negatives) < options.Folds)
                throw new UserErrorException($"--folds: {options.Folds} stratified folds need at least {options.Folds} rows of each class; '{schema.Label}' has {positives:N0} positive and {negatives:N0} other rows.");
            var results = Comparison.Run(table, schema, options, extra);
            stdout.WriteLine($"{file.Name}: {table.RowCount:N0} rows{(extra is null ? "" : $" + {extra.RowCount:N0} unlabeled")}, {options.Folds}-fold stratified CV (seed {options.Seed})");
            foreach (var point in results.GroupBy(r => r.Labels))
            {
                stdout.WriteLine();
                if (options.LabelCounts is not null) stdout.WriteLine($"{point.Key:N0} labeled training rows per fold:");
                stdout.WriteLine("| mode | ROC-AUC | PR-AUC | KS | accuracy | time |");
                stdout.WriteLine("|---|---:|---:|---:|---:|---:|");
                foreach (var r in point)
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Mode} | {r.Auc:0.0000} ± {r.AucStd:0.0000} | {r.PrAuc:0.0000} | {r.Ks:0.0000} | {r.Accuracy:0.0000} | {r.Seconds:0} s |"));
            }
            if (parse.GetValue(json) is FileInfo jf) WriteJson(jf.FullName, file.Name, table.RowCount, options, results);
            if (parse.GetValue(html) is FileInfo hf) WriteHtml(hf.FullName, file.Name, options.LabelCounts is not null, results);
            return 0;
        });
        return cmd;
    }

    /// <summary>"250,500,1000": distinct whole numbers of at least 2.</summary>
    private static int[] LabelCounts(string text)
    {
        var counts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c =>
            int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 2 ? n
            : throw new UserErrorException($"--labels: '{c}' is not a whole number of at least 2 (counts of labeled rows, comma-separated).")).ToArray();
        return counts.Length > 0 ? counts : throw new UserErrorException("--labels: give at least one count.");
    }

    /// <summary>
    /// <c>{"dataset", "rows", "folds", "seed", "modes": {MODE: scores}}</c>; with a learning curve,
    /// <c>"curve": [{"labels": N, "modes": {...}}, ...]</c> in place of <c>"modes"</c>.
    /// </summary>
    private static void WriteJson(string path, string dataset, int rows, ComparisonOptions options, List<ModeResult> results)
    {
        static Dictionary<string, Dictionary<string, double>> Modes(IEnumerable<ModeResult> results) => results.ToDictionary(r => r.Mode, r => new Dictionary<string, double>
        {
            ["auc"] = Math.Round(r.Auc, 6), ["auc_std"] = Math.Round(r.AucStd, 6), ["pr_auc"] = Math.Round(r.PrAuc, 6),
            ["ks"] = Math.Round(r.Ks, 6), ["accuracy"] = Math.Round(r.Accuracy, 6), ["seconds"] = Math.Round(r.Seconds, 1),
        });
        var obj = new Dictionary<string, object> { ["dataset"] = dataset, ["rows"] = rows, ["folds"] = options.Folds, ["seed"] = options.Seed };
        if (options.LabelCounts is null) obj["modes"] = Modes(results);
        else obj["curve"] = results.GroupBy(r => r.Labels).Select(g => new Dictionary<string, object> { ["labels"] = g.Key, ["modes"] = Modes(g) }).ToList();
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(obj, CliJson.Options));
    }

    private static readonly string[] Colors = ["#2b6cb0", "#c05621", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#4a5568", "#d53f8c", "#718096", "#38a169", "#e53e3e"];

    /// <summary>The results as tables (one per label count); a learning curve also gets a chart of ROC-AUC against labels, one line per mode.</summary>
    private static void WriteHtml(string path, string dataset, bool curve, List<ModeResult> results)
    {
        var sb = new StringBuilder("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Jianwei bench</title><style>body{font-family:system-ui,sans-serif;margin:24px}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}td:first-child{text-align:left}table{border-collapse:collapse}")
            .Append(SvgChart.Style).Append("</style></head><body>");
        sb.Append("<h1>").Append(WebUtility.HtmlEncode(dataset)).Append("</h1>");
        if (curve)
        {
            // Label counts span orders of magnitude, so the x axis is their base-10 logarithm.
            var series = results.GroupBy(r => r.Mode).Select((g, i) => new Series(g.Key, g.Select(r => Math.Log10(r.Labels)).ToList(), g.Select(r => r.Auc).ToList(), Colors[i % Colors.Length])).ToList();
            double xMin = series.Min(s => s.X.Min()), xMax = series.Max(s => s.X.Max());
            double yMin = Math.Floor(results.Min(r => r.Auc) * 20) / 20, yMax = Math.Min(1, Math.Ceiling(results.Max(r => r.Auc) * 20) / 20);
            sb.Append(SvgChart.Lines("ROC-AUC against labeled rows", "log10 of labeled training rows per fold", "ROC-AUC", series, xMin, xMax, yMin, yMax));
        }
        foreach (var point in results.GroupBy(r => r.Labels))
        {
            if (curve) sb.Append(CultureInfo.InvariantCulture, $"<h2>{point.Key:N0} labeled training rows per fold</h2>");
            sb.Append("<table><tr><th>mode</th><th>ROC-AUC</th><th>± std</th><th>PR-AUC</th><th>KS</th><th>accuracy</th><th>seconds</th></tr>");
            foreach (var r in point)
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(r.Mode)}</td><td>{r.Auc:0.0000}</td><td>{r.AucStd:0.0000}</td><td>{r.PrAuc:0.0000}</td><td>{r.Ks:0.0000}</td><td>{r.Accuracy:0.0000}</td><td>{r.Seconds:0}</td></tr>");
            sb.Append("</table>");
        }
        AtomicFile.WriteAllText(path, sb.Append("</body></html>").ToString());
    }
}
