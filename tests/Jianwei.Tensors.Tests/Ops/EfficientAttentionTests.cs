using Jianwei.Tensors.Nn;
using static Jianwei.Tensors.Tests.GradCheck;

namespace Jianwei.Tensors.Tests;

/// <summary>
/// Structured masks, kernelized (linear and Performer) attention and rotary positions, each against a
/// direct composition of plain ops and by finite differences.
/// </summary>
public class EfficientAttentionTests
{
    private static Tensor SplitHeads(Tensor t, int heads)   // [b, n, heads·d] → [b, heads, n, d]
    {
        int b = t.Dim(0), n = t.Dim(1), d = t.Dim(2) / heads;
        return t.Reshape(b, n, heads, d).Permute(0, 2, 1, 3);
    }

    private static Tensor MergeHeads(Tensor t)               // [b, heads, n, d] → [b, n, heads·d]
    {
        int b = t.Dim(0), heads = t.Dim(1), n = t.Dim(2), d = t.Dim(3);
        return t.Permute(0, 2, 1, 3).Reshape(b, n, heads * d);
    }

    /// <summary>softmax(scale·QKᵀ + bias)·V with bias −1e30 where the [b, nq, nk] mask is 0.</summary>
    private static Tensor MaskedSoftmaxReference(Tensor q, Tensor k, Tensor v, int heads, Tensor mask, float scale)
    {
        var bias = Tensor.FromArray(mask.ToArray().Select(m => m == 0f ? -1e30f : 0f).ToArray(), mask.Dim(0), 1, mask.Dim(1), mask.Dim(2));
        var scores = Tensor.MatMul(SplitHeads(q, heads), SplitHeads(k, heads), transB: true) * scale + bias;
        return MergeHeads(Tensor.MatMul(scores.Softmax(), SplitHeads(v, heads)));
    }

    /// <summary>Σ_j ⟨qf_i, kf_j⟩·m_j·v_j / (Σ_j ⟨qf_i, kf_j⟩·m_j + eps), spelled out with matmuls.</summary>
    private static Tensor KernelReference(Tensor qf, Tensor kf, Tensor v, int heads, Tensor? keyMask, float eps)
    {
        int b = qf.Dim(0), nk = kf.Dim(1);
        var scores = Tensor.MatMul(SplitHeads(qf, heads), SplitHeads(kf, heads), transB: true);   // [b, heads, nq, nk]
        if (keyMask is not null) scores = scores * keyMask.Reshape(b, 1, 1, nk);
        var num = Tensor.MatMul(scores, SplitHeads(v, heads));
        return MergeHeads(num / (scores.Sum(-1, keepDim: true) + eps));
    }

