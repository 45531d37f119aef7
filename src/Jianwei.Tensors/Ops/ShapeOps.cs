namespace Jianwei.Tensors;

// Reshape (a view), permute/transpose, slice, concat, stack. All but reshape copy.
public sealed partial class Tensor
{
    /// <summary>Same storage seen with another shape (one axis may be -1). Gradients flow through.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var dims = ShapeUtil.InferShape(shape, Length, _dims);
        var x = this;
        var y = new Tensor(_data, dims);
        return Record(y, "reshape", g => AccumulateGrad(x, g.Data), x);
    }

    /// <summary>Swaps two axes (copies).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var perm = Enumerable.Range(0, Rank).ToArray();
        int a = ShapeUtil.NormalizeAxis(axis0, Rank), b = ShapeUtil.NormalizeAxis(axis1, Rank);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>Reorders axes: output axis i is input axis perm[i] (copies).</summary>
    public Tensor Permute(params int[] perm)
    {
        if (perm.Length != Rank || perm.Distinct().Count() != Rank || perm.Any(p => p < 0 || p >= Rank))
            throw new ArgumentException($"permute: [{string.Join(", ", perm)}] is not a permutation of the axes of {ShapeUtil.Format(_dims)}.");
        var x = this;
        var outDims = perm.Select(p => _dims[p]).ToArray();
        var y = Empty(outDims);
        PermuteCopy(x._data, x._dims, perm, y._data, accumulate: false);
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return Record(y, "permute", g =>
        {
            var (gx, acc) = GradSink(x);
            PermuteCopy(g._data, outDims, inverse, gx._data, acc);
        }, x);
    }

    /// <summary>dst = src with axes reordered by perm; the innermost contiguous run is copied as a block.</summary>
    private static void PermuteCopy(float[] src, int[] srcDims, int[] perm, float[] dst, bool accumulate)
    {
        int rank = srcDims.Length;
        int n = ShapeUtil.Product(srcDims);
        if (n == 0) return;
        var srcStrides = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; i--) { srcStrides[i] = s; s *= srcDims[i]; }
        var outDims = perm.Select(p => srcDims[p]).ToArray();
        var stride = perm.Select(p => srcStrides[p]).ToArray();   // source stride of each output axis
        int inner = outDims[^1], innerStride = stride[^1];
        int rows = n / inner;
        var idx = new int[rank];
        int srcOff = 0;
        for (int r = 0; r < rows; r++)
        {
            int d0 = r * inner;
            if (innerStride == 1)
            {
                var s = src.AsSpan(srcOff, inner); var d = dst.AsSpan(d0, inner);
                if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(d, s, d); else s.CopyTo(d);
            }
            else if (accumulate) for (int j = 0; j < inner; j++) dst[d0 + j] += src[srcOff + j * innerStride];
            else for (int j = 0; j < inner; j++) dst[d0 + j] = src[srcOff + j * innerStride];
            // advance the odometer over the output's outer axes
            for (int ax = rank - 2; ax >= 0; ax--)
            {
                idx[ax]++; srcOff += stride[ax];
                if (idx[ax] < outDims[ax]) break;
                srcOff -= stride[ax] * outDims[ax]; idx[ax] = 0;
            }
        }
    }

    /// <summary>Elements [start, start + length) along one axis (copies).</summary>
    public Tensor Slice(int axis, int start, int length)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, Rank);
        if (start < 0 || length < 0 || start + length > _dims[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {start + length}) is outside axis {axis} of {ShapeUtil.Format(_dims)}.");
        var (outer, n, inner) = ShapeUtil.Split(_dims, ax);
        var dims = ShapeArray; dims[ax] = length;
        var x = this;
        var y = Empty(dims);
        int block = length * inner;
        for (int o = 0; o < outer; o++) x._data.AsSpan((o * n + start) * inner, block).CopyTo(y._data.AsSpan(o * block, block));
        return Record(y, "slice", g =>
        {
            var (gx, acc) = GradSink(x);
            if (!acc) gx.Data.Clear();
            for (int o = 0; o < outer; o++)
            {
                var d = gx._data.AsSpan((o * n + start) * inner, block);
                System.Numerics.Tensors.TensorPrimitives.Add(d, g._data.AsSpan(o * block, block), d);
            }
        }, x);
    }

    /// <summary>Joins tensors along an existing axis; all other axes must agree.</summary>
    public static Tensor Concat(int axis, params Tensor[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("concat needs at least one tensor.");
        var first = parts[0];
        int ax = ShapeUtil.NormalizeAxis(axis, first.Rank);
        int total = 0;
        foreach (var p in parts)
        {
            bool ok = p.Rank == first.Rank;
            for (int i = 0; ok && i < p.Rank; i++) ok = i == ax || p._dims[i] == first._dims[i];
            if (!ok) throw new ArgumentException($"concat along axis {axis}: shapes {ShapeUtil.Format(first._dims)} and {ShapeUtil.Format(p._dims)} differ off that axis.");
            total += p._dims[ax];
        }
        var dims = first.ShapeArray; dims[ax] = total;
        var (outer, _, inner) = ShapeUtil.Split(dims, ax);
        var y = Empty(dims);
        int rowOut = total * inner, offset = 0;
        var offsets = new int[parts.Length];
        for (int p = 0; p < parts.Length; p++)
        {
            offsets[p] = offset;
            int block = parts[p]._dims[ax] * inner;
            for (int o = 0; o < outer; o++) parts[p]._data.AsSpan(o * block, block).CopyTo(y._data.AsSpan(o * rowOut + offset, block));
            offset += block;
        }
        return Record(y, "concat", g =>
        {
            for (int p = 0; p < parts.Length; p++)
            {
                if (!parts[p].RequiresGrad) continue;
                int block = parts[p]._dims[ax] * inner;
                var (gp, acc) = GradSink(parts[p]);
                for (int o = 0; o < outer; o++)
                {
                    var s = g._data.AsSpan(o * rowOut + offsets[p], block); var d = gp._data.AsSpan(o * block, block);
                    if (acc) System.Numerics.Tensors.TensorPrimitives.Add(d, s, d); else s.CopyTo(d);
                }
            }
        }, parts);
    }

    /// <summary>Joins same-shaped tensors along a new axis.</summary>
    public static Tensor Stack(int axis, params Tensor[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("stack needs at least one tensor.");
        int ax = axis < 0 ? axis + parts[0].Rank + 1 : axis;
        foreach (var p in parts)
            if (!ShapeUtil.SameShape(p._dims, parts[0]._dims))
                throw new ArgumentException($"stack: shapes {ShapeUtil.Format(parts[0]._dims)} and {ShapeUtil.Format(p._dims)} differ.");
        var expanded = parts.Select(p =>
        {
            var d = p._dims.ToList(); d.Insert(ax, 1);
            return p.Reshape([.. d]);
        }).ToArray();
        return Concat(ax, expanded);
    }
}
