using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Bundles;

/// <summary>
/// One candidate of an ensemble as its leaderboard shows it: scores on the rows the combination was
/// chosen on (out of fold for the validated ensemble), the time it took, its weight — or why it was skipped.
/// </summary>
/// <param name="Learner">The candidate's name (<c>logistic</c>, <c>boosting</c>, <c>lightgbm</c>, <c>ft-transformer</c>, <c>multimodal</c>).</param>
/// <param name="RocAuc">ROC-AUC (NaN when skipped).</param>
/// <param name="PrAuc">PR-AUC (NaN when skipped).</param>
/// <param name="LogLoss">Log loss (NaN when skipped).</param>
/// <param name="FitSeconds">Seconds to prepare and fit all its models.</param>
/// <param name="Weight">Its weight in the combination (selection: a share; stacker: the log-odds coefficient; 0 when dropped or skipped).</param>
public sealed record LeaderboardRow(string Learner, double RocAuc, double PrAuc, double LogLoss, double FitSeconds, double Weight)
{
    /// <summary>Milliseconds its models took to score one row, in batches (NaN when not measured).</summary>
    public double PredictMsPerRow { get; init; } = double.NaN;
    /// <summary>The settings it settled on (tuned hyperparameters, co-pretraining), in words; empty when fixed.</summary>
    public string Settings { get; init; } = "";
    /// <summary>Why it was skipped, or null when it was fitted.</summary>
    public string? Skipped { get; init; }

    /// <summary>The row as the bundle records it (scores omitted when skipped).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["learner"] = Learner };
        if (Skipped is null)
        {
            json["roc_auc"] = Math.Round(RocAuc, 6); json["pr_auc"] = Math.Round(PrAuc, 6); json["log_loss"] = Math.Round(LogLoss, 6);
        }
        json["fit_seconds"] = Math.Round(FitSeconds, 2);
        json["weight"] = Math.Round(Weight, 6);
        if (!double.IsNaN(PredictMsPerRow)) json["predict_ms_per_row"] = Math.Round(PredictMsPerRow, 4);
        if (Settings.Length > 0) json["settings"] = Settings;
        if (Skipped is not null) json["skipped"] = Skipped;
        return json;
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote: scores in range unless the row says why it was skipped.</summary>
    public static LeaderboardRow FromJson(JsonFields r)
    {
        string? skipped = r.OptionalString("skipped");
        double Score(string field, double max) => skipped is null ? r.Number(field, 0, max) : double.NaN;
        return new LeaderboardRow(r.String("learner"), Score("roc_auc", 1), Score("pr_auc", 1), Score("log_loss", JsonFields.Largest), r.Number("fit_seconds", 0), r.Number("weight"))
        {
            PredictMsPerRow = r.Has("predict_ms_per_row") ? r.Number("predict_ms_per_row", 0) : double.NaN,
            Settings = r.OptionalString("settings") ?? "", Skipped = skipped,
        };
    }
}
