using System.Globalization;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Evaluation.Reports;

namespace Jianwei.Models.Bundles;

/// <summary>What the HTML report of a bundle on labeled rows shows (<see cref="HtmlReport"/> renders it).</summary>
public static class BundleReport
{
    /// <summary>The report of a bundle on labeled rows: metrics, plots, importance, explained sample rows (the riskiest, the safest, a few between), the data summary.</summary>
    public static ReportContent Build(ModelBundle bundle, string bundlePath, RawTable table, string dataName, LabeledScores scores)
    {
        var (rows, y, p) = (scores.Rows, scores.Labels, scores.Probabilities);
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
            TrainingCurves = Curves(bundle.Training["curves"] as JsonObject),
            Examples = examples,
            Leaderboard = bundle.Model.Leaderboard.Select(r => new LeaderboardLine(r.Learner, r.RocAuc, r.PrAuc, r.LogLoss, r.FitSeconds, r.PredictMsPerRow, r.Weight, r.Settings, r.Skipped)).ToList(),
            LeaderboardCombiner = bundle.Model.Combiner?.Kind ?? "", LeaderboardRows = bundle.Model.LeaderboardRows,
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
    private static List<Series> Curves(JsonObject? curves)
    {
        var series = new List<Series>();
        if (curves is null) return series;
        static double? Finite(JsonNode? n) =>
            n is JsonValue v && v.TryGetValue<double>(out double d) && double.IsFinite(d) ? d : null;
        if (curves["co_pretraining_loss"] is JsonArray pre && pre.Count > 1)
        {
            var points = pre.Select(v => v is JsonArray { Count: 2 } pair && Finite(pair[0]) is double x && Finite(pair[1]) is double y ? (x, y) : ((double, double)?)null).ToList();
            if (points.All(q => q is not null))
                series.Add(new Series("co-pretraining loss (by step)", points.Select(q => q!.Value.Item1).ToArray(), points.Select(q => q!.Value.Item2).ToArray(), "#1f77b4"));
        }
        foreach (var (key, name, color) in new[] { ("fine_tuning_loss", "fine-tuning loss (by epoch)", "#d62728"), ("fine_tuning_validation_auc", "fine-tuning validation ROC-AUC (by epoch)", "#2ca02c") })
            if (curves[key] is JsonArray a && a.Count > 0 && a.Select(Finite).ToList() is var values && values.All(v => v is not null))
                series.Add(new Series(name, Enumerable.Range(1, a.Count).Select(i => (double)i).ToArray(), values.Select(v => v!.Value).ToArray(), color));
        return series;
    }
}
