using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Ensembles;

namespace Jianwei.Models.Tests;

public class StackingTests
{
    [Fact]
    public void OutOfFoldPredictsEveryRowOnceFromModelsThatNeverSawIt()
    {
        var labels = Enumerable.Range(0, 103).Select(i => i % 3 == 0 ? 1 : 0).ToArray();
        var folds = DataSplits.StratifiedKFold(labels, 5, seed: 0);
        var oof = CrossValidation.OutOfFold(folds, labels.Length, (train, test) =>
        {
            Assert.Empty(train.Intersect(test));
            return test.Select(i => (double)i).ToArray();   // "predict" the row's own index
        });
        Assert.Equal(Enumerable.Range(0, 103).Select(i => (double)i), oof);
    }

    /// <summary>Learners A and C see the signal with independent noise (C a little more), B is noise.</summary>
    private static (double[][] P, int[] Y) Bases(int n, int seed)
    {
        var r = new Random(seed);
        var y = new int[n]; var a = new double[n]; var b = new double[n]; var c = new double[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = r.NextDouble() < 0.3 ? 1 : 0;
            double s1 = Gauss(r), s2 = Gauss(r);
            a[i] = 1 / (1 + Math.Exp(-(2.5 * (y[i] - 0.3) + s1)));
            b[i] = r.NextDouble();
            c[i] = 1 / (1 + Math.Exp(-(2.0 * (y[i] - 0.3) + 1.2 * s2)));
        }
        return ([a, b, c], y);
    }

    private static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void StackerWeighsInformativeLearnersAndBeatsTheBestAlone()
    {
        var (p, y) = Bases(4000, 1);
        var stacker = LogisticStacker.Fit(p, y);
        Assert.True(stacker.Weights[0] > 0.3 && stacker.Weights[2] > 0.3, $"weights {string.Join(", ", stacker.Weights)}");
        Assert.True(Math.Abs(stacker.Weights[1]) < 0.2, $"noise weight {stacker.Weights[1]}");
        var (tp, ty) = Bases(4000, 2);
        double best = new[] { 0, 1, 2 }.Max(j => Metrics.RocAuc(tp[j], ty));
        double stacked = Metrics.RocAuc(stacker.Predict(tp), ty);
        Assert.True(stacked > best, $"stacked {stacked} vs best single {best}");   // independent errors: the combination wins
    }

    [Fact]
    public void GreedyEnsembleStartsWithTheBestAndIgnoresNoise()
    {
        var (p, y) = Bases(3000, 3);
        var e = GreedyEnsemble.Fit(p, y, Metrics.RocAuc, steps: 20);
        Assert.Equal(1, e.Weights.Sum(), 9);
        Assert.True(e.Weights[1] <= 0.1, $"noise weight {e.Weights[1]}");   // chance gains on the selection rows can add it once or twice
        Assert.True(e.Weights[0] > e.Weights[2] && e.Weights[2] > 0, $"weights {string.Join(", ", e.Weights)}");
        Assert.True(Metrics.RocAuc(e.Predict(p), y) >= Metrics.RocAuc(p[0], y));
    }

