using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Bundles;

namespace Jianwei.Cli;

/// <summary><c>jianwei train DATA --label COL --out DIR</c>: a labeled table in, a model bundle out.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Argument<FileInfo>("DATA") { Description = "labeled CSV, TSV or JSON Lines file" };
        var label = new Option<string>("--label") { Description = "the label column", Required = true };
        var positive = new Option<string?>("--positive") { Description = "the label value that counts as positive (default: 1, bad, default, yes, ... else the rarer class)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "bundle directory to write", Required = true };
        var preset = new Option<string>("--preset") { Description = "fast (logistic regression), balanced (LR + XGBoost stacked), best (with text: the co-pretrained multimodal transformer, LR, XGBoost and LightGBM selected on held-out rows; without: the validated ensemble of LR, XGBoost and LightGBM)", DefaultValueFactory = _ => "balanced" };
        var unlabeled = new Option<FileInfo?>("--unlabeled") { Description = "rows without labels (same columns) that the best preset co-pretrains on; rows of DATA with an empty label count too" };
        var budget = new Option<double>("--budget") { Description = "best preset: minutes of co-pretraining (fine-tuning gets at most twice as long)", DefaultValueFactory = _ => 3 };
        var schemaFile = new Option<FileInfo?>("--schema") { Description = "a schema file (from jianwei inspect --schema-out) pinning roles and types" };
        var seed = new Option<int>("--seed") { Description = "seed of the validation split and the learners", DefaultValueFactory = _ => 0 };
        var json = CliJson.Flag();
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
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(data)!;
            var presetValue = ParsePreset(parse.GetValue(preset)!);
            double minutes = OptionChecks.Within(parse.GetValue(budget), "--budget", 0, 24 * 60, "minutes");
            var dir = parse.GetValue(output)!;
            ModelBundle.CheckReplaceable(dir.FullName);   // refuse a directory that is not ours before minutes of training
            var table = input.Load(parse, file);
            if (parse.GetValue(unlabeled) is FileInfo extra) table = table.Append(input.Load(parse, extra), mayBeAbsent: parse.GetValue(label));
            var schema = SchemaResolution.Resolve(table, parse.GetValue(label)!, parse.GetValue(positive), parse.GetValue(schemaFile)?.FullName);
            if (presetValue != Preset.Best && fineTuning.Given(parse) is [_, ..] ignored)
                stderr.WriteLine($"note: {string.Join(", ", ignored)} fine-tune the best preset's transformer; the {presetValue.ToString().ToLowerInvariant()} preset has none, so they are ignored.");
            var multimodal = MultimodalLearnerOptions.ForBudget(minutes);
            multimodal = multimodal with { HeadLayers = fineTuning.HeadLayers(parse, multimodal.Encoder.Layers), FineTune = fineTuning.Apply(parse, multimodal.FineTune) };
            using var bundle = ModelBundle.Train(table, schema, file.FullName, new BundleTrainingOptions { Preset = presetValue, Seed = parse.GetValue(seed), Multimodal = multimodal }, stderr);
            bundle.Save(dir.FullName);
            if (parse.GetValue(json))
                stdout.WriteLine(JsonSerializer.Serialize(new { bundle = dir.FullName, threshold = bundle.Threshold, metrics = bundle.Metrics, training = bundle.Training }, CliJson.Options));
            else
            {
                stdout.WriteLine($"wrote {dir.FullName}");
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"validation ({bundle.Metrics["rows"]:N0} rows): ROC-AUC {bundle.Metrics["roc_auc"]:0.0000}, PR-AUC {bundle.Metrics["pr_auc"]:0.0000}, KS {bundle.Metrics["ks"]:0.0000}, F1 {bundle.Metrics["f1"]:0.0000} at threshold {bundle.Threshold:0.0000}"));
                PrintLeaderboard(stdout, bundle.Model);
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>The ensemble's candidates, best out-of-fold ROC-AUC first (nothing for other recipes).</summary>
    private static void PrintLeaderboard(TextWriter stdout, TabularModel model)
    {
        if (model.Leaderboard.Count == 0) return;
        stdout.WriteLine($"leaderboard ({model.LeaderboardRows}; combined by {model.Combiner!.Kind}):");
        stdout.WriteLine($"  {"learner",-10} {"ROC-AUC",8} {"PR-AUC",8} {"log loss",9} {"fit s",7} {"weight",8}");
        foreach (var r in model.Leaderboard.OrderByDescending(r => r.RocAuc))
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Learner,-10} {r.RocAuc,8:0.0000} {r.PrAuc,8:0.0000} {r.LogLoss,9:0.0000} {r.FitSeconds,7:0.0} {r.Weight,8:0.000}"));
    }

    internal static Preset ParsePreset(string value) => value.ToLowerInvariant() switch
    {
        "fast" => Preset.Fast,
        "balanced" => Preset.Balanced,
        "best" => Preset.Best,
        _ => throw new UserErrorException($"--preset: '{value}' is not fast, balanced or best."),
    };
}
