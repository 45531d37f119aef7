using System.Numerics.Tensors;

namespace Jianwei.Tensors;

// Gather, index-select and its inverse index-add, embedding lookup, scatter-add, masked fill. Indices are IntTensors and are
// bounds-checked with messages that name the offending index.
public sealed partial class Tensor
{
    /// <summary>
    /// torch.gather: out[..., i, ...] = x[..., index[..., i, ...], ...] along <paramref name="axis"/>;
    /// the output has the index's shape.
    /// </summary>
    public Tensor Gather(int axis, IntTensor index)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        if (index.Rank != Rank) throw new ArgumentException($"gather: index {ShapeUtil.Format(index.Shape)} must have the rank of input {ShapeUtil.Format(_dims)}.");
        for (int d = 0; d < Rank; d++)
            if (d != ax && index._dims[d] > _dims[d])
                throw new ArgumentException($"gather: index {ShapeUtil.Format(index.Shape)} is larger than input {ShapeUtil.Format(_dims)} on axis {d}.");
        var x = this;
        var offsets = GatherOffsets(index, ax);
        var y = Empty(index._dims);
        for (int i = 0; i < offsets.Length; i++) y._data[i] = x._data[offsets[i]];
        return Record(y, "gather", g =>
        {
            var (gx, acc) = GradSink(x);
            if (!acc) gx.Data.Clear();
            for (int i = 0; i < offsets.Length; i++) gx._data[offsets[i]] += g._data[i];
        }, x);
    }

    /// <summary>Flat offsets into this tensor addressed by a gather/scatter index along an axis.</summary>
    private int[] GatherOffsets(IntTensor index, int ax)
    {
        int rank = Rank;
        var strides = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; i--) { strides[i] = s; s *= _dims[i]; }
        var offsets = new int[index.Length];
        var pos = new int[rank];
        var idx = index.Values;
        for (int flat = 0; flat < idx.Length; flat++)
        {
            int v = idx[flat];
            if ((uint)v >= (uint)_dims[ax])
                throw new IndexOutOfRangeException($"gather/scatter: index {v} at position {ShapeUtil.Format(pos)} is out of range for axis {ax} of size {_dims[ax]}.");
            int off = 0;
            for (int d = 0; d < rank; d++) off += (d == ax ? v : pos[d]) * strides[d];
            offsets[flat] = off;
            for (int d = rank - 1; d >= 0; d--) { if (++pos[d] < index._dims[d]) break; pos[d] = 0; }
        }
        return offsets;
    }

    /// <summary>Picks entries along an axis by position (rows of a matrix, say); indices may repeat.</summary>
    public Tensor IndexSelect(int axis, IntTensor indices)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        var (outer, n, inner) = ShapeUtil.Split(_dims, ax);
        var ids = indices.Values;
        foreach (int v in ids)
            if ((uint)v >= (uint)n) throw new IndexOutOfRangeException($"index_select: index {v} is out of range for axis {axis} of {ShapeUtil.Format(_dims)}.");
        var dims = ShapeArray; dims[ax] = ids.Length;
        var x = this;
        var y = Empty(dims);
        int m = ids.Length;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < m; j++)
                x._data.AsSpan((o * n + ids[j]) * inner, inner).CopyTo(y._data.AsSpan((o * m + j) * inner, inner));
        return Record(y, "index_select", g =>
        {
            var (gx, acc) = GradSink(x);
            if (!acc) gx.Data.Clear();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < m; j++)
                {
                    var d = gx._data.AsSpan((o * n + ids[j]) * inner, inner);
                    TensorPrimitives.Add(d, g._data.AsSpan((o * m + j) * inner, inner), d);
                }
        }, x);
    }

    /// <summary>
    /// torch.index_add: a copy of this tensor with slice j of <paramref name="src"/> along
    /// <paramref name="axis"/> added at position indices[j] (rows of a matrix, say; indices may repeat).
    /// The inverse of <see cref="IndexSelect"/>: d/dself = g, d/dsrc = g.IndexSelect(axis, indices).
    /// </summary>
    public Tensor IndexAdd(int axis, IntTensor indices, Tensor src)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        var (outer, n, inner) = ShapeUtil.Split(_dims, ax);
        var ids = indices.Values;
        int m = ids.Length;
        var expected = ShapeArray; expected[ax] = m;
        if (!ShapeUtil.SameShape(src._dims, expected))
            throw new ArgumentException($"index_add: src {ShapeUtil.Format(src._dims)} must be {ShapeUtil.Format(expected)} for {m} indices into {ShapeUtil.Format(_dims)}.");
        foreach (int v in ids)
            if ((uint)v >= (uint)n) throw new IndexOutOfRangeException($"index_add: index {v} is out of range for axis {axis} of {ShapeUtil.Format(_dims)}.");
        var x = this;
        var y = Empty(_dims);
        Data.CopyTo(y.Data);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < m; j++)
            {
                var d = y._data.AsSpan((o * n + ids[j]) * inner, inner);
                TensorPrimitives.Add(d, src._data.AsSpan((o * m + j) * inner, inner), d);
            }
        return Record(y, "index_add", g =>
        {
            if (x.RequiresGrad) AccumulateGrad(x, g.Data);
            if (!src.RequiresGrad) return;
            var (gs, acc) = GradSink(src);
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < m; j++)
                {
                    var from = g._data.AsSpan((o * n + ids[j]) * inner, inner);
                    var to = gs._data.AsSpan((o * m + j) * inner, inner);
                    if (acc) TensorPrimitives.Add(to, from, to); else from.CopyTo(to);
                }
        }, x, src);
    }

    /// <summary>
    /// Embedding lookup: rows of <paramref name="weight"/> [vocab, dim] for each id, output [..ids, dim].
    /// The backward pass touches only the rows that were used.
    /// </summary>
    public static Tensor Embedding(Tensor weight, IntTensor ids)
    {
        if (weight.Rank != 2) throw new ArgumentException($"embedding: weight must be [vocab, dim], got {ShapeUtil.Format(weight._dims)}.");
        int vocab = weight._dims[0], dim = weight._dims[1];
        var values = ids.Values;
        for (int i = 0; i < values.Length; i++)
            if ((uint)values[i] >= (uint)vocab)
                throw new IndexOutOfRangeException($"embedding: id {values[i]} at position {i} is outside the vocabulary of {vocab} ({weight.Name ?? "weight"} {ShapeUtil.Format(weight._dims)}).");
        var y = Empty([.. ids._dims, dim]);
        for (int i = 0; i < values.Length; i++)
            weight._data.AsSpan(values[i] * dim, dim).CopyTo(y._data.AsSpan(i * dim, dim));
        return Record(y, "embedding", g =>
        {
            // Only used rows are written; untouched rows of a fresh gradient are zeroed once.
            var (gw, acc) = GradSink(weight);
            if (!acc) gw.Data.Clear();
            for (int i = 0; i < values.Length; i++)
            {
                var d = gw._data.AsSpan(values[i] * dim, dim);
                TensorPrimitives.Add(d, g._data.AsSpan(i * dim, dim), d);
            }
        }, weight);
    }

    /// <summary>
    /// torch.scatter_add: a copy of this tensor with src[..., i, ...] added at position index[..., i, ...]
    /// along <paramref name="axis"/>. d/dself = 1; d/dsrc = gather of the gradient.
    /// </summary>
    public Tensor ScatterAdd(int axis, IntTensor index, Tensor src)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        if (!ShapeUtil.SameShape(index.Shape, src._dims))
            throw new ArgumentException($"scatter_add: index {ShapeUtil.Format(index.Shape)} and src {ShapeUtil.Format(src._dims)} must have the same shape.");
        if (index.Rank != Rank) throw new ArgumentException($"scatter_add: index {ShapeUtil.Format(index.Shape)} must have the rank of {ShapeUtil.Format(_dims)}.");
        var x = this;
        var offsets = GatherOffsets(index, ax);
        var y = Empty(_dims);
        Data.CopyTo(y.Data);
        for (int i = 0; i < offsets.Length; i++) y._data[offsets[i]] += src._data[i];
        return Record(y, "scatter_add", g =>
        {
            if (x.RequiresGrad) AccumulateGrad(x, g.Data);
            if (src.RequiresGrad)
            {
                var (gs, acc) = GradSink(src);
                for (int i = 0; i < offsets.Length; i++) gs._data[i] = (acc ? gs._data[i] : 0f) + g._data[offsets[i]];
            }
        }, x, src);
    }

    /// <summary>
    /// Replaces elements where <paramref name="mask"/> is non-zero with <paramref name="value"/>; the
    /// mask broadcasts against this tensor. Filled positions get no gradient.
    /// </summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        var plan = BroadcastPlan.Create(_dims, mask._dims, "masked_fill");
        if (!ShapeUtil.SameShape(plan.OutDims, _dims))
            throw new ArgumentException($"masked_fill: mask {ShapeUtil.Format(mask._dims)} must broadcast to input {ShapeUtil.Format(_dims)}.");
        var x = this;
        var keep = Empty(_dims);   // 1 where the input passes through, 0 where filled
        Apply(plan, Data, mask.Data, keep.Data, default(KeepWhereZero));
        var y = Empty(_dims);
        var xd = x._data; var kd = keep._data; var yd = y._data;
        for (int i = 0; i < yd.Length && i < Length; i++) yd[i] = kd[i] != 0f ? xd[i] : value;
        return Record(y, "masked_fill", g =>
        {
            var (gx, acc) = GradSink(x);
            Kernels.Elementwise.Map(default(MulOp), g.Data, keep.Data, gx.Data, acc);
        }, x);
    }

    private readonly struct KeepWhereZero : Kernels.IBinaryOperator
    {
        public float Invoke(float x, float m) => m == 0f ? 1f : 0f;
        public System.Runtime.Intrinsics.Vector256<float> Invoke(System.Runtime.Intrinsics.Vector256<float> x, System.Runtime.Intrinsics.Vector256<float> m)
            => System.Runtime.Intrinsics.Vector256.ConditionalSelect(System.Runtime.Intrinsics.Vector256.Equals(m, default), System.Runtime.Intrinsics.Vector256<float>.One, default);
        public System.Runtime.Intrinsics.Vector512<float> Invoke(System.Runtime.Intrinsics.Vector512<float> x, System.Runtime.Intrinsics.Vector512<float> m)
            => System.Runtime.Intrinsics.Vector512.ConditionalSelect(System.Runtime.Intrinsics.Vector512.Equals(m, default), System.Runtime.Intrinsics.Vector512<float>.One, default);
    }
}
