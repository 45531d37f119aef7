using System.Globalization;
using Jianwei.Data;
using Jianwei.Models.Learners;
using Jianwei.Models.Training;

namespace Jianwei.Models.Ensembles;

/// <summary>Settings of <see cref="EnsembleSchedule.Run"/>.</summary>
/// <param name="Folds">Folds each candidate is bagged over.</param>
/// <param name="Seed">Seed of the folds (the same folds for every candidate).</param>
/// <param name="Limit">The time limit the candidates share.</param>
/// <param name="RefitFull">Whether each kept candidate will be refitted once on all rows afterwards (its time is reserved).</param>
/// <param name="Progress">Where to say what runs and what is skipped, or null.</param>
public sealed record ScheduleOptions(int Folds, int Seed, TimeLimit Limit, bool RefitFull = false, TextWriter? Progress = null);

/// <summary>What became of one candidate.</summary>
/// <param name="Candidate">The candidate.</param>
/// <param name="Plan">Its preparation (null when skipped before it started).</param>
/// <param name="Bagged">Its fold models and out-of-fold predictions (null when skipped).</param>
/// <param name="FitSeconds">Seconds from its start to its last fold model (preparation included).</param>
/// <param name="FoldBudget">The time budget each fold model had (null: none).</param>
/// <param name="Skipped">Why it was skipped, or null.</param>
public sealed record CandidateOutcome(EnsembleCandidate Candidate, CandidatePlan? Plan, BaggingResult? Bagged, double FitSeconds, TimeSpan? FoldBudget, string? Skipped);

/// <summary>
/// Runs the ensemble's candidates in the order given — cheapest first, as AutoGluon does — bagging each
/// over the same folds, within one time limit. Each candidate's budget is its share of the time left
/// (<see cref="EnsembleCandidate.Share"/> over the shares of the candidates still to run), so time a
/// cheap learner did not need goes to the later ones. A candidate is skipped, and the reason recorded,
/// when the limit has (almost) run out before it starts, or when its folds so far show the rest would
/// end past the limit; the first candidate that can read the table always runs, so there is always a
/// model. One that cannot read it (<see cref="EnsembleCandidate.NotApplicable"/>) is recorded as skipped.
/// </summary>
public static class EnsembleSchedule
{
    /// <summary>A candidate does not start with less than this share of the whole limit left.</summary>
    public const double MinimumShareToStart = 0.03;

    /// <summary>Runs <paramref name="candidates"/> on <paramref name="rows"/> of <paramref name="table"/> (0/1 <paramref name="labels"/> for every row).</summary>
    public static List<CandidateOutcome> Run(IReadOnlyList<EnsembleCandidate> candidates, RawTable table, IReadOnlyList<int> labels, int[] rows, ScheduleOptions options)
    {
        var limit = options.Limit;
        if (candidates.All(c => c.NotApplicable is not null))
            throw new ArgumentException("no candidate can read this table: " + string.Join("; ", candidates.Select(c => $"{c.Name}: {c.NotApplicable}")) + ".");
        var outcomes = new List<CandidateOutcome>();
        try
        {
            for (int i = 0; i < candidates.Count; i++)
            {
                var candidate = candidates[i];
                if (candidate.NotApplicable is string why)
                {
                    outcomes.Add(Skip(candidate, null, 0, null, why, options.Progress));
                    continue;
                }
                double sharesLeft = candidates.Skip(i).Where(c => c.NotApplicable is null).Sum(c => c.Share);
                TimeSpan? budget = limit.Remaining * (candidate.Share / sharesLeft);
                bool first = outcomes.All(o => o.Candidate.NotApplicable is not null);
                if (!first && limit.Remaining is TimeSpan left && left < limit.Limit!.Value * MinimumShareToStart)
                {
                    outcomes.Add(Skip(candidate, null, 0, null, $"not started: {Seconds(left)} of the {Seconds(limit.Limit!.Value)} time limit were left", options.Progress));
                    continue;
                }
                outcomes.Add(RunOne(candidate, mandatory: first, budget, table, labels, rows, options));
            }
            return outcomes;
        }
        catch
        {
            foreach (var o in outcomes) o.Bagged?.Learner.Dispose();
            throw;
        }
    }

    private static CandidateOutcome RunOne(EnsembleCandidate candidate, bool mandatory, TimeSpan? budget, RawTable table, IReadOnlyList<int> labels, int[] rows, ScheduleOptions options)
    {
        var limit = options.Limit;
        var started = limit.Elapsed;
        options.Progress?.WriteLine($"ensemble: {candidate.Name}, {options.Folds} folds" + (budget is TimeSpan b ? $", budget {Seconds(b)}" : "") + " ...");
        var plan = candidate.Prepare(budget);
        int fits = options.Folds + (options.RefitFull ? 1 : 0);
        TimeSpan? foldBudget = budget is TimeSpan total ? Max(total - (limit.Elapsed - started), TimeSpan.FromSeconds(1)) / fits : null;
        var bagging = limit.Elapsed;
        int done = 0;
        var bagged = BaggedLearner.Fit(table, labels, rows, options.Folds, options.Seed, (fold, train) => plan.Fit(fold, train, foldBudget), folds =>
        {
            done = folds;
            return mandatory || limit.Fits((limit.Elapsed - bagging) / folds * (fits - folds));
        });
        double seconds = (limit.Elapsed - started).TotalSeconds;
        if (bagged is null)
        {
            var perFold = (limit.Elapsed - bagging) / done;
            return Skip(candidate, plan, seconds, foldBudget,
                $"stopped after {done} of {options.Folds} folds: at {Seconds(perFold)} a fold, the other {fits - done} fits would end past the time limit ({Seconds(limit.Remaining!.Value)} left)", options.Progress);
        }
        return new CandidateOutcome(candidate, plan, bagged, seconds, foldBudget, null);
    }

    private static CandidateOutcome Skip(EnsembleCandidate candidate, CandidatePlan? plan, double seconds, TimeSpan? foldBudget, string why, TextWriter? progress)
    {
        progress?.WriteLine($"ensemble: skipped {candidate.Name}: {why}.");
        return new CandidateOutcome(candidate, plan, null, seconds, foldBudget, why);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string Seconds(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.#} s");
}
