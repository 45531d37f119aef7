using System.Numerics.Tensors;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Matrix products. Shapes: op(a) is [..., M, K], op(b) is [..., K, N], output [..., M, N], where
// op(x) transposes the last two axes when the flag is set. Batch axes must match, or one side is a
// plain matrix shared by every batch entry.
public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product op(a)·op(b). A 2-D <paramref name="b"/> is shared across a's batch axes
    /// (so [batch, seq, in]·[in, out] is one large GEMM).
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        CheckFiniteInputs("matmul", a, b);
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"matmul: both operands need at least 2 axes, got {ShapeUtil.Format(a._dims)} and {ShapeUtil.Format(b._dims)}.");
        int m = transA ? a._dims[^1] : a._dims[^2], ka = transA ? a._dims[^2] : a._dims[^1];
        int kb = transB ? b._dims[^1] : b._dims[^2], n = transB ? b._dims[^2] : b._dims[^1];
        if (ka != kb)
            throw new ArgumentException($"matmul: inner sizes differ: {ShapeUtil.Format(a._dims)}{(transA ? "ᵀ" : "")} · {ShapeUtil.Format(b._dims)}{(transB ? "ᵀ" : "")} ({ka} vs {kb}).");
        int k = ka;
        var batchDims = BatchDims(a, b);
        int batch = ShapeUtil.Product(batchDims);
        long sA = a.Rank == 2 ? 0 : (long)m * k, sB = b.Rank == 2 ? 0 : (long)k * n, sC = (long)m * n;
        int lda = a._dims[^1], ldb = b._dims[^1];

        var y = Empty([.. batchDims, m, n]);
        // [batch·M, K]·[K, N] when b is shared and a is not transposed: one large GEMM.
        bool flatten = sB == 0 && !transA;
        if (flatten) Gemm.Sgemm(false, transB, batch * m, n, k, 1f, a.Data, lda, b.Data, ldb, 0f, y.Data, n);
        else Batched(transA, transB, m, n, k, a._data, lda, sA, b._data, ldb, sB, y._data, n, sC, batch, 0f);

        return Record(y, "matmul", g =>
        {
            if (a.RequiresGrad)
            {
                var (ga, acc) = GradSink(a);
                float beta = acc ? 1f : 0f;
                if (flatten)      // dA = G·op(B)ᵀ
                    Gemm.Sgemm(false, !transB, batch * m, k, n, 1f, g.Data, n, b.Data, ldb, beta, ga.Data, lda);
                else if (!transA) // dA = G·op(B)ᵀ, per batch
                    Batched(false, !transB, m, k, n, g._data, n, sC, b._data, ldb, sB, ga._data, lda, sA, batch, beta);
                else              // dA (stored [K, M]) = op(B)·Gᵀ
                    Batched(transB, true, k, m, n, b._data, ldb, sB, g._data, n, sC, ga._data, lda, sA, batch, beta);
            }
            if (b.RequiresGrad)
            {
                var (gb, acc) = GradSink(b);
                float beta = acc ? 1f : 0f;
                if (flatten)
                {
                    if (!transB) Gemm.Sgemm(true, false, k, n, batch * m, 1f, a.Data, lda, g.Data, n, beta, gb.Data, ldb);   // dB = op(A)ᵀ·G
                    else Gemm.Sgemm(true, false, n, k, batch * m, 1f, g.Data, n, a.Data, lda, beta, gb.Data, ldb);           // dB (stored [N, K]) = Gᵀ·op(A)
                }
                else if (!transB) Batched(!transA, false, k, n, m, a._data, lda, sA, g._data, n, sC, gb._data, ldb, sB, batch, beta);
                else Batched(true, transA, n, k, m, g._data, n, sC, a._data, lda, sA, gb._data, ldb, sB, batch, beta);
            }
        }, a, b);
    }

    /// <summary>Batch axes of the product: a's and b's (which must match), or the only side that has them.</summary>
    private static int[] BatchDims(Tensor a, Tensor b)
    {
        var ba = a._dims.AsSpan(0, a.Rank - 2);
        var bb = b._dims.AsSpan(0, b.Rank - 2);
        if (ba.Length == 0) return bb.ToArray();
        if (bb.Length == 0) return ba.ToArray();
        if (!ba.SequenceEqual(bb))
            throw new ArgumentException($"matmul: batch axes differ: {ShapeUtil.Format(a._dims)} · {ShapeUtil.Format(b._dims)}.");
        return ba.ToArray();
    }

    /// <summary>Strided batched GEMM; a zero output stride means all entries add into one matrix (a shared operand's gradient).</summary>
    private static void Batched(bool tA, bool tB, int m, int n, int k, float[] A, int lda, long sA, float[] B, int ldb, long sB,
                                float[] C, int ldc, long sC, int batch, float beta)
    {
        if (batch == 1 || sC == 0)
        {
            for (int i = 0; i < batch; i++)
                Gemm.Sgemm(tA, tB, m, n, k, 1f, A.AsSpan((int)(i * sA)), lda, B.AsSpan((int)(i * sB)), ldb, i == 0 ? beta : 1f, C.AsSpan(0, (int)Math.Max(sC * batch, (long)m * ldc)), ldc);
            return;
        }
        Gemm.SgemmBatched(tA, tB, m, n, k, 1f, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch);
    }

    /// <summary>
    /// Affine map y = x·Wᵀ + b over the last axis of x, with W stored [out, in] as in PyTorch and
    /// Hugging Face. Bias and product are fused into one GEMM (C starts as the broadcast bias).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        CheckFiniteInputs("linear", x, weight);
        if (weight.Rank != 2) throw new ArgumentException($"linear: weight must be [out, in], got {ShapeUtil.Format(weight._dims)}.");
        int outF = weight._dims[0], inF = weight._dims[1];
        if (x.Rank < 1 || x._dims[^1] != inF)
            throw new ArgumentException($"linear: input {ShapeUtil.Format(x._dims)} does not end in {inF} (weight {ShapeUtil.Format(weight._dims)}).");
        if (bias is not null && (bias.Rank != 1 || bias._dims[0] != outF))
            throw new ArgumentException($"linear: bias {ShapeUtil.Format(bias._dims)} must be [{outF}] (weight {ShapeUtil.Format(weight._dims)}).");
        int rows = x.Length / Math.Max(inF, 1);
        int[] outDims = [.. x._dims.AsSpan(0, x.Rank - 1), outF];
        var y = Empty(outDims);
        if (bias is not null) for (int r = 0; r < rows; r++) bias.Data.CopyTo(y._data.AsSpan(r * outF, outF));
        Gemm.Sgemm(false, true, rows, outF, inF, 1f, x.Data, inF, weight.Data, inF, bias is null ? 0f : 1f, y.Data, outF);

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Record(y, "linear", g =>
        {
            if (x.RequiresGrad)      // dx = G·W            [rows, out]·[out, in]
            {
                var (gx, acc) = GradSink(x);
                Gemm.Sgemm(false, false, rows, inF, outF, 1f, g.Data, outF, weight.Data, inF, acc ? 1f : 0f, gx.Data, inF);
            }
            if (weight.RequiresGrad) // dW = Gᵀ·x           [out, rows]·[rows, in]
            {
                var (gw, acc) = GradSink(weight);
                Gemm.Sgemm(true, false, outF, inF, rows, 1f, g.Data, outF, x.Data, inF, acc ? 1f : 0f, gw.Data, inF);
            }
            if (bias is not null && bias.RequiresGrad) // db = Σ_rows G
            {
                var (gb, acc) = GradSink(bias);
                SumRows(g.Data, rows, outF, gb.Data, acc);
            }
        }, inputs);
    }

    /// <summary>dst[j] (+)= Σ_r src[r, j], with per-chunk partials summed in chunk order (deterministic).</summary>
    internal static void SumRows(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst, bool accumulate)
    {
        if (!accumulate) dst.Clear();
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Add(dst, src.Slice(r * cols, cols), dst);
    }
}
