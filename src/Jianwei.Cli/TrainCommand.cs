using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Bundles;
using Jianwei.Models.Training;

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
        var preset = new Option<string>("--preset") { Description = "fast (logistic regression, seconds), balanced (LR + XGBoost stacked, about a minute), best (the validated ensemble: LR, tuned LightGBM and XGBoost, the FT-Transformer and, with text, the co-pretrained multimodal transformer, bagged and combined on out-of-fold predictions within --time-limit)", DefaultValueFactory = _ => "balanced" };
        var unlabeled = new Option<FileInfo?>("--unlabeled") { Description = "rows without labels (same columns) that the best preset co-pretrains on; rows of DATA with an empty label count too" };
        var budget = new Option<double>("--budget") { Description = "best preset: at most this many minutes of co-pretraining (within the time limit it gets 35 % of the multimodal transformer's share; without one, fine-tuning gets at most twice as long)", DefaultValueFactory = _ => 3 };
        var timeLimit = new Option<double?>("--time-limit") { Description = $"best preset: minutes for the whole training (default {BundleTrainingOptions.DefaultBestTimeLimit.TotalMinutes:0}; 0: none); candidates run cheapest first, each with a share of the time left, and what does not fit is skipped and reported" };
        var folds = new Option<int?>("--folds") { Description = "best preset: folds each candidate is bagged over (default: 3 under a 5-minute limit, 5 up to an hour, 8 beyond)" };
        var candidates = new Option<string?>("--candidates") { Description = "best preset: the learners to try, comma-separated, from logistic, nb-logistic, binned-logistic, lightgbm, xgboost, ft-transformer, multimodal (default: all; nb-logistic and multimodal only on tables with text, binned-logistic with numbers); they run cheapest first in that order" };
        var refitFull = new Option<bool>("--refit-full") { Description = "best preset: refit each kept candidate once on all rows instead of keeping its fold models (one model per candidate: faster scoring, a smaller bundle)" };
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
              jianwei train companies.csv --label default --preset best --unlabeled more.csv --out model
              jianwei train companies.csv --label default --preset best --time-limit 30 --folds 8 --refit-full --out model
              jianwei train companies.csv --label default --preset best --optimizer ranger --fgm 0.5 --out model
            """) { data, label, positive, output, preset, schemaFile, seed, unlabeled, budget, timeLimit, folds, candidates, refitFull, json };
        var fineTuning = new FineTuningOptions("best preset: multimodal");
        fineTuning.AddTo(cmd);
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var started = TimeProvider.System.GetTimestamp();   // the time limit covers the whole command, reading included
            var file = parse.GetValue(data)!;
            var presetValue = ParsePreset(parse.GetValue(preset)!);
            double minutes = OptionChecks.Within(parse.GetValue(budget), "--budget", 0, 24 * 60, "minutes");
            double? limitMinutes = parse.GetValue(timeLimit) is double tl ? OptionChecks.Within(tl, "--time-limit", 0, 7 * 24 * 60, "minutes") : null;
            int? foldCount = parse.GetValue(folds) is int k ? OptionChecks.Within(k, "--folds", 2, 20, "folds") : null;
            var chosen = parse.GetValue(candidates) is string list ? ParseCandidates(list) : null;
            var dir = parse.GetValue(output)!;
            ModelBundle.CheckReplaceable(dir.FullName);   // refuse a directory that is not ours before minutes of training
            var table = input.Load(parse, file);
            if (parse.GetValue(unlabeled) is FileInfo extra) table = table.Append(input.Load(parse, extra), mayBeAbsent: parse.GetValue(label));
            var schema = SchemaResolution.Resolve(table, parse.GetValue(label)!, parse.GetValue(positive), parse.GetValue(schemaFile)?.FullName);
            if (presetValue == Preset.Best && chosen is not null && chosen.All(c => TabularModel.CannotRead(c, schema) is not null))
                throw new UserErrorException("--candidates: none of them can read this table (" + string.Join("; ", chosen.Select(c => $"{ModelBundle.LearnerName(c)}: {TabularModel.CannotRead(c, schema)}")) + "); name others.");
            if (presetValue != Preset.Best && fineTuning.Given(parse) is [_, ..] ignored)
                stderr.WriteLine($"note: {string.Join(", ", ignored)} fine-tune the best preset's transformer; the {presetValue.ToString().ToLowerInvariant()} preset has none, so they are ignored.");
            if (presetValue != Preset.Best && BestOnly(parse, budget, timeLimit, folds, candidates, refitFull) is [_, ..] bestOnly)
                stderr.WriteLine($"note: {string.Join(", ", bestOnly)} shape the best preset's ensemble; the {presetValue.ToString().ToLowerInvariant()} preset has nothing to trade for time, so they are ignored.");
            var multimodal = MultimodalLearnerOptions.ForBudget(minutes);
            multimodal = multimodal with { HeadLayers = fineTuning.HeadLayers(parse, multimodal.Encoder.Layers), KeywordBuckets = fineTuning.KeywordBuckets(parse), FineTune = fineTuning.Apply(parse, multimodal.FineTune) };
            var limit = TimeLimit.Since(started, limitMinutes is double m ? (m > 0 ? TimeSpan.FromMinutes(m) : null)
                                                 : presetValue == Preset.Best ? BundleTrainingOptions.DefaultBestTimeLimit : null);
            using var bundle = ModelBundle.Train(table, schema, file.FullName, new BundleTrainingOptions
            {
                Preset = presetValue, Seed = parse.GetValue(seed), Multimodal = multimodal, Limit = limit, Folds = foldCount, RefitFull = parse.GetValue(refitFull), Candidates = chosen,
            }, stderr);
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

    /// <summary>The best-preset options given on the command line (or by a config file), by name.</summary>
    private static List<string> BestOnly(ParseResult parse, params Option[] options) =>
        options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();

    /// <summary>The ensemble's candidates, best out-of-fold ROC-AUC first, skipped ones last with the reason (nothing for other recipes).</summary>
    private static void PrintLeaderboard(TextWriter stdout, TabularModel model)
    {
        if (model.Leaderboard.Count == 0) return;
        stdout.WriteLine($"leaderboard ({model.LeaderboardRows}; combined by {model.Combiner!.Kind}{(model.RefitFull ? "; members refitted on all rows" : "")}):");
        stdout.WriteLine($"  {"learner",-16} {"ROC-AUC",8} {"PR-AUC",8} {"log loss",9} {"fit s",7} {"ms/row",7} {"weight",7}");
        foreach (var r in model.Leaderboard.Where(r => r.Skipped is null).OrderByDescending(r => r.RocAuc))
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Learner,-16} {r.RocAuc,8:0.0000} {r.PrAuc,8:0.0000} {r.LogLoss,9:0.0000} {r.FitSeconds,7:0.0} {r.PredictMsPerRow,7:0.000} {r.Weight,7:0.000}"));
        foreach (var r in model.Leaderboard.Where(r => r.Skipped is not null))
            stdout.WriteLine($"  {r.Learner,-16} skipped: {r.Skipped}");
    }

    /// <summary>The learners named in <c>--candidates</c>, in the order they run (cheapest first), whatever order they were named in.</summary>
    private static List<TabularLearner> ParseCandidates(string list)
    {
        var order = new TabularModelOptions().EnsembleCandidates;
        var named = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(name => name.ToLowerInvariant() switch
        {
            "logistic" or "lr" => TabularLearner.Logistic,
            "nb-logistic" or "nblr" => TabularLearner.NaiveBayesLogistic,
            "binned-logistic" => TabularLearner.BinnedLogistic,
            "lightgbm" or "lgb" => TabularLearner.LightGbm,
            "xgboost" or "xgb" or "boosting" => TabularLearner.Boosting,
            "ft-transformer" or "ft" => TabularLearner.FtTransformer,
            "multimodal" => TabularLearner.Multimodal,
            _ => throw new UserErrorException($"--candidates: '{name}' is not one of logistic, nb-logistic, binned-logistic, lightgbm, xgboost, ft-transformer, multimodal."),
        }).ToHashSet();
        return named.Count > 0 ? order.Where(named.Contains).ToList() : throw new UserErrorException("--candidates: name at least one learner.");
    }

    internal static Preset ParsePreset(string value) => value.ToLowerInvariant() switch
    {
        "fast" => Preset.Fast,
        "balanced" => Preset.Balanced,
        "best" => Preset.Best,
        _ => throw new UserErrorException($"--preset: '{value}' is not fast, balanced or best."),
    };
}
