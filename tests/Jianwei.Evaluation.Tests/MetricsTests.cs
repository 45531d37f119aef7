namespace Jianwei.Evaluation.Tests;

/// <summary>Metrics against values worked out by hand (shown in the comments).</summary>
public class MetricsTests
{
    // scores sorted: 0.1(0) 0.35(1) 0.4(0) 0.8(1) 0.8(0) 0.9(1)
    private static readonly double[] S = [0.1, 0.4, 0.35, 0.8, 0.8, 0.9];
    private static readonly int[] Y = [0, 0, 1, 1, 0, 1];

    [Fact]
    public void RocAucWithTies()
    {
        // Pairs (pos, neg): 9. Positive 0.35 beats 0.1 → 1; 0.8 beats 0.1, 0.4 and ties 0.8 → 2.5; 0.9 beats all 3 → 3. AUC = 6.5/9.
        Assert.Equal(6.5 / 9, Metrics.RocAuc(S, Y), 12);
        Assert.Equal(2 * 6.5 / 9 - 1, Metrics.Gini(S, Y), 12);
        Assert.Equal(1, Metrics.RocAuc([0.1, 0.9], [0, 1]));
        Assert.Equal(0.5, Metrics.RocAuc([0.5, 0.5, 0.5], [0, 1, 0]));
    }

    [Fact]
    public void AveragePrecisionStepsAtDistinctScores()
    {
        // Descending: 0.9(1): P=1, R=1/3 → +1/3; 0.8 tie (1,0): TP=2, FP=1, P=2/3, R=2/3 → +2/9;
        // 0.4(0): no recall change; 0.35(1): TP=3 of 5 seen, P=3/5, R=1 → +1/5. AP = 1/3 + 2/9 + 1/5.
        Assert.Equal(1.0 / 3 + 2.0 / 9 + 1.0 / 5, Metrics.PrAuc(S, Y), 12);
    }

    [Fact]
    public void KsIsTheLargestGapBetweenTprAndFpr()
    {
        // Thresholds ≥ 0.9: TPR 1/3, FPR 0 → 1/3; ≥ 0.8: 2/3 − 1/3; ≥ 0.4: 2/3 − 2/3; ≥ 0.35: 1 − 2/3; ≥ 0.1: 0.
        Assert.Equal(1.0 / 3, Metrics.Ks(S, Y), 12);
    }

    [Fact]
    public void ThresholdsAndCounts()
    {
        var c = Metrics.At(S, Y, 0.5);   // predicted positive: 0.8, 0.8, 0.9
        Assert.Equal(new Confusion(0.5, 2, 1, 2, 1), c);
        Assert.Equal(4.0 / 6, c.Accuracy, 12);
        Assert.Equal(2.0 / 3, c.F1, 12);
        Assert.Equal(0.5, c.ApprovalRate, 12);
        // F1 by threshold: 0.9 → 2/4; 0.8 → 4/6; 0.4 → 4/7; 0.35 → 6/8 (best); 0.1 → 6/9.
        var best = Metrics.BestF1(S, Y);
        Assert.Equal(0.35, best.Threshold);
        Assert.Equal(0.75, best.F1, 12);
        // Approve a third (two rows): the lowest two scores 0.1 and 0.35.
        var approve = Metrics.ForApprovalRate(S, Y, 1.0 / 3);
        Assert.Equal(0.4, approve.Threshold);
        Assert.Equal(2.0 / 6, approve.ApprovalRate, 12);
        // Half: the third-lowest score is 0.4, so rows below 0.8 are approved (the 0.8 tie is never split).
        Assert.Equal(0.8, Metrics.ForApprovalRate(S, Y, 0.5).Threshold);
    }

    [Fact]
    public void ProbabilisticScores()
    {
        double[] p = [0.9, 0.2, 0.6, 0.05];
        int[] y = [1, 0, 0, 0];
        Assert.Equal(-(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.4) + Math.Log(0.95)) / 4, Metrics.LogLoss(p, y), 12);
        Assert.Equal((0.01 + 0.04 + 0.36 + 0.0025) / 4, Metrics.Brier(p, y), 12);
        // Bins (10): 0.9 → bin 9 (|0.9 − 1| = 0.1), 0.2 → bin 2 (0.2), 0.6 → bin 6 (0.6), 0.05 → bin 0 (0.05); each 1/4.
        Assert.Equal((0.1 + 0.2 + 0.6 + 0.05) / 4, Metrics.ExpectedCalibrationError(p, y), 12);
        Assert.Equal(0, Metrics.LogLoss([1.0, 0.0], [1, 0]), 10);   // clipped, finite
    }

    [Fact]
    public void SingleClassIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Metrics.RocAuc([0.1, 0.2], [0, 0]));
        Assert.Contains("needs both classes", e.Message);
        Assert.Throws<ArgumentException>(() => Metrics.Ks([0.1, 0.2], [1, 1]));
        Assert.Throws<ArgumentException>(() => Metrics.RocAuc([0.1], [0, 1]));
        Assert.Throws<ArgumentException>(() => Metrics.RocAuc([0.1, 0.3], [0, 2]));
        Assert.Throws<ArgumentException>(() => Metrics.RocAuc([double.NaN, 0.3], [0, 1]));
    }

    [Fact]
    public void BootstrapIntervalContainsTheValueAndNarrowsWithData()
    {
        var rng = new Random(1);
        double[] Scores(int n, int[] y) => y.Select(l => rng.NextDouble() + 0.4 * l).ToArray();
        int[] small = Enumerable.Range(0, 200).Select(i => i % 4 == 0 ? 1 : 0).ToArray();
        int[] big = Enumerable.Range(0, 4000).Select(i => i % 4 == 0 ? 1 : 0).ToArray();
        var a = Metrics.Bootstrap(Metrics.RocAuc, Scores(200, small), small, resamples: 300, seed: 3);
        var b = Metrics.Bootstrap(Metrics.RocAuc, Scores(4000, big), big, resamples: 300, seed: 3);
        Assert.InRange(a.Value, a.Lower, a.Upper);
        Assert.InRange(b.Value, b.Lower, b.Upper);
        Assert.True(b.Upper - b.Lower < (a.Upper - a.Lower) / 2);
        var scores = Scores(200, small);
        Assert.Equal(Metrics.Bootstrap(Metrics.RocAuc, scores, small, 100, seed: 9), Metrics.Bootstrap(Metrics.RocAuc, scores, small, 100, seed: 9));   // seeded
    }
}
