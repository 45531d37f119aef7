using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Bundles;

/// <summary>
/// The validated ensemble: each candidate bagged over k folds (so every training row has an
/// out-of-fold prediction) within the time limit, cheapest first (<see cref="EnsembleSchedule"/>); then
/// the combination chosen on those predictions — greedy ensemble selection (never below its best member
/// there), a logistic stacker with non-negative weights, or the best member alone — by which scores best
/// on out-of-fold rows it was not fitted on (<see cref="CombinerChoice"/>), and refitted on all. Candidates of weight 0 are dropped from the
/// bundle (they stay on the leaderboard); with <see cref="TabularModelOptions.RefitFull"/> each kept one
/// is refitted once on all rows in place of its fold models, for cheaper scoring.
/// </summary>
public sealed partial class TabularModel
{
    private static TabularModel FitEnsemble(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, int[] unlabeled, TabularModelOptions options)
    {
        var y = rows.Select(r => labels[r]).ToArray();
        var candidates = EnsembleCandidates(table, schema, labels, rows, unlabeled, options);
        var progress = options.Multimodal.Progress;
        var outcomes = EnsembleSchedule.Run(candidates, table, labels, rows, new ScheduleOptions(options.EnsembleFolds, options.Seed, options.Limit, options.RefitFull, progress));
        var fitted = outcomes.Where(o => o.Bagged is not null).ToList();
        var bags = fitted.Select(o => (ILearner)o.Bagged!.Learner).ToList();
        var refits = new List<ILearner>();
        try
        {
            var combiner = CombinerChoice.Choose(fitted.Select(o => o.Bagged!.OutOfFold).ToList(), y, options.Seed);
            var members = Enumerable.Range(0, fitted.Count).Where(j => combiner.Weights[j] != 0 || options.KeepUnweighted).ToList();
            var leaderboard = outcomes.Select(o => o.Bagged is null
                ? new LeaderboardRow(o.Candidate.Name, double.NaN, double.NaN, double.NaN, o.FitSeconds, 0) { Skipped = o.Skipped, Settings = o.Plan?.Settings ?? "" }
                : LeaderboardOf(o, y, combiner.Weights[fitted.IndexOf(o)])).ToList();
            if (options.RefitFull)
                foreach (int j in members)
                {
                    progress?.WriteLine($"ensemble: refitting {bags[j].Name} on all {rows.Length:N0} rows ...");
                    refits.Add(BaggedLearner.Of(fitted[j].Plan!.Fit(options.EnsembleFolds, rows, fitted[j].FoldBudget)));
                }
            var kept = options.RefitFull ? refits : members.Select(j => bags[j]).ToList();
            foreach (var bag in bags.Except(kept)) bag.Dispose();   // weight 0, or replaced by its refit
            return new TabularModel(TabularLearner.Ensemble, kept, combiner.Subset(members))
            {
                Leaderboard = leaderboard, RefitFull = options.RefitFull,
                OutOfFold = fitted.ToDictionary(o => o.Candidate.Name, o => o.Bagged!.OutOfFold),
            };
        }
        catch
        {
            foreach (var learner in bags.Concat(refits)) learner.Dispose();
            throw;
        }
    }

    private static LeaderboardRow LeaderboardOf(CandidateOutcome o, int[] y, double weight)
    {
        var p = o.Bagged!.OutOfFold;
        // Each row was predicted once by one fold model; scoring a new row runs all k of them.
        double msPerRow = 1000 * o.Bagged.PredictSeconds / Math.Max(1, p.Length) * o.Bagged.Learner.Folds.Count;
        return new LeaderboardRow(o.Candidate.Name, Metrics.RocAuc(p, y), Metrics.PrAuc(p, y), Metrics.LogLoss(p, y), o.FitSeconds, weight)
        {
            PredictMsPerRow = msPerRow, Settings = o.Plan!.Settings,
        };
    }

    /// <summary>The ensemble's part of <c>tabular.json</c>: each kept learner's fold models, the combiner, the leaderboard.</summary>
    private void SaveEnsemble(JsonObject json, string directory)
    {
        var learners = new JsonArray();
        foreach (var learner in Learners)
        {
            var parts = new JsonObject();
            learner.Save(parts, directory);
            learners.Add(parts);
        }
        var combiner = Combiner!.ToJson();
        combiner["kind"] = Combiner.Kind;
        json["ensemble"] = new JsonObject
        {
            ["learners"] = learners, ["combiner"] = combiner, ["refit_full"] = RefitFull,
            ["leaderboard"] = new JsonArray(Leaderboard.Select(r => (JsonNode)r.ToJson()).ToArray()),
        };
    }

    private static TabularModel LoadEnsemble(JsonFields json, string directory)
    {
        var ensemble = json.Object("ensemble");
        var entries = ensemble.Objects("learners");
        if (entries.Count == 0) throw ensemble.Error("learners", "empty; an ensemble has at least one learner.");
        var learners = new List<ILearner>();
        try
        {
            foreach (var entry in entries) learners.Add(BaggedLearner.Load(entry, directory, (parts, dir) => LoadLearner(entry.String("name"), parts, dir)));
            var c = ensemble.Object("combiner");
            ICombiner combiner = c.String("kind") switch
            {
                "selection" => GreedyEnsemble.FromJson(c, learners.Count),
                "stacker" => LogisticStacker.FromJson(c, learners.Count),
                var other => throw c.Error("kind", $"'{other}' is not selection or stacker."),
            };
            var leaderboard = ensemble.Objects("leaderboard").Select(LeaderboardRow.FromJson).ToList();
            foreach (var learner in learners)
                if (!leaderboard.Any(r => r.Learner == learner.Name && r.Skipped is null))
                    throw ensemble.Error("leaderboard", $"has no fitted '{learner.Name}', which the ensemble holds.");
            return new TabularModel(TabularLearner.Ensemble, learners, combiner)
            {
                Leaderboard = leaderboard, RefitFull = ensemble.Has("refit_full") && ensemble.Bool("refit_full"),
            };
        }
        catch
        {
            foreach (var l in learners) l.Dispose();
            throw;
        }
    }
}
