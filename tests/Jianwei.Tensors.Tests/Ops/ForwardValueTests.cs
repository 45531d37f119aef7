namespace Jianwei.Tensors.Tests;

/// <summary>Forward values against hand-computed results and PyTorch 1.13 printouts.</summary>
public class ForwardValueTests
{
    private static void Close(float[] expected, ReadOnlySpan<float> actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void SoftmaxAndLogSoftmaxByHand()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 1000f, 1000f, 1000f], 2, 3);
        float e1 = MathF.Exp(1), e2 = MathF.Exp(2), e3 = MathF.Exp(3), s = e1 + e2 + e3;
        Close([e1 / s, e2 / s, e3 / s, 1f / 3, 1f / 3, 1f / 3], x.Softmax().Data);
        Close([MathF.Log(e1 / s), MathF.Log(e2 / s), MathF.Log(e3 / s), -MathF.Log(3), -MathF.Log(3), -MathF.Log(3)], x.LogSoftmax().Data);
    }

    [Fact]
    public void AttentionSoftmaxIgnoresMaskedKeys()
    {
        var scores = Tensor.FromArray([0f, 1f, 5f, 2f], 1, 1, 1, 4);
        var mask = Tensor.FromArray([1f, 1f, 0f, 1f], 1, 4);
        var p = Tensor.AttentionSoftmax(scores, mask, 1f).Data;
        float s = 1 + MathF.E + MathF.Exp(2);
        Close([1 / s, MathF.E / s, 0f, MathF.Exp(2) / s], p);
    }

    [Fact]
    public void ActivationsAtKnownPoints()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0f, 0.5f, 2f, 30f], 6);
        // GELU(x) = x·Φ(x); Φ(2) = 0.97724987, Φ(0.5) = 0.69146246
        Close([-2f * (1 - 0.97724987f), -0.5f * (1 - 0.69146246f), 0f, 0.5f * 0.69146246f, 2f * 0.97724987f, 30f], x.Gelu().Data, 2e-6f);
        Close([MathF.Exp(-2) - 1, MathF.Exp(-0.5f) - 1, 0, 0.5f, 2, 30], x.Elu().Data);
        Close([MathF.Log(1 + MathF.Exp(-2)), MathF.Log(1 + MathF.Exp(-0.5f)), MathF.Log(2), MathF.Log(1 + MathF.Exp(0.5f)), MathF.Log(1 + MathF.Exp(2)), 30f], x.Softplus().Data);
        Close([MathF.Tanh(-2), MathF.Tanh(-0.5f), 0, MathF.Tanh(0.5f), MathF.Tanh(2), 1f], x.Tanh().Data);
        Close([1 / (1 + MathF.Exp(2)), 1 / (1 + MathF.Exp(0.5f)), 0.5f, 1 / (1 + MathF.Exp(-0.5f)), 1 / (1 + MathF.Exp(-2)), 1f], x.Sigmoid().Data);
    }

    [Fact]
    public void SparsemaxByHand()
    {
        // z = [1, 0.8, 0.1, −1]: support {1, 0.8}, τ = (1.8 − 1)/2 = 0.4 → p = [0.6, 0.4, 0, 0]
        Close([0.6f, 0.4f, 0f, 0f], Tensor.FromArray([1f, 0.8f, 0.1f, -1f], 1, 4).Sparsemax().Data);
        // a dominant entry takes everything
        Close([1f, 0f, 0f], Tensor.FromArray([5f, 1f, 0f], 1, 3).Sparsemax().Data);
    }

    [Fact]
    public void EntmaxSumsToOneAndSitsBetweenSoftmaxAndSparsemax()
    {
        var x = Tensor.FromArray([1f, 0.8f, 0.1f, -1f], 1, 4);
        var p = x.Entmax15().ToArray();
        Assert.Equal(1f, p.Sum(), 5);
        // For equal scores it is uniform; the smallest score here falls out of the support.
        Assert.Equal(0f, p[3]);
        Assert.True(p[2] > 0f);   // sparsemax drops index 2 (see above); 1.5-entmax keeps it
        // Closed form check: z = x/2, p = (z − τ)², Σp = 1 on support {0,1,2}
        double z0 = 0.5, z1 = 0.4, z2 = 0.05, mean = (z0 + z1 + z2) / 3, ss = 3 * ((z0 * z0 + z1 * z1 + z2 * z2) / 3 - mean * mean);
        double tau = mean - Math.Sqrt((1 - ss) / 3);
        Close([(float)Math.Pow(z0 - tau, 2), (float)Math.Pow(z1 - tau, 2), (float)Math.Pow(z2 - tau, 2), 0f], p);
    }

    [Fact]
    public void EntmaxByBisectionMeetsItsClosedFormsAtOneTwoAndOneAndAHalf()
    {
        var x = GradCheckRand(11, 5, 9) * 3f;
        // α = 1.5: the exact sort-based threshold; α = 2: sparsemax; α → 1: softmax (error O(α − 1)).
        Close(x.Entmax15().ToArray(), x.Entmax(1.5f).Data, 2e-6f);
        Close(x.Sparsemax().ToArray(), x.Entmax(2f).Data, 2e-6f);
        Close(x.Softmax().ToArray(), x.Entmax(1.0001f).Data, 2e-3f);
        Assert.Equal(x.Softmax().ToArray(), x.Entmax(1f).ToArray());
        // α = 1.25 by hand on [1, 0, −3]: z = x/4, p = (z − τ)⁴ on the support {0, 1} with Σp = 1.
        var p = Tensor.FromArray([1f, 0f, -3f], 1, 3).Entmax(1.25f).ToArray();
        double lo = -1, hi = 0.25;   // solve (0.25 − τ)⁴ + (0 − τ)⁴ = 1 independently, by bisection in double
        for (int i = 0; i < 200; i++) { double t = (lo + hi) / 2; if (Math.Pow(0.25 - t, 4) + Math.Pow(Math.Max(-t, 0), 4) >= 1) lo = t; else hi = t; }
        Close([(float)Math.Pow(0.25 - lo, 4), (float)Math.Pow(-lo, 4), 0f], p, 1e-5f);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Entmax(0.5f));
    }

    private static Tensor GradCheckRand(ulong seed, params int[] shape) => Tensor.Uniform(new Rng(seed), -1f, 1f, shape);

    [Fact]
    public void LossesMatchPyTorch()
    {
        var x = Tensor.FromArray([1.0f, -0.5f, 2.0f, 0.3f, 0.2f, 0.1f, -1.0f, 3.0f, -2.0f, 0.5f, 0.5f, 1.5f], 3, 4).AsParameter();
        var ce = Tensor.CrossEntropy(x, IntTensor.FromArray(2, 3, -100), labelSmoothing: 0.1f, classWeights: [1f, 2f, 0.5f, 1.5f]);
        Assert.Equal(0.47314679622650146f, ce.Item(), 5);
        ce.Backward();
        Close([0.052281469106674194f, -0.010545299388468266f, -0.055155690759420395f, 0.013419526629149914f, 0.027042793110013008f, 0.010779793374240398f, 0.00566005939617753f, -0.04348268732428551f, 0f, 0f, 0f, 0f], x.Grad!.Data, 2e-6f);

        x.Grad = null;
        var plain = Tensor.CrossEntropy(x, IntTensor.FromArray(2, 3, 0));
        Assert.Equal(1.561592698097229f, plain.Item(), 5);

        var z = Tensor.FromArray([0.5f, -1.0f, 3.0f, 25.0f, -30.0f], 5).AsParameter();
        var bce = Tensor.BinaryCrossEntropyWithLogits(z, Tensor.FromArray([1f, 0f, 1f, 0f, 1f], 5), 3f);
        Assert.Equal(23.376251220703125f, bce.Item(), 4);
        bce.Backward();
        Close([-0.22652439773082733f, 0.053788285702466965f, -0.028455544263124466f, 0.20000000298023224f, -0.6000000238418579f], z.Grad!.Data, 2e-6f);

        Assert.Equal(((1 - 3) * (1 - 3) + 0 + (2 - 1) * (2 - 1)) / 3f, Tensor.MseLoss(Tensor.FromArray([1f, 5f, 2f], 3), Tensor.FromArray([3f, 5f, 1f], 3)).Item(), 6);
    }

    [Fact]
    public void BatchNormRunningStatisticsUpdatePerGhostBatch()
    {
        var x = Tensor.FromArray([1f, 3f, 5f, 7f], 4, 1);
        var rm = Tensor.Zeros(1); var rv = Tensor.Ones(1);
        var y = Tensor.BatchNorm(x, Tensor.Ones(1), Tensor.Zeros(1), rm, rv, training: true, momentum: 0.5f, virtualBatchSize: 2);
        // ghost batches {1,3} and {5,7}: each normalized to [−1, 1] (ε aside)
        Close([-1f, 1f, -1f, 1f], y.Data, 1e-4f);
        // running mean: 0 → 0.5·0 + 0.5·2 = 1 → 0.5·1 + 0.5·6 = 3.5; unbiased var of each pair is 2
        Assert.Equal(3.5f, rm.Data[0], 5);
        Assert.Equal(0.5f * (0.5f * 1f + 0.5f * 2f) + 0.5f * 2f, rv.Data[0], 5);
        var eval = Tensor.BatchNorm(Tensor.FromArray([3.5f], 1, 1), Tensor.Ones(1), Tensor.Zeros(1), rm, rv, training: false);
        Assert.Equal(0f, eval.Data[0], 5);
    }

    [Fact]
    public void DropoutKeepsExpectationAndIsReproducible()
    {
        var x = Tensor.Ones(100_000);
        var a = Tensor.Dropout(x, 0.25f, true, new Rng(5)).ToArray();
        var b = Tensor.Dropout(x, 0.25f, true, new Rng(5)).ToArray();
        Assert.Equal(a, b);
        double dropped = a.Count(v => v == 0f) / (double)a.Length;
        Assert.InRange(dropped, 0.24, 0.26);
        Assert.Equal(1.0, a.Average(), 2);
        Assert.Same(x, Tensor.Dropout(x, 0.25f, false, new Rng(5)));
    }

    [Fact]
    public void RngFillIsTheSameStreamAsNextUInt64()
    {
        var a = new Rng(77); var b = new Rng(77);
        var words = new ulong[1001];
        a.Fill(words);
        Assert.Equal(Enumerable.Range(0, 1001).Select(_ => b.NextUInt64()), words);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(17)]
    public void DropoutMasksEveryLength(int n)
    {
        // Small and odd lengths exercise the in-place expansion of random words.
        var y = Tensor.Dropout(Tensor.Ones(n), 0.5f, true, new Rng(1)).ToArray();
        Assert.All(y, v => Assert.True(v == 0f || v == 2f));
        var big = Tensor.Dropout(Tensor.Ones(4001), 0.5f, true, new Rng(2)).ToArray();
        Assert.InRange(big.Count(v => v == 0f), 1800, 2200);
    }

    [Fact]
    public void PermuteGatherAndConcatByHand()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 6).Select(i => (float)i).ToArray(), 2, 3);
        Close([0, 3, 1, 4, 2, 5], x.Transpose(0, 1).Data);
        Close([2, 0, 4, 4], x.Gather(1, new IntTensor([2, 0, 1, 1], 2, 2)).Data);
        Close([0, 1, 2, 9, 3, 4, 5, 9], Tensor.Concat(1, x, Tensor.Full(9f, 2, 1)).Data);
        Close([3, 12], x.Sum(1).Data);
        Close([2, 5], x.Max(1).Data);
        Close([1.5f, 2.5f, 3.5f], x.Mean(0).Data);
        // index [[2]] on axis 1 adds into row 0, column 2
        Close([0, 1, 2 + 10, 3, 4, 5], x.ScatterAdd(1, new IntTensor([2], 1, 1), Tensor.Full(10f, 1, 1)).Data);
        // index_add puts rows back where index_select took them: rows 1 and 0 of a [2, 3], row 1 twice.
        var rows = Tensor.FromArray([1f, 2f, 3f, 10f, 20f, 30f, 100f, 200f, 300f], 3, 3);
        Close([10, 20, 30, 1 + 100, 2 + 200, 3 + 300], Tensor.Zeros(2, 3).IndexAdd(0, IntTensor.FromArray(1, 0, 1), rows).Data);
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).IndexAdd(0, IntTensor.FromArray(1, 0), rows));
    }
}
