using System.Diagnostics;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Bundles;

/// <summary>One candidate of the ensemble: its out-of-fold scores on the training rows, the time it took, its weight.</summary>
/// <param name="Learner">The candidate's name (<c>logistic</c>, <c>boosting</c>, <c>lightgbm</c>, …).</param>
/// <param name="RocAuc">Out-of-fold ROC-AUC.</param>
/// <param name="PrAuc">Out-of-fold PR-AUC.</param>
/// <param name="LogLoss">Out-of-fold log loss.</param>
/// <param name="FitSeconds">Seconds to fit all its fold models.</param>
/// <param name="Weight">Its weight in the combination (selection: a share; stacker: the log-odds coefficient).</param>
public sealed record LeaderboardRow(string Learner, double RocAuc, double PrAuc, double LogLoss, double FitSeconds, double Weight);

/// <summary>
/// The validated ensemble: each candidate bagged over k folds (so every training row has an
/// out-of-fold prediction), then the combination chosen on those predictions — greedy ensemble
/// selection (never below its best member there) or a logistic stacker — by which scores better on
/// the half of the out-of-fold rows it was not fitted on (both halves, summed), and refitted on all.
/// </summary>
public sealed partial class TabularModel
{
    private static TabularModel FitEnsemble(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options)
    {
        var y = rows.Select(r => labels[r]).ToArray();
        var bags = new List<ILearner>();
        var oof = new List<double[]>();
        var seconds = new List<double>();
        try
        {
            foreach (var candidate in options.EnsembleCandidates)
            {
                if (LearnersOf(candidate) is not [_]) throw new ArgumentException($"an ensemble candidate is a single-learner recipe; {candidate} is not.");
                options.Multimodal.Progress?.WriteLine($"ensemble: bagging {Describe(candidate)} over {options.EnsembleFolds} folds ...");
                var clock = Stopwatch.StartNew();
                var single = options with { Learner = candidate };
                var (bag, predictions) = BaggedLearner.Fit(table, labels, rows, options.EnsembleFolds, options.Seed, fit =>
                {
                    var model = Fit(table, schema, labels, fit, single);
                    return model.Learners[0];   // a single-learner model owns nothing else
                });
                bags.Add(bag); oof.Add(predictions); seconds.Add(clock.Elapsed.TotalSeconds);
            }
            var combiner = ChooseCombiner(oof, y, options.Seed);
            return new TabularModel(TabularLearner.Ensemble, bags, combiner)
            {
                Leaderboard = bags.Select((b, j) => new LeaderboardRow(b.Name, Metrics.RocAuc(oof[j], y), Metrics.PrAuc(oof[j], y), Metrics.LogLoss(oof[j], y), seconds[j], combiner.Weights[j])).ToList(),
            };
        }
        catch
        {
            foreach (var b in bags) b.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Greedy selection or the stacker, whichever has the higher ROC-AUC on the half of the
    /// out-of-fold rows it was not fitted on (a stratified 2-fold split, both ways); ties go to selection.
    /// </summary>
    internal static ICombiner ChooseCombiner(IReadOnlyList<double[]> oof, int[] y, int seed)
    {
        if (oof.Count == 1) return GreedyEnsemble.Fit(oof, y, Metrics.RocAuc, steps: 1);
        double selection = 0, stacker = 0;
        foreach (var half in DataSplits.StratifiedKFold(y, 2, seed))
        {
            var fit = oof.Select(p => half.Train.Select(i => p[i]).ToArray()).ToList();
            var test = oof.Select(p => half.Test.Select(i => p[i]).ToArray()).ToList();
            int[] yFit = half.Train.Select(i => y[i]).ToArray(), yTest = half.Test.Select(i => y[i]).ToArray();
            selection += Metrics.RocAuc(GreedyEnsemble.Fit(fit, yFit, Metrics.RocAuc).Predict(test), yTest);
            stacker += Metrics.RocAuc(LogisticStacker.Fit(fit, yFit).Predict(test), yTest);
        }
        return stacker > selection ? LogisticStacker.Fit(oof, y) : GreedyEnsemble.Fit(oof, y, Metrics.RocAuc);
    }

    /// <summary>The ensemble's part of <c>tabular.json</c>: each bagged learner's folds, the combiner, the leaderboard.</summary>
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
            ["learners"] = learners, ["combiner"] = combiner,
            ["leaderboard"] = LeaderboardJson(),
        };
    }

    private JsonArray LeaderboardJson() => new(Leaderboard.Select(r => (JsonNode)new JsonObject
    {
        ["learner"] = r.Learner, ["roc_auc"] = Math.Round(r.RocAuc, 6), ["pr_auc"] = Math.Round(r.PrAuc, 6), ["log_loss"] = Math.Round(r.LogLoss, 6),
        ["fit_seconds"] = Math.Round(r.FitSeconds, 2), ["weight"] = Math.Round(r.Weight, 6),
    }).ToArray());

    private static List<LeaderboardRow> ReadLeaderboard(JsonFields json, int learners) =>
        json.Objects("leaderboard", learners).Select(r => new LeaderboardRow(r.String("learner"), r.Number("roc_auc", 0, 1), r.Number("pr_auc", 0, 1),
            r.Number("log_loss", 0), r.Number("fit_seconds", 0), r.Number("weight"))).ToList();

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
            return new TabularModel(TabularLearner.Ensemble, learners, combiner) { Leaderboard = ReadLeaderboard(ensemble, learners.Count) };
        }
        catch
        {
            foreach (var l in learners) l.Dispose();
            throw;
        }
    }
}
