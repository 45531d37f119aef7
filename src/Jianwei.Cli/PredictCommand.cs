using System.CommandLine;
using System.Globalization;
using Jianwei.Models.Bundles;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary><c>jianwei predict BUNDLE DATA --out FILE</c>: a CSV of probabilities and labels.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout)
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
            var outFile = parse.GetValue(output)!;
            OptionChecks.File(outFile, "--out");
            using var bundle = ModelBundle.Load(parse.GetValue(bundleArg)!.FullName);
            var table = input.Load(parse, parse.GetValue(data)!);
            var p = bundle.Score(table);
            AtomicFile.WriteAllText(outFile.FullName, ScoreFile.Csv(bundle, table, p));
            stdout.WriteLine($"wrote {outFile.FullName} ({p.Length:N0} rows, {p.Count(v => v >= bundle.Threshold):N0} at or above the threshold {bundle.Threshold.ToString("0.0000", CultureInfo.InvariantCulture)})");
            return 0;
        });
        return cmd;
    }
}