    [Fact]
    public void GreedyEnsembleFindsAKnownBlendAndNeverFallsBelowItsBestMember()
    {
        // Two learners that each see half of the signal, in log-odds: their equal blend is the truth; a third is noise.
        var r = new Random(4);
        int n = 4000;
        var y = new int[n];
        double[] a = new double[n], b = new double[n], noise = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = r.NextDouble() * 4 - 2, v = r.NextDouble() * 4 - 2;
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-(u + v))) ? 1 : 0;
            a[i] = 1 / (1 + Math.Exp(-2 * u)); b[i] = 1 / (1 + Math.Exp(-2 * v)); noise[i] = r.NextDouble();
        }
        var e = GreedyEnsemble.Fit([a, b, noise], y, Metrics.RocAuc, steps: 40);
        Assert.Equal(1, e.Weights.Sum(), 12);
        Assert.Equal(0, e.Weights[2]);                                               // the useless member gets weight 0
        Assert.InRange(e.Weights[0], 0.35, 0.65);                                    // and the blend is near half and half
        double blended = Metrics.RocAuc(e.Predict([a, b, noise]), y);
        Assert.True(blended > Math.Max(Metrics.RocAuc(a, y), Metrics.RocAuc(b, y)) + 0.05, $"blend {blended}");
        // A weight file round-trips; weights that do not sum to 1 are refused.
        var back = GreedyEnsemble.FromJson(Serialization.JsonFields.Of(e.ToJson(), "ensemble.json"), 3);
        Assert.Equal(e.Predict([a, b, noise]), back.Predict([a, b, noise]));
        Assert.Throws<Serialization.ModelFormatException>(() => GreedyEnsemble.FromJson(
            Serialization.JsonFields.Of(new System.Text.Json.Nodes.JsonObject { ["weights"] = new System.Text.Json.Nodes.JsonArray(0.5, 0.2, 0.1) }, "ensemble.json"), 3));

        // On random members, the ensemble's score on its selection rows is never below the best member's.
        for (int trial = 0; trial < 20; trial++)
        {
            var members = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 300).Select(_ => r.NextDouble()).ToArray()).ToArray();
            var labels = Enumerable.Range(0, 300).Select(_ => r.Next(2)).ToArray();
            var ens = GreedyEnsemble.Fit(members, labels, Metrics.RocAuc, steps: 10);
            Assert.True(Metrics.RocAuc(ens.Predict(members), labels) >= members.Max(m => Metrics.RocAuc(m, labels)) - 1e-12);
        }
    }

    [Fact]
    public void DroppingLearnersOfWeightZeroChangesNoPrediction()
    {
        var (p, y) = Bases(600, 4);
        var selection = GreedyEnsemble.Fit(p, y, Metrics.RocAuc);
        Assert.Equal(0, selection.Weights[1]);   // B is noise
        var kept = selection.Subset([0, 2]);
        Assert.Equal(selection.Predict(p), kept.Predict([p[0], p[2]]));
        Assert.Equal(1, kept.Weights.Sum(), 12);
        Assert.Throws<ArgumentException>(() => selection.Subset([1, 2]));   // A carries weight

        // A stacker with a weight of exactly 0 drops that learner the same way; a non-zero one may not be dropped.
        var stacker = LogisticStacker.FromJson(Serialization.JsonFields.Of(new System.Text.Json.Nodes.JsonObject
        {
            ["intercept"] = -0.5, ["weights"] = new System.Text.Json.Nodes.JsonArray(0.8, 0.0, 0.4),
        }, "test"), 3);
        Assert.Equal(stacker.Predict(p), stacker.Subset([0, 2]).Predict([p[0], p[2]]));
        Assert.Throws<ArgumentException>(() => stacker.Subset([0, 1]));
    }

    [Fact]
    public void NonNegativeStackerDropsMembersUntilNoWeightIsNegativeAndRefitsOnTheRest()
    {
        // B is A with more noise: unconstrained, the stacker weighs B negatively to cancel A's noise.
        var r = new Random(6);
        int n = 2000;
        var y = new int[n];
        double[] a = new double[n], b = new double[n], c = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = Gauss(r), e = Gauss(r);
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-2 * s)) ? 1 : 0;
            a[i] = 1 / (1 + Math.Exp(-(s + 0.5 * e))); b[i] = 1 / (1 + Math.Exp(-(s + 1.5 * e))); c[i] = 1 / (1 + Math.Exp(-(s + 2 * Gauss(r))));
        }
        Assert.Contains(LogisticStacker.Fit([a, b, c], y).Weights, w => w < 0);   // the premise
        var stacker = LogisticStacker.FitNonNegative([a, b, c], y);
        Assert.All(stacker.Weights, w => Assert.True(w >= 0));
        int dropped = Enumerable.Range(0, 3).Single(j => stacker.Weights[j] == 0);
        // The rest are exactly the stacker fitted on them alone.
        var kept = Enumerable.Range(0, 3).Where(j => j != dropped).ToList();
        var alone = LogisticStacker.Fit(kept.Select(j => new[] { a, b, c }[j]).ToList(), y);
        Assert.Equal(alone.Weights, kept.Select(j => stacker.Weights[j]));
    }
}
