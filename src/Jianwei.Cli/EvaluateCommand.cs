using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Jianwei.Evaluation.Reports;
using Jianwei.Models.Bundles;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary><c>jianwei evaluate BUNDLE DATA [--report FILE]</c>: metrics on labeled rows and the HTML report.</summary>
internal static class EvaluateCommand
{
    public static Command Create(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory" };
        var data = new Argument<FileInfo>("DATA") { Description = "labeled rows" };
        var label = new Option<string?>("--label") { Description = "the label column (default: the bundle's)" };
        var report = new Option<FileInfo?>("--report") { Description = "write a self-contained HTML report here" };
        var json = CliJson.Flag();
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
            var reportFile = parse.GetValue(report);
            OptionChecks.File(reportFile, "--report");
            var bundleDir = parse.GetValue(bundleArg)!;
            using var bundle = ModelBundle.Load(bundleDir.FullName);
            var file = parse.GetValue(data)!;
            var table = input.Load(parse, file);
            var scores = BundleEvaluation.Evaluate(bundle, table, parse.GetValue(label));
            var metrics = scores.Metrics;
            if (reportFile is not null)
                AtomicFile.WriteAllText(reportFile.FullName, HtmlReport.Render(BundleReport.Build(bundle, bundleDir.FullName, table, file.Name, scores)));
            if (parse.GetValue(json))
                stdout.WriteLine(JsonSerializer.Serialize(new { data = file.FullName, threshold = bundle.Threshold, metrics, report = reportFile?.FullName }, CliJson.Options));
            else
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{scores.Rows.Length:N0} labeled rows, positive rate {scores.Labels.Average():0.00%}: ROC-AUC {metrics["roc_auc"]:0.0000}, PR-AUC {metrics["pr_auc"]:0.0000}, KS {metrics["ks"]:0.0000}"));
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"at threshold {bundle.Threshold:0.0000}: accuracy {metrics["accuracy"]:0.0000}, precision {metrics["precision"]:0.0000}, recall {metrics["recall"]:0.0000}, F1 {metrics["f1"]:0.0000}"));
                if (reportFile is not null) stdout.WriteLine($"report: {reportFile.FullName}");
            }
            return 0;
        });
        return cmd;
    }
}
