using Jianwei.Data;
using Jianwei.Evaluation;

namespace Jianwei.Models.Bundles;

/// <summary>One line of <c>jianwei leaderboard</c>: a member of the model (or the model itself) and its scores.</summary>
/// <param name="Learner">The member's name, or <c>combined</c> for the model's own scores.</param>
/// <param name="RocAuc">ROC-AUC.</param>
/// <param name="PrAuc">PR-AUC.</param>
/// <param name="LogLoss">Log loss.</param>
/// <param name="Weight">The member's weight in the combination (1 for a single learner; NaN for the combined line).</param>
/// <param name="MillisecondsPerRow">Scoring time per row, in batches (NaN when not measured).</param>
public sealed record LeaderboardEntry(string Learner, double RocAuc, double PrAuc, double LogLoss, double Weight, double MillisecondsPerRow)
{
    /// <summary>Seconds it took to fit, at training (NaN for lines scored on new rows).</summary>
    public double FitSeconds { get; init; } = double.NaN;
    /// <summary>What it settled on at training (tuned hyperparameters, co-pretraining), or empty.</summary>
    public string Settings { get; init; } = "";
    /// <summary>Why it was skipped at training (its scores are then NaN), or null.</summary>
    public string? Skipped { get; init; }
}

/// <summary>A bundle's members side by side, as recorded at training or scored on new labeled rows.</summary>
public static class BundleLeaderboard
{
    /// <summary>The ensemble's leaderboard recorded at training, best ROC-AUC first, skipped candidates last (empty for recipes without one).</summary>
    public static List<LeaderboardEntry> Recorded(ModelBundle bundle) =>
        bundle.Model.Leaderboard.OrderBy(r => r.Skipped is not null).ThenByDescending(r => r.RocAuc)
            .Select(r => new LeaderboardEntry(r.Learner, r.RocAuc, r.PrAuc, r.LogLoss, r.Weight, r.PredictMsPerRow) { FitSeconds = r.FitSeconds, Settings = r.Settings, Skipped = r.Skipped }).ToList();

    /// <summary>
    /// Each member of the model, then the model itself, scored on the labeled rows of <paramref name="table"/>
    /// (label checks as <see cref="BundleEvaluation.Evaluate"/>), with its scoring time per row.
    /// </summary>
    public static List<LeaderboardEntry> Score(ModelBundle bundle, RawTable table, string? labelColumn = null)
    {
        var scores = BundleEvaluation.Evaluate(bundle, table, labelColumn);
        var (rows, y) = (scores.Rows, scores.Labels);
        var model = bundle.Model;
        var entries = new List<LeaderboardEntry>();
        for (int l = 0; l < model.Learners.Count; l++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var p = model.Learners[l].Predict(table, rows);
            double ms = clock.Elapsed.TotalMilliseconds / Math.Max(1, rows.Length);
            entries.Add(new LeaderboardEntry(model.Learners[l].Name, Metrics.RocAuc(p, y), Metrics.PrAuc(p, y), Metrics.LogLoss(p, y), model.Combiner?.Weights[l] ?? 1, ms));
        }
        var combined = scores.Probabilities;
        var time = System.Diagnostics.Stopwatch.StartNew();
        model.Predict(table, rows);
        entries.Add(new LeaderboardEntry("combined", Metrics.RocAuc(combined, y), Metrics.PrAuc(combined, y), Metrics.LogLoss(combined, y), double.NaN,
                                         time.Elapsed.TotalMilliseconds / Math.Max(1, rows.Length)));
        return entries;
    }
}
