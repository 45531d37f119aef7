using System.Numerics.Tensors;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Sum, mean and max over one axis or all of them. An axis reduction views the tensor as
// [outer, n, inner] and reduces the middle; its gradient broadcasts back along that axis.
public sealed partial class Tensor
{
    /// <summary>Sum of all elements, shape [].</summary>
    public Tensor SumAll()
    {
        var x = this;
        var y = Scalar(PairwiseSum(Data));
        return Record(y, "sum_all", g =>
        {
            var (gx, acc) = GradSink(x);
            if (acc) TensorPrimitives.Add(gx.Data, g._data[0], gx.Data); else gx.Data.Fill(g._data[0]);
        }, x);
    }

    /// <summary>Mean of all elements, shape [].</summary>
    public Tensor MeanAll() => SumAll().MulScalar(1f / Math.Max(Length, 1));

    /// <summary>Sum over one axis.</summary>
    public Tensor Sum(int axis, bool keepDim = false)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        var (outer, n, inner) = ShapeUtil.Split(_dims, ax);
        var x = this;
        var y = Empty(ReducedDims(ax, keepDim));
        SumAxis(Data, outer, n, inner, y.Data);
        return Record(y, "sum", g =>
        {
            var (gx, acc) = GradSink(x);
            BroadcastAlongAxis(g.Data, outer, n, inner, gx.Data, acc, 1f);
        }, x);
    }

    /// <summary>Sum over several axes.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        var t = this;
        foreach (int a in axes.Select(a => ShapeUtil.NormalizeAxis(a, Rank)).OrderByDescending(a => a)) t = t.Sum(a, keepDim);
        return t;
    }

    /// <summary>Mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepDim = false)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        var (outer, n, inner) = ShapeUtil.Split(_dims, ax);
        var x = this;
        var y = Empty(ReducedDims(ax, keepDim));
        SumAxis(Data, outer, n, inner, y.Data);
        float scale = 1f / Math.Max(n, 1);
        TensorPrimitives.Multiply(y.Data, scale, y.Data);
        return Record(y, "mean", g =>
        {
            var (gx, acc) = GradSink(x);
            BroadcastAlongAxis(g.Data, outer, n, inner, gx.Data, acc, scale);
        }, x);
    }

    /// <summary>Maximum over one axis; the gradient goes to the first position holding the maximum.</summary>
    public Tensor Max(int axis, bool keepDim = false) => MaxWithIndex(axis, keepDim).Values;

    /// <summary>Maximum over one axis and where it was (the first occurrence).</summary>
    public (Tensor Values, IntTensor Indices) MaxWithIndex(int axis, bool keepDim = false)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        var (outer, n, inner) = ShapeUtil.Split(_dims, ax);
        if (n == 0) throw new ArgumentException($"max over an empty axis {axis} of {ShapeUtil.Format(_dims)}.");
        var x = this;
        var dims = ReducedDims(ax, keepDim);
        var y = Empty(dims);
        var idx = new int[outer * inner];
        var xs = x._data; var ys = y._data;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0; float bv = xs[o * n * inner + i];
                for (int k = 1; k < n; k++)
                {
                    float v = xs[(o * n + k) * inner + i];
                    if (v > bv || (float.IsNaN(v) && !float.IsNaN(bv))) { bv = v; best = k; }
                }
                ys[o * inner + i] = bv;
                idx[o * inner + i] = best;
            }
        Record(y, "max", g =>
        {
            var (gx, acc) = GradSink(x);
            if (!acc) gx.Data.Clear();
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                    gx._data[(o * n + idx[o * inner + i]) * inner + i] += g._data[o * inner + i];
        }, x);
        return (y, new IntTensor(idx, dims));
    }

    private int[] ReducedDims(int ax, bool keepDim)
    {
        var list = _dims.ToList();
        if (keepDim) list[ax] = 1; else list.RemoveAt(ax);
        return [.. list];
    }

    /// <summary>dst[o, i] = Σ_k src[o, k, i].</summary>
    internal static void SumAxis(ReadOnlySpan<float> src, int outer, int n, int inner, Span<float> dst)
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) dst[o] = PairwiseSum(src.Slice(o * n, n));
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var d = dst.Slice(o * inner, inner);
            if (n == 0) { d.Clear(); continue; }
            src.Slice(o * n * inner, inner).CopyTo(d);
            for (int k = 1; k < n; k++) TensorPrimitives.Add(d, src.Slice((o * n + k) * inner, inner), d);
        }
    }

    /// <summary>dst[o, k, i] (+)= scale·g[o, i].</summary>
    internal static void BroadcastAlongAxis(ReadOnlySpan<float> g, int outer, int n, int inner, Span<float> dst, bool accumulate, float scale)
    {
        for (int o = 0; o < outer; o++)
        {
            var gi = g.Slice(o * inner, inner);
            for (int k = 0; k < n; k++)
            {
                var d = dst.Slice((o * n + k) * inner, inner);
                if (inner == 1) { float v = scale * gi[0]; d[0] = accumulate ? d[0] + v : v; }
                else if (accumulate) TensorPrimitives.MultiplyAdd(gi, scale, d, d);
                else TensorPrimitives.Multiply(gi, scale, d);
            }
        }
    }

    /// <summary>Sum with error growing as log n rather than n (TensorPrimitives.Sum is vectorized but sequential across blocks).</summary>
    internal static float PairwiseSum(ReadOnlySpan<float> x)
    {
        if (x.Length <= 1024) return TensorPrimitives.Sum(x);
        int h = x.Length / 2;
        return PairwiseSum(x[..h]) + PairwiseSum(x[h..]);
    }
}
