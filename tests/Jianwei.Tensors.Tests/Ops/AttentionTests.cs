using static Jianwei.Tensors.Tests.GradCheck;

namespace Jianwei.Tensors.Tests;

/// <summary>The fused attention ops against the obvious composition of matmul, masked softmax and permutes.</summary>
public class AttentionTests
{
    /// <summary>Direct implementation: split heads, Q·Kᵀ, masked softmax, ·V, merge heads.</summary>
    private static Tensor Reference(Tensor q, Tensor k, Tensor v, int heads, Tensor? mask, float scale)
    {
        int b = q.Dim(0), nq = q.Dim(1), nk = k.Dim(1), w = q.Dim(2), dh = w / heads;
        Tensor Split(Tensor t, int n) => t.Reshape(b, n, heads, dh).Permute(0, 2, 1, 3);
        var p = Tensor.AttentionSoftmax(Tensor.MatMul(Split(q, nq), Split(k, nk), transB: true), mask, scale);
        return Tensor.MatMul(p, Split(v, nk)).Permute(0, 2, 1, 3).Reshape(b, nq, w);
    }

    [Fact]
    public void MatchesTheCompositionInValuesAndGradients()
    {
        int b = 2, nq = 5, nk = 7, heads = 3, w = 12;
        var mask = Tensor.FromArray([1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1], b, nk);
        Tensor[] Inputs() => [Rand(1, b, nq, w), Rand(2, b, nk, w), Rand(3, b, nk, w)];
        var fused = Inputs(); var direct = Inputs();
        foreach (var t in fused.Concat(direct)) t.RequiresGrad = true;
        var r = Rand(9, b, nq, w);
        var yf = Tensor.MultiHeadAttention(fused[0], fused[1], fused[2], heads, mask, 0.4f);
        var yd = Reference(direct[0], direct[1], direct[2], heads, mask, 0.4f);
        Assert.Equal(yd.ToArray(), yf.ToArray(), new FloatTolerance(1e-5f));
        (yf * r).SumAll().Backward();
        (yd * r).SumAll().Backward();
        for (int i = 0; i < 3; i++) Assert.Equal(direct[i].Grad!.ToArray(), fused[i].Grad!.ToArray(), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void PackedMatchesSeparateProjections()
    {
        int b = 2, n = 6, heads = 2, w = 8;
        var qkv = Rand(4, b, n, 3 * w).AsParameter();
        var y = Tensor.MultiHeadAttentionPacked(qkv, heads, null, 0.5f);
        var q = qkv.Slice(2, 0, w); var k = qkv.Slice(2, w, w); var v = qkv.Slice(2, 2 * w, w);
        var expected = Reference(q, k, v, heads, null, 0.5f);
        Assert.Equal(expected.ToArray(), y.ToArray(), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void FiniteDifferences()
    {
        var mask = Tensor.FromArray([1, 1, 0, 1, 1, 1, 1, 0], 2, 4);
        Check(x => Tensor.MultiHeadAttention(x[0], x[1], x[2], 2, mask, 0.7f), [Rand(1, 2, 3, 6), Rand(2, 2, 4, 6), Rand(3, 2, 4, 6)]);
        Check(x => Tensor.MultiHeadAttentionPacked(x[0], 3, null, 1f), [Rand(4, 1, 5, 9)]);
        // q = k = v: the same tensor receives three gradient contributions
        Check(x => Tensor.MultiHeadAttention(x[0], x[0], x[0], 1, null, 1f), [Rand(5, 2, 4, 3)]);
    }

    [Fact]
    public void PaddedKeysGetNoWeight()
    {
        // Changing a padded key's value must not change any output.
        var q = Rand(1, 1, 2, 4); var k = Rand(2, 1, 3, 4); var v = Rand(3, 1, 3, 4);
        var mask = Tensor.FromArray([1f, 1f, 0f], 1, 3);
        var before = Tensor.MultiHeadAttention(q, k, v, 2, mask, 1f).ToArray();
        for (int j = 0; j < 4; j++) { k[0, 2, j] = 100f; v[0, 2, j] = -100f; }
        Assert.Equal(before, Tensor.MultiHeadAttention(q, k, v, 2, mask, 1f).ToArray());
    }

    private sealed class FloatTolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => MathF.Abs(a - b) <= tol * (1 + MathF.Abs(b));
        public int GetHashCode(float obj) => 0;
    }
}
