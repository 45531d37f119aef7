using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Jianwei.Models.Bundles;

namespace Jianwei.Cli;

/// <summary><c>jianwei explain BUNDLE DATA</c>: each row's score and the columns behind it.</summary>
internal static class ExplainCommand
{
    public static Command Create(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory" };
        var data = new Argument<FileInfo>("DATA") { Description = "rows to explain" };
        var top = new Option<int>("--top") { Description = "reasons per row", DefaultValueFactory = _ => 5 };
        var limit = new Option<int>("--rows") { Description = "explain at most this many rows (from the top of the file)", DefaultValueFactory = _ => 20 };
        var json = CliJson.Flag();
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
            using var bundle = ModelBundle.Load(parse.GetValue(bundleArg)!.FullName);
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
                }), CliJson.Options));
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
