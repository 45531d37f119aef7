using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

/// <summary>
/// NumPy broadcasting of two shapes, seen as rows of the output's last axis: for each output row,
/// where the row starts in each operand, and whether the operand moves along the row (stride 1)
/// or repeats one value (stride 0).
/// </summary>
internal sealed class BroadcastPlan
{
    public readonly int[] OutDims;
    private readonly int[] _strideA, _strideB;   // per output axis; 0 where broadcast
    public readonly int Rows, Inner;
    public readonly bool AMovesInRow, BMovesInRow;

    private BroadcastPlan(int[] outDims, int[] sa, int[] sb)
    {
        OutDims = outDims; _strideA = sa; _strideB = sb;
        Inner = outDims.Length == 0 ? 1 : outDims[^1];
        Rows = Inner == 0 ? 0 : ShapeUtil.Product(outDims) / Inner;
        AMovesInRow = outDims.Length > 0 && sa[^1] == 1;
        BMovesInRow = outDims.Length > 0 && sb[^1] == 1;
    }

    public static BroadcastPlan Create(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var outDims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {ShapeUtil.Format(a)} and {ShapeUtil.Format(b)} cannot be broadcast together (axis {i}: {da} vs {db}).");
            outDims[i] = da == 1 ? db : da;
        }
        return new BroadcastPlan(outDims, Strides(a, outDims), Strides(b, outDims));
    }

    /// <summary>Strides of <paramref name="dims"/> (right-aligned) in output coordinates, 0 on broadcast axes.</summary>
    public static int[] Strides(ReadOnlySpan<int> dims, int[] outDims)
    {
        int rank = outDims.Length, off = rank - dims.Length;
        var s = new int[rank];
        int stride = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int d = i - off >= 0 ? dims[i - off] : 1;
            s[i] = d == 1 ? 0 : stride;
            stride *= d;
        }
        return s;
    }

    /// <summary>Start offsets of output row <paramref name="row"/> in each operand.</summary>
    public void RowOffsets(int row, out int offA, out int offB)
    {
        offA = 0; offB = 0;
        for (int i = OutDims.Length - 2; i >= 0; i--)
        {
            int d = OutDims[i];
            int idx = row % d;
            row /= d;
            offA += idx * _strideA[i];
            offB += idx * _strideB[i];
        }
    }

    /// <summary>
    /// Adds <paramref name="src"/> (output-shaped) into <paramref name="dst"/> (shape <paramref name="target"/>),
    /// summing over the axes that <paramref name="target"/> was broadcast along. Sequential, so the
    /// order of additions (and the result's bits) is fixed.
    /// </summary>
    public static void SumInto(ReadOnlySpan<float> src, int[] outDims, ReadOnlySpan<int> target, Span<float> dst, bool accumulate)
    {
        if (!accumulate) dst.Clear();
        if (ShapeUtil.SameShape(outDims, target))
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
            return;
        }
        var strides = Strides(target, outDims);
        int inner = outDims.Length == 0 ? 1 : outDims[^1];
        if (inner == 0) return;
        int rows = src.Length / inner;
        bool moves = outDims.Length > 0 && strides[^1] == 1;
        for (int r = 0; r < rows; r++)
        {
            int off = 0, rr = r;
            for (int i = outDims.Length - 2; i >= 0; i--)
            {
                int d = outDims[i];
                off += rr % d * strides[i];
                rr /= d;
            }
            var row = src.Slice(r * inner, inner);
            if (moves) System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(off, inner), row, dst.Slice(off, inner));
            else dst[off] += System.Numerics.Tensors.TensorPrimitives.Sum(row);
        }
    }
}
