using Jianwei.Models.Learners;

namespace Jianwei.Models.Ensembles;

/// <summary>
/// Fits one model of a candidate on <c>rows</c> within <c>budget</c> (null: no limit). <c>fold</c> is the
/// fold's 0-based index (k for the refit on all rows), so a learner can vary its seed by fold.
/// </summary>
public delegate ILearner FoldFit(int fold, int[] rows, TimeSpan? budget);

/// <summary>What a candidate prepared once, before its fold models: how to fit each, and what it settled on, in words.</summary>
/// <param name="Fit">Fits one fold model.</param>
/// <param name="Settings">The settings it chose (tuned hyperparameters, co-pretraining steps), for the leaderboard; empty when fixed.</param>
public sealed record CandidatePlan(FoldFit Fit, string Settings = "");

/// <summary>
/// A candidate of the validated ensemble. <paramref name="Prepare"/> does the work done once for all
/// fold models — a tuning search, co-pretraining — within the budget it is given (null: none), and
/// says how to fit each fold model; the budget it does not spend goes to its fold models.
/// </summary>
/// <param name="Name">The learner's name (<c>logistic</c>, <c>boosting</c>, <c>lightgbm</c>, <c>ft-transformer</c>, <c>multimodal</c>).</param>
/// <param name="Share">Its weight when the time left is divided among the candidates still to run (cheap learners need little).</param>
/// <param name="Prepare">The one-off preparation, within a budget.</param>
public sealed record EnsembleCandidate(string Name, double Share, Func<TimeSpan?, CandidatePlan> Prepare)
{
    /// <summary>Why this candidate cannot run on the table at all (no text for a text learner), or null: it is then skipped with this reason, taking no time.</summary>
    public string? NotApplicable { get; init; }
}
