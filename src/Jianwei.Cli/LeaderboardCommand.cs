using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Jianwei.Models.Bundles;

namespace Jianwei.Cli;

/// <summary><c>jianwei leaderboard BUNDLE [DATA]</c>: the members of a bundle side by side — as recorded at training, or scored on labeled rows.</summary>
internal static class LeaderboardCommand
{
    private const string Help = """
        Show a bundle's members side by side: without DATA, the ensemble's out-of-fold leaderboard
        recorded at training (each candidate's ROC-AUC, PR-AUC, log loss, weight, scoring time per row,
        the settings it settled on, or why it was skipped); with DATA, every member the bundle holds
        and the combined model scored on those labeled rows, with scoring time per row.

        Examples:
          jianwei leaderboard model
          jianwei leaderboard model test.csv --json
        """;

    public static Command Create(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory" };
        var data = new Argument<FileInfo?>("DATA") { Description = "labeled rows to score each member on (optional)", Arity = ArgumentArity.ZeroOrOne };
        var label = new Option<string?>("--label") { Description = "the label column (default: the bundle's)" };
        var json = CliJson.Flag();
        var cmd = new Command("leaderboard", Help) { bundleArg, data, label, json };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            using var bundle = ModelBundle.Load(parse.GetValue(bundleArg)!.FullName);
            var file = parse.GetValue(data);
            var entries = file is null ? BundleLeaderboard.Recorded(bundle) : BundleLeaderboard.Score(bundle, input.Load(parse, file), parse.GetValue(label));
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize(new
                {
                    source = file is null ? bundle.Model.LeaderboardRows : file.FullName, combiner = bundle.Model.Combiner?.Kind,
                    members = entries.Select(e => new
                    {
                        learner = e.Learner, roc_auc = Number(e.RocAuc), pr_auc = Number(e.PrAuc), log_loss = Number(e.LogLoss),
                        weight = Number(e.Weight), ms_per_row = Number(e.MillisecondsPerRow), fit_seconds = Number(e.FitSeconds),
                        settings = e.Settings.Length > 0 ? e.Settings : null, skipped = e.Skipped,
                    }),
                }, CliJson.Options));
                return 0;
            }
            if (entries.Count == 0)
            {
                stdout.WriteLine($"{bundle.Model.Learner.ToString().ToLowerInvariant()}: no leaderboard was recorded (only the ensemble has one); pass labeled DATA to score the members.");
                return 0;
            }
            stdout.WriteLine(file is null ? $"{bundle.Model.LeaderboardRows}; combined by {bundle.Model.Combiner?.Kind}:" : $"{file.Name}:");
            stdout.WriteLine($"  {"learner",-16} {"ROC-AUC",8} {"PR-AUC",8} {"log loss",9} {"fit s",7} {"ms/row",8} {"weight",8}");
            foreach (var e in entries)
                stdout.WriteLine(e.Skipped is not null ? $"  {e.Learner,-16} skipped: {e.Skipped}" : string.Create(CultureInfo.InvariantCulture,
                    $"  {e.Learner,-16} {e.RocAuc,8:0.0000} {e.PrAuc,8:0.0000} {e.LogLoss,9:0.0000} {Text(e.FitSeconds, "0.0"),7} {Text(e.MillisecondsPerRow, "0.000"),8} {Text(e.Weight, "0.000"),8}"));
            return 0;
        });
        return cmd;
    }

    private static double? Number(double v) => double.IsNaN(v) ? null : v;

    private static string Text(double v, string format) => double.IsNaN(v) ? "" : v.ToString(format, CultureInfo.InvariantCulture);
}
