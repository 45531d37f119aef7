using System.Numerics.Tensors;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Fused multi-head attention that reads heads in place from [batch, seq, heads·dim] tensors (the
// layout projections produce), so no permute or slice copies are made, and keeps only the attention
// probabilities for backward — never the raw scores.
public sealed partial class Tensor
{
    /// <summary>
    /// Multi-head scaled dot-product attention, softmax(scale·Q·Kᵀ + maskBias)·V per head.
    /// q: [b, nq, heads·dh]; k, v: [b, nk, heads·dh]; keyMask: [b, nk] of 1 (attend) or 0 (padding:
    /// the most negative float is added, as Hugging Face does), or null. attentionMask: [b, nq, nk] of
    /// 1 (query i may attend key j) or 0, or null: for structured masks such as MPNet's two streams;
    /// it combines with keyMask. Returns [b, nq, heads·dh].
    /// </summary>
    public static Tensor MultiHeadAttention(Tensor q, Tensor k, Tensor v, int heads, Tensor? keyMask, float scale, Tensor? attentionMask = null)
    {
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3 || !ShapeUtil.SameShape(k._dims, v._dims) || k._dims[0] != q._dims[0] || k._dims[2] != q._dims[2])
            throw new ArgumentException($"attention: q [b, nq, H], k and v [b, nk, H] expected, got {ShapeUtil.Format(q._dims)}, {ShapeUtil.Format(k._dims)}, {ShapeUtil.Format(v._dims)}.");
        int width = q._dims[2];
        return AttentionCore(new(q, 0, width), new(k, 0, width), new(v, 0, width), q._dims[0], q._dims[1], k._dims[1], width, heads, keyMask, attentionMask, scale, [q, k, v]);
    }

    /// <summary>
    /// Self-attention from one packed projection qkv: [b, n, 3·heads·dh] holding Q, K, V side by side
    /// (the output of a fused QKV linear layer). Returns [b, n, heads·dh].
    /// </summary>
    public static Tensor MultiHeadAttentionPacked(Tensor qkv, int heads, Tensor? keyMask, float scale)
    {
        if (qkv.Rank != 3 || qkv._dims[2] % 3 != 0)
            throw new ArgumentException($"attention: packed qkv must be [b, n, 3·H], got {ShapeUtil.Format(qkv._dims)}.");
        int width = qkv._dims[2] / 3, stride = qkv._dims[2];
        return AttentionCore(new(qkv, 0, stride), new(qkv, width, stride), new(qkv, 2 * width, stride), qkv._dims[0], qkv._dims[1], qkv._dims[1], width, heads, keyMask, null, scale, [qkv]);
    }

    /// <summary>Where a [b, n, heads·dh] operand lives: element (b, i, head, j) is at Offset + (b·n + i)·RowStride + head·dh + j.</summary>
    private readonly record struct HeadView(Tensor Tensor, int Offset, int RowStride);

    /// <remarks>
    /// One task per (batch, head) on one core, so its nq×nk probability block stays in cache between
    /// the two products. Backward, per task:
    /// dV = Pᵀ·dO;  dP = dO·Vᵀ;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dQ = scale·dS·K;  dK = scale·dSᵀ·Q.
    /// </remarks>
    private static unsafe Tensor AttentionCore(HeadView q, HeadView k, HeadView v, int b, int nq, int nk, int width, int heads,
                                               Tensor? keyMask, Tensor? attentionMask, float scale, Tensor[] inputs)
    {
        CheckFiniteInputs("attention", inputs);
        if (heads <= 0 || width % heads != 0) throw new ArgumentException($"attention: width {width} is not divisible by {heads} heads.");
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask._dims[0] != b || keyMask._dims[1] != nk))
            throw new ArgumentException($"attention: key mask {ShapeUtil.Format(keyMask._dims)} must be [{b}, {nk}].");
        if (attentionMask is not null && (attentionMask.Rank != 3 || attentionMask._dims[0] != b || attentionMask._dims[1] != nq || attentionMask._dims[2] != nk))
            throw new ArgumentException($"attention: attention mask {ShapeUtil.Format(attentionMask._dims)} must be [{b}, {nq}, {nk}].");
        int dh = width / heads;
        var probs = Empty(b, heads, nq, nk);
        var y = Empty(b, nq, width);
        // Additive bias rows: one per batch row (key mask only, shared by all queries) or one per query.
        float[]? bias = null;
        int biasQueryStride = 0;
        if (attentionMask is not null)
        {
            bias = new float[b * nq * nk];
            biasQueryStride = nk;
            for (int i = 0; i < bias.Length; i++)
            {
                bool open = attentionMask._data[i] != 0f && (keyMask is null || keyMask._data[i / (nq * nk) * nk + i % nk] != 0f);
                bias[i] = open ? 0f : float.MinValue;
            }
        }
        else if (keyMask is not null)
        {
            bias = new float[b * nk];
            for (int i = 0; i < bias.Length; i++) bias[i] = keyMask._data[i] == 0f ? float.MinValue : 0f;
        }
        int biasBatchStride = biasQueryStride == 0 ? nk : nq * nk;
        float[] qd = q.Tensor._data, kd = k.Tensor._data, vd = v.Tensor._data, pd = probs._data, yd = y._data;
        using (Gemm.SerialBlas())
        Parallelism.For(b * heads, 1, (s, e) =>
        {
            fixed (float* pq = qd, pk = kd, pv = vd, pp = pd, py = yd)
                for (int t = s; t < e; t++)
                {
                    int bi = t / heads, hi = t % heads;
                    float* Q = pq + q.Offset + (long)bi * nq * q.RowStride + hi * dh;
                    float* K = pk + k.Offset + (long)bi * nk * k.RowStride + hi * dh;
                    float* V = pv + v.Offset + (long)bi * nk * v.RowStride + hi * dh;
                    float* P = pp + (long)t * nq * nk;
                    Gemm.SgemmSerial(false, true, nq, nk, dh, 1f, Q, q.RowStride, K, k.RowStride, 0f, P, nk);   // S = Q·Kᵀ
                    for (int i = 0; i < nq; i++)
                    {
                        var row = new Span<float>(P + (long)i * nk, nk);
                        var maskRow = bias is null ? default : bias.AsSpan(bi * biasBatchStride + i * biasQueryStride, nk);
                        SoftmaxRow(row, row, scale, maskRow);                                                          // P = softmax(scale·S + bias)
                    }
                    Gemm.SgemmSerial(false, false, nq, dh, nk, 1f, P, nk, V, v.RowStride, 0f, py + (long)bi * nq * width + hi * dh, width);   // O = P·V
                }
        });

        return Record(y, "attention", g =>
        {
            // Gradient targets: one buffer for a packed input (its Q, K, V column blocks are disjoint).
            float[]? gq = null, gk = null, gv = null;
            bool accQ = false, accK = false, accV = false;
            // Each view is written in the order dV, dQ, dK; when two views are the same region of one
            // tensor (q = k = v passed as one tensor), only the first write overwrites.
            static (float[]?, bool) Sink(HeadView view, (HeadView View, float[]? Grad, bool Acc)[] earlier)
            {
                if (!view.Tensor.RequiresGrad) return (null, false);
                foreach (var (other, grad, acc) in earlier)
                    if (grad is not null && ReferenceEquals(other.Tensor, view.Tensor))
                        return (grad, acc || other.Offset == view.Offset);
                var (t, a) = GradSink(view.Tensor);
                return (t._data, a);
            }
            (gv, accV) = Sink(v, []);
            (gq, accQ) = Sink(q, [(v, gv, accV)]);
            (gk, accK) = Sink(k, [(v, gv, accV), (q, gq, accQ)]);
            float[] gd = g._data;
            var dsAll = Empty(Math.Min(b * heads, Parallelism.Threads), nq, nk);   // one dS scratch block per worker
            float[] dsd = dsAll._data;
            int chunks = Parallelism.ChunkCount(b * heads, 1);
            using var region = Gemm.SerialBlas();
            Parallelism.For(b * heads, 1, (s, e) =>
            {
                int worker = ChunkIndex(b * heads, chunks, s);
                fixed (float* pq = qd, pk = kd, pv = vd, pp = pd, pg = gd, pds = dsd)
                    for (int t = s; t < e; t++)
                    {
                        int bi = t / heads, hi = t % heads;
                        long qOff = q.Offset + (long)bi * nq * q.RowStride + hi * dh;
                        long kOff = k.Offset + (long)bi * nk * k.RowStride + hi * dh;
                        long vOff = v.Offset + (long)bi * nk * v.RowStride + hi * dh;
                        float* P = pp + (long)t * nq * nk, DS = pds + (long)worker * nq * nk;
                        float* dO = pg + (long)bi * nq * width + hi * dh;
                        if (gv is not null)
                            fixed (float* pgv = gv)   // dV = Pᵀ·dO
                                Gemm.SgemmSerial(true, false, nk, dh, nq, 1f, P, nk, dO, width, accV ? 1f : 0f, pgv + vOff, v.RowStride);
                        Gemm.SgemmSerial(false, true, nq, nk, dh, 1f, dO, width, pv + vOff, v.RowStride, 0f, DS, nk);   // dP = dO·Vᵀ
                        for (int i = 0; i < nq; i++)
                        {
                            var pr = new ReadOnlySpan<float>(P + (long)i * nk, nk);
                            var dr = new Span<float>(DS + (long)i * nk, nk);
                            float dot = TensorPrimitives.Dot(dr, pr);
                            TensorPrimitives.Subtract(dr, dot, dr);
                            TensorPrimitives.Multiply(dr, pr, dr);                                                              // dS = P ⊙ (dP − ⟨dP, P⟩)
                        }
                        if (gq is not null)
                            fixed (float* pgq = gq)   // dQ = scale·dS·K
                                Gemm.SgemmSerial(false, false, nq, dh, nk, scale, DS, nk, pk + kOff, k.RowStride, accQ ? 1f : 0f, pgq + qOff, q.RowStride);
                        if (gk is not null)
                            fixed (float* pgk = gk)   // dK = scale·dSᵀ·Q
                                Gemm.SgemmSerial(true, false, nk, dh, nq, scale, DS, nk, pq + qOff, q.RowStride, accK ? 1f : 0f, pgk + kOff, k.RowStride);
                    }
            });
        }, inputs);
    }
}
