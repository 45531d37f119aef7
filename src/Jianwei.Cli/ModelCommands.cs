using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Evaluation.Reports;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Pipeline;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary>
/// The model life cycle: <c>train</c> (table → bundle), <c>predict</c> (bundle + table → CSV of
/// probabilities), <c>evaluate</c> (metrics and an HTML report on labeled rows), <c>explain</c> (top
/// reasons per row).
/// </summary>
internal static class ModelCommands
{
    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static Option<bool> JsonOption() => new("--json") { Description = "print machine-readable JSON instead of text" };

    internal static ModelBundle LoadBundle(DirectoryInfo dir) => ModelBundle.Load(dir.FullName);

    public static Command Train(TextWriter stdout, TextWriter stderr)
    {
        var data = new Argument<FileInfo>("DATA") { Description = "labeled CSV, TSV or JSON Lines file" };
        var label = new Option<string>("--label") { Description = "the label column", Required = true };
        var positive = new Option<string?>("--positive") { Description = "the label value that counts as positive (default: 1, bad, default, yes, ... else the rarer class)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "bundle directory to write", Required = true };
        var preset = new Option<string>("--preset") { Description = "fast (logistic regression), balanced (LR + XGBoost stacked), best (co-pretrained multimodal transformer + XGBoost when there is text, else a finer stack)", DefaultValueFactory = _ => "balanced" };
        var unlabeled = new Option<FileInfo?>("--unlabeled") { Description = "rows without labels (same columns) that the best preset co-pretrains on; rows of DATA with an empty label count too" };
        var budget = new Option<double>("--budget") { Description = "best preset: minutes of co-pretraining (fine-tuning gets at most twice as long)", DefaultValueFactory = _ => 3 };
        var schemaFile = new Option<FileInfo?>("--schema") { Description = "a schema file (from jianwei inspect --schema-out) pinning roles and types" };
        var seed = new Option<int>("--seed") { Description = "seed of the validation split and the learners", DefaultValueFactory = _ => 0 };
        var json = JsonOption();
        var input = new InputOptions();
        var cmd = new Command("train", """
            Train a model on a labeled table and write it as a bundle directory. A stratified 20 % of the
            rows is held out: its metrics go in the bundle's manifest, and the decision threshold is the
            one with the best F1 there.

            Examples:
              jianwei train loans.csv --label default --out model
              jianwei train loans.csv --label status --positive bad --preset fast --out model
              jianwei train loans.csv --label default --schema schema.json --out model --json
              jianwei train companies.csv --label default --preset best --unlabeled more.csv --budget 5 --out model
              jianwei train companies.csv --label default --preset best --optimizer ranger --fgm 0.5 --out model
            """) { data, label, positive, output, preset, schemaFile, seed, unlabeled, budget, json };
        var fineTuning = new FineTuningOptions("best preset: multimodal");
        fineTuning.AddTo(cmd);
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(data)!;
            var presetValue = ParsePreset(parse.GetValue(preset)!);
            OptionChecks.Within(parse.GetValue(budget), "--budget", 0, 24 * 60, "minutes");
            var dir = parse.GetValue(output)!;
            ModelBundle.CheckReplaceable(dir.FullName);   // refuse a directory that is not ours before minutes of training
            var table = input.Load(parse, file);
            if (parse.GetValue(unlabeled) is FileInfo extra) table = WithUnlabeled(table, input.Load(parse, extra), parse.GetValue(label)!);
            var pinned = parse.GetValue(schemaFile);
            var schema = pinned is null
                ? SchemaInference.Infer(table, parse.GetValue(label), parse.GetValue(positive))
                : TableSchema.Load(pinned.FullName) with { Label = parse.GetValue(label) };
            if (pinned is not null && parse.GetValue(positive) is string p) schema = schema with { PositiveClass = p };
            if (schema.Find(parse.GetValue(label)!) is null) throw new UserErrorException($"--label: the file has no column '{parse.GetValue(label)}'.");
            if (schema.PositiveClass is null) throw new UserErrorException($"--positive: cannot tell which value of '{schema.Label}' is positive; name it.");
            schema.CheckHeader(table.Header, table.Source, needLabel: true);
            var classes = SchemaInference.LabelClasses(table, schema.Label!, new ValueParser(schema.MissingMarkers));
            if (classes.Count > 2 && parse.GetValue(positive) is null)
                throw new UserErrorException($"{table.Source}: column '{schema.Label}': the label has {classes.Count} classes ({string.Join(", ", classes.Take(6))}{(classes.Count > 6 ? ", …" : "")}); "
                                             + "a model predicts one class against the rest: name it with --positive (the other classes then count as negative).");
            ModelBundle bundle;
            if (presetValue != Preset.Best && fineTuning.Given(parse) is [_, ..] ignored)
                stderr.WriteLine($"note: {string.Join(", ", ignored)} fine-tune the best preset's transformer; the {presetValue.ToString().ToLowerInvariant()} preset has none, so they are ignored.");
            var multimodal = MultimodalDefaults(parse.GetValue(budget));
            multimodal = multimodal with
            {
                HeadLayers = fineTuning.HeadLayers(parse, multimodal.Encoder.Layers), FineTune = fineTuning.Apply(parse, multimodal.FineTune),
            };
            bundle = ModelBundle.Train(table, schema, file.FullName, new BundleTrainingOptions { Preset = presetValue, Seed = parse.GetValue(seed), Multimodal = multimodal }, stderr);
            using (bundle)
            {
                bundle.Save(dir.FullName);
                if (parse.GetValue(json))
                    stdout.WriteLine(JsonSerializer.Serialize(new { bundle = dir.FullName, threshold = bundle.Threshold, metrics = bundle.Metrics, training = bundle.Training }, Json));
                else
                {
                    stdout.WriteLine($"wrote {dir.FullName}");
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"validation ({bundle.Metrics["rows"]:N0} rows): ROC-AUC {bundle.Metrics["roc_auc"]:0.0000}, PR-AUC {bundle.Metrics["pr_auc"]:0.0000}, KS {bundle.Metrics["ks"]:0.0000}, F1 {bundle.Metrics["f1"]:0.0000} at threshold {bundle.Threshold:0.0000}"));
                }
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>The best preset's multimodal settings for a co-pretraining budget in minutes (fine-tuning gets at most twice as long).</summary>
    internal static MultimodalLearnerOptions MultimodalDefaults(double minutes)
    {
        var dict = Jianwei.Text.ChineseSegmenter.FindDictionary();
        var defaults = new MultimodalLearnerOptions();
        return defaults with
        {
            PretrainBudget = TimeSpan.FromMinutes(minutes), Segmenter = dict is null ? null : Jianwei.Text.ChineseSegmenter.Load(dict),
            FineTune = defaults.FineTune with { TimeBudget = minutes > 0 ? TimeSpan.FromMinutes(2 * minutes) : null },
        };
    }

    /// <summary>
    /// <paramref name="table"/> followed by the rows of <paramref name="unlabeled"/> (matched by column
    /// name, the label left empty): what co-pretraining reads. A column of the first missing from the
    /// second is an error naming it.
    /// </summary>
    internal static RawTable WithUnlabeled(RawTable table, RawTable unlabeled, string label)
    {
        var map = table.Header.Select(h => h == label ? -1 : unlabeled.IndexOf(h) is var i and >= 0 ? i
            : throw new UserErrorException($"{unlabeled.Source}: column '{h}' is missing (--unlabeled rows need the same columns as DATA).")).ToArray();
        var rows = table.Rows.Concat(unlabeled.Rows.Select(r => map.Select(i => i >= 0 ? r[i] : "").ToArray())).ToList();
        return new RawTable(table.Source, table.Header, rows, table.Lines.Concat(unlabeled.Lines).ToList());
    }

    internal static Preset ParsePreset(string value) => value.ToLowerInvariant() switch
    {
        "fast" => Preset.Fast,
        "balanced" => Preset.Balanced,
        "best" => Preset.Best,
        _ => throw new UserErrorException($"--preset: '{value}' is not fast, balanced or best."),
    };

    public static Command Predict(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory written by jianwei train" };
        var data = new Argument<FileInfo>("DATA") { Description = "rows to score (the label column may be absent)" };
        var output = new Option<FileInfo>("--out") { Description = "CSV to write: the id column (if the model has one), probability, label (1 at or above the threshold)", Required = true };
        var cmd = new Command("predict", """
            Score a table with a bundle. The output CSV has the input's id column when the model has one,
            then probability and label (1 when the probability reaches the bundle's threshold).

            Examples:
              jianwei predict model new_loans.csv --out scores.csv
            """) { bundleArg, data, output };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            OptionChecks.File(parse.GetValue(output), "--out");
            using var bundle = LoadBundle(parse.GetValue(bundleArg)!);
            var table = input.Load(parse, parse.GetValue(data)!);
            var p = bundle.Score(table);
            var idColumn = bundle.IdColumn is string id && table.IndexOf(id) >= 0 ? id : null;
            var sb = new StringBuilder();
            sb.Append(idColumn is null ? "" : Csv(idColumn) + ",").Append("probability,label\n");
            int idIdx = idColumn is null ? -1 : table.IndexOf(idColumn);
            for (int r = 0; r < p.Length; r++)
            {
                if (idIdx >= 0) sb.Append(Csv(table.Rows[r][idIdx])).Append(',');
                sb.Append(p[r].ToString("0.######", CultureInfo.InvariantCulture)).Append(',').Append(p[r] >= bundle.Threshold ? '1' : '0').Append('\n');
            }
            var outFile = parse.GetValue(output)!;
            AtomicFile.WriteAllText(outFile.FullName, sb.ToString());
            stdout.WriteLine($"wrote {outFile.FullName} ({p.Length:N0} rows, {p.Count(v => v >= bundle.Threshold):N0} at or above the threshold {bundle.Threshold.ToString("0.0000", CultureInfo.InvariantCulture)})");
            return 0;
        });
        return cmd;
    }

    /// <summary>One CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.</summary>
    internal static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    public static Command Evaluate(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory" };
        var data = new Argument<FileInfo>("DATA") { Description = "labeled rows" };
        var label = new Option<string?>("--label") { Description = "the label column (default: the bundle's)" };
        var report = new Option<FileInfo?>("--report") { Description = "write a self-contained HTML report here" };
        var json = JsonOption();
        var cmd = new Command("evaluate", """
            Measure a bundle on labeled rows (ROC-AUC, PR-AUC, KS, accuracy, F1, log loss, Brier) and
            optionally write an HTML report with ROC, PR, KS, calibration and score plots, the confusion
            matrix, feature importance and explained rows.

            Examples:
              jianwei evaluate model test.csv --label default --report report.html
            """) { bundleArg, data, label, report, json };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            OptionChecks.File(parse.GetValue(report), "--report");
            var bundleDir = parse.GetValue(bundleArg)!;
            using var bundle = LoadBundle(bundleDir);
            var file = parse.GetValue(data)!;
            var table = input.Load(parse, file);
            string labelName = parse.GetValue(label) ?? bundle.Schema.Label!;
            int li = table.IndexOf(labelName);
            if (li < 0) throw new UserErrorException($"{file.FullName}: column '{labelName}': the label column is missing.");
            var parser = new ValueParser(bundle.Schema.MissingMarkers);
            var rows = Enumerable.Range(0, table.RowCount).Where(r => !parser.IsMissing(table.Rows[r][li])).ToArray();
            CheckLabels(table, li, labelName, rows, bundle.Schema);
            var y = rows.Select(r => table.Rows[r][li].Trim() == bundle.Schema.PositiveClass ? 1 : 0).ToArray();
            if (y.Distinct().Count() < 2) throw new UserErrorException($"{file.FullName}: column '{labelName}': the label has a single class here (positive class '{bundle.Schema.PositiveClass}').");
            var all = bundle.Score(table);
            var p = rows.Select(r => all[r]).ToArray();
            var metrics = ModelBundle.Summarize(p, y, bundle.Threshold);
            var reportFile = parse.GetValue(report);
            if (reportFile is not null)
                AtomicFile.WriteAllText(reportFile.FullName, HtmlReport.Render(BuildReport(bundle, bundleDir.FullName, table, file.Name, rows, p, y)));
            if (parse.GetValue(json))
                stdout.WriteLine(JsonSerializer.Serialize(new { data = file.FullName, threshold = bundle.Threshold, metrics, report = reportFile?.FullName }, Json));
            else
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{rows.Length:N0} labeled rows, positive rate {y.Average():0.00%}: ROC-AUC {metrics["roc_auc"]:0.0000}, PR-AUC {metrics["pr_auc"]:0.0000}, KS {metrics["ks"]:0.0000}"));
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"at threshold {bundle.Threshold:0.0000}: accuracy {metrics["accuracy"]:0.0000}, precision {metrics["precision"]:0.0000}, recall {metrics["recall"]:0.0000}, F1 {metrics["f1"]:0.0000}"));
                if (reportFile is not null) stdout.WriteLine($"report: {reportFile.FullName}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// Refuses a label value the model was not trained on ("meh" among 0/1) with its line, instead of
    /// counting it as negative. Bundles record their label's classes; for an older bundle without
    /// them, a file whose label has more than two values is refused.
    /// </summary>
    private static void CheckLabels(RawTable table, int li, string labelName, int[] rows, TableSchema schema)
    {
        if (schema.LabelClasses is { Count: > 0 } known && labelName == schema.Label)
        {
            var set = new HashSet<string>(known, StringComparer.Ordinal);
            foreach (int r in rows)
                if (!set.Contains(table.Rows[r][li].Trim()))
                    throw new DataFormatException(table.Source, table.Lines[r], labelName,
                        $"'{table.Rows[r][li].Trim()}' is not a class the model was trained on ({string.Join(", ", known.Take(6))}{(known.Count > 6 ? ", …" : "")}).");
            return;
        }
        var values = rows.Select(r => table.Rows[r][li].Trim()).Distinct().ToList();
        if (values.Count > 2)
            throw new DataFormatException(table.Source, null, labelName, $"the label has {values.Count} values ({string.Join(", ", values.Take(6))}); this bundle was trained on two classes and does not record them.");
    }

    /// <summary>The report of a bundle on labeled rows: metrics, plots, importance, explained sample rows, data summary.</summary>
    internal static ReportContent BuildReport(ModelBundle bundle, string bundlePath, RawTable table, string dataName, int[] rows, double[] p, int[] y)
    {
        var sample = rows.Take(5000).ToArray();
        var importance = bundle.Model.Importance(table, sample, y.Take(sample.Length).ToArray());
        // Explained rows: the riskiest, the safest and a few from the middle.
        var byScore = Enumerable.Range(0, rows.Length).OrderByDescending(i => p[i]).ToArray();
        var picks = byScore.Take(4).Concat(byScore.Skip(byScore.Length / 2).Take(2)).Concat(byScore.TakeLast(2)).Distinct().ToArray();
        var explained = bundle.Model.ExplainRows(table, picks.Select(i => rows[i]).ToArray(), top: 5);
        int idIdx = bundle.IdColumn is string id ? table.IndexOf(id) : -1;
        var examples = picks.Select((i, k) => new ExplainedRow(idIdx >= 0 ? table.Rows[rows[i]][idIdx] : $"line {table.Lines[rows[i]]}", p[i], y[i],
            explained[k].Reasons.Select(r => (r.Feature, r.Contribution)).ToList())
        {
            Tokens = explained[k].Tokens?.Select(kv => (kv.Key, (IReadOnlyList<(string, double)>)kv.Value.Select(t => (t.Text, t.Contribution)).ToList())).ToList() ?? [],
        }).ToList();
        var stats = ColumnStatistics.Compute(table, bundle.Schema);
        return new ReportContent
        {
            Title = $"Jianwei model report — {dataName}",
            Facts =
            [
                ("data", $"{dataName}: {table.RowCount:N0} rows, {rows.Length:N0} labeled"),
                ("model", $"{bundlePath} ({bundle.Training["learner"]}, {bundle.Training["preset"]} preset, trained {bundle.Created:yyyy-MM-dd HH:mm} UTC on {bundle.Training["train_rows"]} rows)"),
                ("label", $"{bundle.Schema.Label} = {bundle.Schema.PositiveClass} is positive; threshold {bundle.Threshold.ToString("0.0000", CultureInfo.InvariantCulture)} (best F1 at training)"),
                ("training data", bundle.DataFingerprint),
            ],
            Scores = p, Labels = y, Threshold = bundle.Threshold, Importance = importance,
            ImportanceKind = bundle.Model.ImportanceKind,
            TrainingCurves = Curves(bundle.Training["curves"] as System.Text.Json.Nodes.JsonObject),
            Examples = examples,
            ColumnSummary = stats.Select(s => new[]
            {
                s.Name, $"{s.Schema.Role} / {s.Schema.Type}".ToLowerInvariant(), s.MissingRate.ToString("0.0%", CultureInfo.InvariantCulture), s.Distinct.ToString("N0", CultureInfo.InvariantCulture),
            }).ToList(),
        };
    }

    /// <summary>
    /// The manifest's training curves as chart series: co-pretraining loss by step, fine-tuning loss and
    /// validation ROC-AUC by epoch. A curve that is not a list of finite numbers (a hand-edited
    /// manifest) is left out of the report rather than failing it.
    /// </summary>
    private static List<Series> Curves(System.Text.Json.Nodes.JsonObject? curves)
    {
        var series = new List<Series>();
        if (curves is null) return series;
        static double? Finite(System.Text.Json.Nodes.JsonNode? n) =>
            n is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<double>(out double d) && double.IsFinite(d) ? d : null;
        if (curves["co_pretraining_loss"] is System.Text.Json.Nodes.JsonArray pre && pre.Count > 1)
        {
            var points = pre.Select(v => v is System.Text.Json.Nodes.JsonArray { Count: 2 } pair && Finite(pair[0]) is double x && Finite(pair[1]) is double y ? (x, y) : ((double, double)?)null).ToList();
            if (points.All(q => q is not null))
                series.Add(new Series("co-pretraining loss (by step)", points.Select(q => q!.Value.Item1).ToArray(), points.Select(q => q!.Value.Item2).ToArray(), "#1f77b4"));
        }
        foreach (var (key, name, color) in new[] { ("fine_tuning_loss", "fine-tuning loss (by epoch)", "#d62728"), ("fine_tuning_validation_auc", "fine-tuning validation ROC-AUC (by epoch)", "#2ca02c") })
            if (curves[key] is System.Text.Json.Nodes.JsonArray a && a.Count > 0 && a.Select(Finite).ToList() is var values && values.All(v => v is not null))
                series.Add(new Series(name, Enumerable.Range(1, a.Count).Select(i => (double)i).ToArray(), values.Select(v => v!.Value).ToArray(), color));
        return series;
    }

    public static Command Explain(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory" };
        var data = new Argument<FileInfo>("DATA") { Description = "rows to explain" };
        var top = new Option<int>("--top") { Description = "reasons per row", DefaultValueFactory = _ => 5 };
        var limit = new Option<int>("--rows") { Description = "explain at most this many rows (from the top of the file)", DefaultValueFactory = _ => 20 };
        var json = JsonOption();
        var cmd = new Command("explain", """
            Show why each row got its score: the input columns that moved its log-odds most (XGBoost
            tree SHAP values; logistic regression weight × value; the multimodal transformer's
            Integrated Gradients, text columns as the sum of their pieces; a stack weighs its parts).

            Examples:
              jianwei explain model applicants.csv --rows 5
              jianwei explain model applicants.csv --json
            """) { bundleArg, data, top, limit, json };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(limit) < 1) throw new UserErrorException($"--rows: {parse.GetValue(limit)}; explain at least 1 row.");
            if (parse.GetValue(top) < 1) throw new UserErrorException($"--top: {parse.GetValue(top)}; show at least 1 reason per row.");
            using var bundle = LoadBundle(parse.GetValue(bundleArg)!);
            var table = input.Load(parse, parse.GetValue(data)!);
            var rows = Enumerable.Range(0, Math.Min(parse.GetValue(limit), table.RowCount)).ToArray();
            bundle.Schema.CheckHeader(table.Header, table.Source, needLabel: false);
            var p = bundle.Model.Predict(table, rows);
            var reasons = bundle.Model.Explain(table, rows, parse.GetValue(top));
            int idIdx = bundle.IdColumn is string id ? table.IndexOf(id) : -1;
            string RowName(int r) => idIdx >= 0 ? table.Rows[r][idIdx] : $"line {table.Lines[r]}";
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize(rows.Select((r, k) => new
                {
                    row = RowName(r), probability = p[k], label = p[k] >= bundle.Threshold ? 1 : 0,
                    reasons = reasons[k].Select(x => new { feature = x.Feature, contribution = Math.Round(x.Contribution, 6) }),
                }), Json));
                return 0;
            }
            foreach (var (r, k) in rows.Select((r, k) => (r, k)))
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{RowName(r)}: probability {p[k]:0.0000}{(p[k] >= bundle.Threshold ? " (flagged)" : "")}"));
                foreach (var reason in reasons[k])
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {(reason.Contribution > 0 ? "▲" : "▼")} {reason.Feature,-28} {reason.Contribution:+0.000;-0.000}"));
            }
            return 0;
        });
        return cmd;
    }
}