    private static void AssertClose(float[] expected, float[] actual, float tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol * (1 + MathF.Abs(expected[i])), $"element {i}: {actual[i]} vs {expected[i]}");
    }

    private static void CompareWithGradients(Func<Tensor[], Tensor> fused, Func<Tensor[], Tensor> direct, Func<Tensor[]> inputs, float tol = 1e-5f)
    {
        var a = inputs(); var d = inputs();
        foreach (var t in a.Concat(d)) t.RequiresGrad = true;
        var ya = fused(a); var yd = direct(d);
        AssertClose(yd.ToArray(), ya.ToArray(), tol);
        var r = Rand(99, ya.Shape.ToArray());
        (ya * r).SumAll().Backward();
        (yd * r).SumAll().Backward();
        for (int i = 0; i < a.Length; i++) AssertClose(d[i].Grad!.ToArray(), a[i].Grad!.ToArray(), tol);
    }

    [Fact]
    public void AttentionMaskMatchesMaskedSoftmax()
    {
        int b = 2, nq = 4, nk = 5, heads = 2, w = 6;
        var rng = new Rng(3);
        var mask = Tensor.FromArray(Enumerable.Range(0, b * nq * nk).Select(i => i % nk == 0 || rng.NextFloat() < 0.6f ? 1f : 0f).ToArray(), b, nq, nk);
        CompareWithGradients(x => Tensor.MultiHeadAttention(x[0], x[1], x[2], heads, null, 0.5f, mask),
                             x => MaskedSoftmaxReference(x[0], x[1], x[2], heads, mask, 0.5f),
                             () => [Rand(1, b, nq, w), Rand(2, b, nk, w), Rand(3, b, nk, w)]);
        Check(x => Tensor.MultiHeadAttention(x[0], x[1], x[2], heads, null, 0.5f, mask), [Rand(4, b, nq, w), Rand(5, b, nk, w), Rand(6, b, nk, w)]);
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(1.2f)]
    [InlineData(2f)]
    public void EntmaxAttentionMatchesEntmaxOfTheScores(float alpha)
    {
        int b = 2, nq = 4, nk = 6, heads = 2, w = 8;
        var keyMask = Tensor.FromArray([1f, 1f, 1f, 1f, 0f, 0f, 1f, 1f, 1f, 1f, 1f, 1f], b, nk);
        var bias = Tensor.FromArray(keyMask.ToArray().Select(m => m == 0f ? -1e30f : 0f).ToArray(), b, 1, 1, nk);
        CompareWithGradients(x => Tensor.MultiHeadAttention(x[0], x[1], x[2], heads, keyMask, 0.8f, entmaxAlpha: alpha),
                             x => MergeHeads(Tensor.MatMul((Tensor.MatMul(SplitHeads(x[0], heads), SplitHeads(x[1], heads), transB: true) * 0.8f + bias).Entmax(alpha),
                                                           SplitHeads(x[2], heads))),
                             () => [Rand(1, b, nq, w) * 3f, Rand(2, b, nk, w) * 3f, Rand(3, b, nk, w)], tol: 2e-5f);
        Check(x => Tensor.MultiHeadAttention(x[0], x[1], x[2], heads, keyMask, 0.8f, entmaxAlpha: alpha), [Rand(4, b, nq, w) * 2f, Rand(5, b, nk, w) * 2f, Rand(6, b, nk, w)], h: 1e-3f);
    }

    [Fact]
    public void EntmaxAttentionGivesSomeKeysExactlyZeroWeight()
    {
        // One key far above the rest: softmax spreads a little weight everywhere, 1.5-entmax none.
        var q = Tensor.FromArray([1f, 0f], 1, 1, 2);
        var k = Tensor.FromArray([4f, 0f, 0f, 0f, -1f, 0f], 1, 3, 2);
        var v = Tensor.FromArray([1f, 0f, 0f, 1f, 0f, 2f], 1, 3, 2);
        Assert.Equal([1f, 0f], Tensor.MultiHeadAttention(q, k, v, 1, null, 1f, entmaxAlpha: 1.5f).ToArray());
        Assert.True(Tensor.MultiHeadAttention(q, k, v, 1, null, 1f).ToArray()[1] > 0.01f);
    }

    [Fact]
    public void AttentionMaskCombinesWithKeyMask()
    {
        var keyMask = Tensor.FromArray([1f, 1f, 0f], 1, 3);
        var open = Tensor.FromArray([1f, 0f, 1f, 1f, 1f, 1f], 1, 2, 3);
        var both = Tensor.FromArray([1f, 0f, 0f, 1f, 1f, 0f], 1, 2, 3);
        var q = Rand(1, 1, 2, 4); var k = Rand(2, 1, 3, 4); var v = Rand(3, 1, 3, 4);
        Assert.Equal(Tensor.MultiHeadAttention(q, k, v, 2, null, 1f, both).ToArray(), Tensor.MultiHeadAttention(q, k, v, 2, keyMask, 1f, open).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KernelAttentionMatchesDirectComposition(bool padded)
    {
        int b = 2, nq = 5, nk = 7, heads = 2, m = 3, dh = 4;
        Tensor? mask = padded ? Tensor.FromArray([1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1], b, nk) : null;
        CompareWithGradients(x => Tensor.KernelAttention(x[0], x[1], x[2], heads, mask, 1e-6f),
                             x => KernelReference(x[0], x[1], x[2], heads, mask, 1e-6f),
                             () => [RandPositive(1, b, nq, heads * m), RandPositive(2, b, nk, heads * m), Rand(3, b, nk, heads * dh)], 2e-5f);
        Check(x => Tensor.KernelAttention(x[0], x[1], x[2], heads, mask), [RandPositive(4, b, nq, heads * m), RandPositive(5, b, nk, heads * m), Rand(6, b, nk, heads * dh)]);
    }

    [Fact]
    public void PerformerAttentionFiniteDifferences()
    {
        // The features alone are not a differentiable function of x (the detached stabilizer moves with
        // x); the attention they feed is, because the stabilizer cancels in its ratio (exactly at eps 0).
        var w = RandomFeatures.Orthogonal(new Rng(1), 6, 4);
        var mask = Tensor.FromArray([1, 1, 1, 0, 1, 1, 1, 1], 2, 4);
        Check(x => Tensor.KernelAttention(Tensor.PositiveRandomFeatures(x[0], w, 2, isQuery: true, eps: 0f),
                                          Tensor.PositiveRandomFeatures(x[1], w, 2, isQuery: false, eps: 0f), x[2], 2, mask, eps: 0f),
              [Rand(2, 2, 3, 8), Rand(3, 2, 4, 8), Rand(4, 2, 4, 6)]);
    }

    [Fact]
    public void OrthogonalFeaturesAreOrthogonalWithinABlock()
    {
        var w = RandomFeatures.Orthogonal(new Rng(5), 12, 8);   // one full block of 8 rows and 4 of the next
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < i; j++)
            {
                double dot = 0;
                for (int c = 0; c < 8; c++) dot += w[i, c] * w[j, c];
                Assert.True(Math.Abs(dot) < 1e-4, $"rows {i} and {j}: dot {dot}");
            }
    }

    [Fact]
    public void PerformerConvergesToSoftmaxAttentionAsFeaturesGrow()
    {
        // Queries and keys of moderate size, as after a layer norm and a projection.
        int b = 1, n = 24, heads = 1, dh = 8;
        var q = Rand(1, b, n, dh) * 0.8f; var k = Rand(2, b, n, dh) * 0.8f; var v = Rand(3, b, n, dh);
        var exact = Tensor.MultiHeadAttention(q, k, v, heads, null, 1f / MathF.Sqrt(dh)).ToArray();
        double Error(int features)
        {
            double total = 0;
            for (ulong seed = 0; seed < 4; seed++)   // average over draws: the estimator is random
            {
                var w = RandomFeatures.Orthogonal(new Rng(100 + seed), features, dh);
                var y = Tensor.KernelAttention(Tensor.PositiveRandomFeatures(q, w, heads, true), Tensor.PositiveRandomFeatures(k, w, heads, false), v, heads, null).ToArray();
                total += y.Zip(exact, (a, e) => (double)Math.Abs(a - e)).Average();
            }
            return total / 4;
        }
        double e16 = Error(16), e256 = Error(256), e4096 = Error(4096);
        Assert.True(e256 < e16 / 2, $"error with 16 features {e16:F4}, with 256 {e256:F4}");
        Assert.True(e4096 < e256 / 2, $"error with 256 features {e256:F4}, with 4096 {e4096:F4}");
        Assert.True(e4096 < 0.01, $"error with 4096 features {e4096:F4}");
    }

    [Fact]
    public void RotaryFiniteDifferencesAndRelativePositions()
    {
        var pos = new IntTensor([3, 0, 7, 1, 2, 5], 2, 3);
        Check(x => Tensor.Rotary(x[0], 2, pos), [Rand(1, 2, 3, 8)]);

        // ⟨R_p·x, R_q·y⟩ depends only on q − p.
        var x = Rand(2, 1, 1, 8); var y = Rand(3, 1, 1, 8);
        float Score(int p, int qPos) =>
            (Tensor.Rotary(x, 1, new IntTensor([p], 1, 1)) * Tensor.Rotary(y, 1, new IntTensor([qPos], 1, 1))).SumAll().Item();
        Assert.Equal(Score(2, 5), Score(10, 13), 4);
        Assert.Equal(Score(0, 0), (x * y).SumAll().Item(), 5);
        Assert.NotEqual(Score(2, 5), Score(2, 6), 3);
    }

    [Fact]
    public void ReseedRandomRepeatsDropoutMasks()
    {
        var drop = new Dropout(0.5f, new Rng(1));
        var x = Tensor.Ones(64);
        drop.ReseedRandom(42);
        var first = drop.Forward(x).ToArray();
        drop.Forward(x);
        drop.ReseedRandom(42);
        Assert.Equal(first, drop.Forward(x).ToArray());
        drop.ReseedRandom(43);
        Assert.NotEqual(first, drop.Forward(x).ToArray());
    }
}
