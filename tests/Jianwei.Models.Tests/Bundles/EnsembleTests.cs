using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Bundles;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;
using Jianwei.Models.Training;

namespace Jianwei.Models.Tests.Bundles;

/// <summary>
/// The validated ensemble: bagging keeps every out-of-fold prediction away from its own row, the
/// leaderboard equals a recomputation, the combination is chosen on held-out halves, and the bundle
/// round-trips to identical scores and explanations.
/// </summary>
[Collection("Serial")]   // compares runs bit for bit (see SerialCollection)
public class EnsembleTests
{
    private static readonly Lazy<(RawTable Table, TableSchema Schema, int[] Labels, string Dir)> s_data = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("jianwei-ensemble").FullName;
        var path = Path.Combine(dir, "companies.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 8, Labeled: 1200, Unlabeled: 0, Language: "en")).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var schema = SchemaInference.Infer(table, "default", "1");
        return (table, schema, schema.Labels(table), dir);
    });

    private static readonly TabularModelOptions Small = new()
    {
        Learner = TabularLearner.Ensemble, EnsembleFolds = 3, Seed = 2, Boosting = new BoostingOptions { MaxRounds = 80, LearningRate = 0.1, Threads = 2 },
        EnsembleCandidates = [TabularLearner.Logistic, TabularLearner.Boosting, TabularLearner.LightGbm],
    };

    /// <summary>Predicts 0.99 for rows it was fitted on and 0.5 for any other: an out-of-fold prediction of 0.99 would be a leak.</summary>
    private sealed class Memorizer(HashSet<int> seen) : ILearner
    {
        public string Name => "memorizer";
        public IEnumerable<(string Name, ColumnType Type)> Inputs => [];
        public JsonObject? Curves => null;
        public double[] Predict(RawTable table, IReadOnlyList<int> rows) => rows.Select(r => seen.Contains(r) ? 0.99 : 0.5).ToArray();
        public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale) => [];
        public Dictionary<string, double>? Importance(RawTable table, IReadOnlyList<int> rows) => null;
        public void Save(JsonObject parts, string directory) { }
        public void Dispose() { }
    }

    [Fact]
    public void OutOfFoldPredictionsNeverSeeTheirOwnRows()
    {
        var (table, _, y, _) = s_data.Value;
        var rows = Enumerable.Range(0, 900).ToArray();
        var (bag, oof, _) = BaggedLearner.Fit(table, y, rows, 4, 0, (_, fit) => new Memorizer([.. fit]))!;
        Assert.All(oof, p => Assert.Equal(0.5, p));
        Assert.Equal(4, bag.Folds.Count);
        // Every training row was in the training part of k − 1 fold models: the bag's prediction for it is their mean log-odds.
        double z = (3 * LogOdds.Of(0.99) + LogOdds.Of(0.5)) / 4;
        Assert.Equal(LogOdds.Probability(z), bag.Predict(table, [rows[0]])[0], 12);
    }

    [Fact]
    public void EnsembleLeaderboardIsARecomputationAndTheBundleRoundTrips()
    {
        var (table, schema, y, dir) = s_data.Value;
        var train = Enumerable.Range(0, 900).ToArray();
        var test = Enumerable.Range(900, 300).ToArray();
        using var model = TabularModel.Fit(table, schema, y, train, Small);
        Assert.Equal(["logistic", "boosting", "lightgbm"], model.Leaderboard.Select(r => r.Learner));
        // The bundle keeps the members of non-zero weight, in the leaderboard's order, with the leaderboard's weights.
        Assert.Equal(model.Leaderboard.Where(r => r.Weight != 0).Select(r => r.Learner), model.Learners.Select(l => l.Name));
        Assert.Equal(model.Leaderboard.Where(r => r.Weight != 0).Select(r => r.Weight), model.Combiner!.Weights);

        // The leaderboard's numbers: the same bags, fitted again with the same folds and seeds.
        var single = Small with { Learner = TabularLearner.Logistic };
        var (_, oof, _) = BaggedLearner.Fit(table, y, train, Small.EnsembleFolds, Small.Seed, (_, fit) => TabularModel.Fit(table, schema, y, fit, single).Learners[0])!;
        var yTrain = train.Select(r => y[r]).ToArray();
        Assert.Equal(Metrics.RocAuc(oof, yTrain), model.Leaderboard[0].RocAuc, 12);
        Assert.Equal(Metrics.LogLoss(oof, yTrain), model.Leaderboard[0].LogLoss, 12);
        Assert.All(model.Leaderboard, r => Assert.True(r.PredictMsPerRow > 0 && r.FitSeconds > 0 && r.Skipped is null));

        // Held-out rows: the ensemble ranks as well as the better part of its members.
        var yTest = test.Select(r => y[r]).ToArray();
        double ensemble = Metrics.RocAuc(model.Predict(table, test), yTest);
        double worst = model.Learners.Min(l => Metrics.RocAuc(l.Predict(table, test), yTest));
        Assert.True(ensemble >= worst, $"ensemble {ensemble} below its worst member {worst}");

        // Saved and loaded: the same scores, explanations and leaderboard.
        var bundleDir = Path.Combine(dir, $"ensemble-{Guid.NewGuid():N}");
        model.Save(bundleDir);
        foreach (var kept in model.Learners.Where(l => l.Name != "logistic"))
            Assert.True(Directory.Exists(Path.Combine(bundleDir, $"{kept.Name}-fold-{Small.EnsembleFolds}")));
        Assert.False(Directory.Exists(Path.Combine(bundleDir, "logistic-fold-1")));   // its fields are all it has
        using var back = TabularModel.Load(bundleDir);
        Assert.Equal(model.Predict(table, test), back.Predict(table, test));
        Assert.Equal(model.Combiner!.Kind, back.Combiner!.Kind);
        var a = model.ExplainRows(table, test[..5]); var b = back.ExplainRows(table, test[..5]);
        for (int i = 0; i < 5; i++) Assert.Equal(a[i].Reasons, b[i].Reasons);
        Assert.Equal(model.Leaderboard.Select(r => r.Learner), back.Leaderboard.Select(r => r.Learner));
        Assert.Equal(model.Leaderboard[1].RocAuc, back.Leaderboard[1].RocAuc, 6);
        // Saved to 4 decimals: equal within half the last one (a precision of 3 digits rounds 0.11452 and 0.1145 apart).
        Assert.Equal(model.Leaderboard[1].PredictMsPerRow, back.Leaderboard[1].PredictMsPerRow, tolerance: 5.1e-5);
    }

    [Fact]
    public void CombinerIsChosenOnHalvesItWasNotFittedOn()
    {
        // Two members that each see one part of the risk, the second part weighing a fifth of the first:
        // greedy selection can only weigh them 1:0 or 1:1 (and stops at the first, as 1:1 is worse), the
        // stacker finds about 5:1 — so here the stacker validates better.
        var r = new Random(3);
        int n = 3000;
        var y = new int[n];
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = r.NextDouble() * 4 - 2, v = r.NextDouble() * 4 - 2;
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-(2 * u + 0.4 * v))) ? 1 : 0;
            a[i] = 1 / (1 + Math.Exp(-u)); b[i] = 1 / (1 + Math.Exp(-v));
        }
        var stacker = CombinerChoice.Choose([a, b], y, 0);
        Assert.Equal("stacker", stacker.Kind);
        Assert.InRange(stacker.Weights[0] / stacker.Weights[1], 3, 8);
        // Two identical members are level, and the tie goes to selection, whose score is never below its best member's.
        var chosen = CombinerChoice.Choose([a, a], y, 0);
        Assert.Equal("selection", chosen.Kind);
    }

    [Fact]
    public void TheBestMemberAloneIsChosenWhenNoBlendHoldsUpOnTheOtherHalf()
    {
        // The outcome depends on u and, a third as much, on v. Member a reads u; member b reads v on the
        // first of the combiner's two halves and is noise on the second — a member whose extra signal does
        // not carry over, as an overfitted one's. Fitted on the first half, selection and the stacker blend
        // b in, which costs on the second; fitted on the second, they leave it out. Member a alone
        // validates best and is what is kept — on that one split, with no margin asked of a blend.
        var r = new Random(3);
        int n = 2000;
        var y = new int[n];
        var v = new double[n];
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = r.NextDouble() * 4 - 2;
            v[i] = r.NextDouble() * 4 - 2;
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-(1.5 * u + 0.5 * v[i]))) ? 1 : 0;
            a[i] = 1 / (1 + Math.Exp(-u));
        }
        var halves = DataSplits.StratifiedKFold(y, 2, 0);
        foreach (int i in halves[0].Train) b[i] = 1 / (1 + Math.Exp(-v[i]));
        foreach (int i in halves[0].Test) b[i] = r.NextDouble();
        var chosen = CombinerChoice.Choose([a, b], y, 0, repeats: 1, oneStandardError: false);
        Assert.Equal("selection", chosen.Kind);
        Assert.Equal([1.0, 0.0], chosen.Weights);
        // Fitted on all rows, selection does blend b in (so does the stacker): a choice between those two alone would keep b.
        Assert.True(GreedyEnsemble.Fit([a, b], y, Metrics.RocAuc).Weights[1] > 0);
        // The premise: fitted on the first half alone, selection does blend b in.
        double[] Half(double[] p) => [.. halves[0].Train.Select(i => p[i])];
        Assert.True(GreedyEnsemble.Fit([Half(a), Half(b)], [.. halves[0].Train.Select(i => y[i])], Metrics.RocAuc).Weights[1] > 0);
    }

    [Fact]
    public void ABlendMustBeatTheBestMemberByMoreThanItsNoise()
    {
        // The outcome depends on u and, a tenth as much, on v; a reads u, b reads v. On 1,500 rows the
        // stacker's gain from b over a alone is positive on average over the ten half-splits, but within
        // one standard error of it: without the rule the stacker is kept, with it a alone.
        var (a, b, y) = SlightSecondSignal(seed: 1, weight: 0.1);
        var plain = CombinerChoice.Choose([a, b], y, 0, oneStandardError: false);
        Assert.Equal("stacker", plain.Kind);
        Assert.True(plain.Weights[1] > 0);
        var chosen = CombinerChoice.Choose([a, b], y, 0);
        Assert.Equal("selection", chosen.Kind);
        Assert.Equal([1.0, 0.0], chosen.Weights);
        // Twice the weight on v: the gain clears its noise and the stacker stays, b weighed in.
        (a, b, y) = SlightSecondSignal(seed: 1, weight: 0.2);
        chosen = CombinerChoice.Choose([a, b], y, 0);
        Assert.Equal("stacker", chosen.Kind);
        Assert.InRange(chosen.Weights[1] / chosen.Weights[0], 0.1, 0.4);
    }

    /// <summary>Outcomes of u and, <paramref name="weight"/> as much, v; member a reads u, member b reads v.</summary>
    private static (double[] A, double[] B, int[] Y) SlightSecondSignal(int seed, double weight, int n = 1500)
    {
        var r = new Random(seed);
        var y = new int[n];
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = r.NextDouble() * 4 - 2, v = r.NextDouble() * 4 - 2;
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-(u + weight * v))) ? 1 : 0;
            a[i] = 1 / (1 + Math.Exp(-u)); b[i] = 1 / (1 + Math.Exp(-v));
        }
        return (a, b, y);
    }

    /// <summary>A clock on which every reading is 10 s after the one before: any time limit of a few seconds has run out as soon as the first candidate starts.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks += 10 * TimeSpan.TicksPerSecond;
    }

    [Fact]
    public void ASkippedCandidateStaysOnTheLeaderboardWithItsReasonAndTheBundleRoundTrips()
    {
        var (table, schema, y, dir) = s_data.Value;
        var train = Enumerable.Range(0, 900).ToArray();
        var options = Small with { EnsembleCandidates = [TabularLearner.Logistic, TabularLearner.Boosting], Limit = new TimeLimit(TimeSpan.FromSeconds(5), new SteppingClock()) };
        using var model = TabularModel.Fit(table, schema, y, train, options);
        Assert.Equal(["logistic"], model.Learners.Select(l => l.Name));   // the first candidate always runs
        Assert.Equal(["logistic", "boosting"], model.Leaderboard.Select(r => r.Learner));
        var skipped = model.Leaderboard[1];
        Assert.StartsWith("not started: 0 s of the 5 s time limit were left", skipped.Skipped);
        Assert.True(double.IsNaN(skipped.RocAuc) && skipped.Weight == 0);

        var bundleDir = Path.Combine(dir, $"skipped-{Guid.NewGuid():N}");
        model.Save(bundleDir);
        using var back = TabularModel.Load(bundleDir);
        Assert.Equal(skipped.Skipped, back.Leaderboard[1].Skipped);
        Assert.True(double.IsNaN(back.Leaderboard[1].RocAuc));
        Assert.Equal(model.Predict(table, [950, 951]), back.Predict(table, [950, 951]));
    }

    [Fact]
    public void RefitFullKeepsOneModelPerMemberFittedOnAllRows()
    {
        var (table, schema, y, dir) = s_data.Value;
        var train = Enumerable.Range(0, 900).ToArray();
        var test = Enumerable.Range(900, 300).ToArray();
        using var model = TabularModel.Fit(table, schema, y, train, Small with { RefitFull = true });
        Assert.True(model.RefitFull);
        Assert.All(model.Learners, l => Assert.Single(((BaggedLearner)l).Folds));
        // The logistic member is exactly logistic regression fitted on all 900 rows.
        var logistic = (BaggedLearner)model.Learners.Single(l => l.Name == "logistic");
        using var direct = LogisticLearner.Fit(table, schema, y, train);
        Assert.Equal(direct.Predict(table, test), logistic.Predict(table, test));
        // Its leaderboard still scores the bags' out-of-fold predictions (what the combiner was chosen on).
        using var bagged = TabularModel.Fit(table, schema, y, train, Small);
        Assert.Equal(bagged.Leaderboard.Select(r => r.RocAuc), model.Leaderboard.Select(r => r.RocAuc));

        var bundleDir = Path.Combine(dir, $"refit-{Guid.NewGuid():N}");
        model.Save(bundleDir);
        using var back = TabularModel.Load(bundleDir);
        Assert.True(back.RefitFull);
        Assert.Equal(model.Predict(table, test), back.Predict(table, test));
    }
}
