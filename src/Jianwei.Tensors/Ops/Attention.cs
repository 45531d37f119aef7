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
    /// it combines with keyMask. <paramref name="entmaxAlpha"/> above 1 replaces softmax by α-entmax
    /// (Correia et al. 2019, "Adaptively Sparse Transformers"): keys below a threshold get exactly zero
    /// weight. Returns [b, nq, heads·dh].
    /// </summary>
    public static Tensor MultiHeadAttention(Tensor q, Tensor k, Tensor v, int heads, Tensor? keyMask, float scale, Tensor? attentionMask = null, float entmaxAlpha = 1f)
    {
        if (entmaxAlpha != 1f) CheckEntmaxAlpha(entmaxAlpha);
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3 || !ShapeUtil.SameShape(k._dims, v._dims) || k._dims[0] != q._dims[0] || k._dims[2] != q._dims[2])
            throw new ArgumentException($"attention: q [b, nq, H], k and v [b, nk, H] expected, got {ShapeUtil.Format(q._dims)}, {ShapeUtil.Format(k._dims)}, {ShapeUtil.Format(v._dims)}.");
        int width = q._dims[2];
        return AttentionCore(new(q, 0, width), new(k, 0, width), new(v, 0, width), q._dims[0], q._dims[1], k._dims[1], width, heads, keyMask, attentionMask, scale, entmaxAlpha, [q, k, v]);
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
        return AttentionCore(new(qkv, 0, stride), new(qkv, width, stride), new(qkv, 2 * width, stride), qkv._dims[0], qkv._dims[1], qkv._dims[1], width, heads, keyMask, null, scale, 1f, [qkv]);
    }

    /// <summary>Where a [b, n, heads·dh] operand lives: element (b, i, head, j) is at Offset + (b·n + i)·RowStride + head·dh + j.</summary>
    private readonly record struct HeadView(Tensor Tensor, int Offset, int RowStride);

    /// <remarks>
    /// One task per (batch, head) on one core, so its nq×nk probability block stays in cache between
    /// the two products. Backward, per task:
    /// dV = Pᵀ·dO;  dP = dO·Vᵀ;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dQ = scale·dS·K;  dK = scale·dSᵀ·Q.
    /// With entmax, dS = s ⊙ dP − s·⟨s, dP⟩/Σs for s = P^{2−α} (softmax is the case α = 1, s = P, Σs = 1).
    /// </remarks>
    private static unsafe Tensor AttentionCore(HeadView q, HeadView k, HeadView v, int b, int nq, int nk, int width, int heads,
                                               Tensor? keyMask, Tensor? attentionMask, float scale, float alpha, Tensor[] inputs)
    {
        CheckFiniteInputs("attention", inputs);
        if (heads <= 0 || width % heads != 0) throw new ArgumentException($"attention: width {width} is not divisible by {heads} heads.");
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask._dims[0] != b || keyMask._dims[1] != nk))
            throw new ArgumentException($"attention: key mask {ShapeUtil.Format(keyMask._dims)} must be [{b}, {nk}].");
        if (attentionMask is not null && (attentionMask.Rank != 3 || attentionMask._dims[0] != b || attentionMask._dims[1] != nq || attentionMask._dims[2] != nk))
            throw new ArgumentException($"attention: attention mask {ShapeUtil.Format(attentionMask._dims)} must be [{b}, {nq}, {nk}].");
        var at = new AttentionShape(q, k, v, b, nq, nk, width, heads, width / heads, scale, alpha);
        var probs = Empty(b, heads, nq, nk);
        var y = Empty(b, nq, width);
        var bias = AttentionBias(keyMask, attentionMask, b, nq, nk);
        float[] qd = q.Tensor._data, kd = k.Tensor._data, vd = v.Tensor._data, pd = probs._data, yd = y._data;
        using (Gemm.SerialBlas())
        Parallelism.For(b * heads, 1, (s, e) =>
        {
            fixed (float* pq = qd, pk = kd, pv = vd, pp = pd, py = yd)
                for (int t = s; t < e; t++) AttentionForwardTask(at, t, pq, pk, pv, pp, py, bias);
        });

        return Record(y, "attention", g =>
        {
            // Gradient targets: one buffer for a packed input (its Q, K, V column blocks are disjoint).
            // Each view is written in the order dV, dQ, dK; when two views are the same region of one
            // tensor (q = k = v passed as one tensor), only the first write overwrites.
            var (gv, accV) = AttentionGradSink(v, []);
            var (gq, accQ) = AttentionGradSink(q, [(v, gv, accV)]);
            var (gk, accK) = AttentionGradSink(k, [(v, gv, accV), (q, gq, accQ)]);
            var sinks = new AttentionSinks(gq, accQ, gk, accK, gv, accV);
            float[] gd = g._data;
            var dsAll = Empty(Math.Min(b * heads, Parallelism.Threads), nq, nk);   // one dS scratch block per worker
            float[] dsd = dsAll._data;
            int chunks = Parallelism.ChunkCount(b * heads, 1);
            using var region = Gemm.SerialBlas();
            Parallelism.For(b * heads, 1, (s, e) =>
            {
                int worker = ChunkIndex(b * heads, chunks, s);
                fixed (float* pq = qd, pk = kd, pv = vd, pp = pd, pg = gd, pds = dsd)
                    for (int t = s; t < e; t++) AttentionBackwardTask(at, t, pq, pk, pv, pp, pg, pds + (long)worker * nq * nk, sinks);
            });
        }, inputs);
    }

    /// <summary>The operands and sizes one attention call works on.</summary>
    private readonly record struct AttentionShape(HeadView Q, HeadView K, HeadView V, int B, int Nq, int Nk, int Width, int Heads, int Dh, float Scale, float Alpha);

    /// <summary>Additive mask rows: one per batch row (key mask only, shared by all queries; <c>QueryStride</c> 0) or one per query.</summary>
    private readonly record struct MaskBias(float[]? Values, int BatchStride, int QueryStride);

    /// <summary>Where the gradients of Q, K and V go, and whether each adds to what is there.</summary>
    private readonly record struct AttentionSinks(float[]? Q, bool AccQ, float[]? K, bool AccK, float[]? V, bool AccV);

    private static MaskBias AttentionBias(Tensor? keyMask, Tensor? attentionMask, int b, int nq, int nk)
    {
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
        return new MaskBias(bias, biasQueryStride == 0 ? nk : nq * nk, biasQueryStride);
    }

    /// <summary>Forward of task t = (batch row, head): S = Q·Kᵀ; P = softmax(scale·S + bias) (kept; entmax when α > 1); O = P·V.</summary>
    private static unsafe void AttentionForwardTask(in AttentionShape a, int t, float* pq, float* pk, float* pv, float* pp, float* py, MaskBias bias)
    {
        int bi = t / a.Heads, hi = t % a.Heads, nq = a.Nq, nk = a.Nk, dh = a.Dh;
        float* Q = pq + a.Q.Offset + (long)bi * nq * a.Q.RowStride + hi * dh;
        float* K = pk + a.K.Offset + (long)bi * nk * a.K.RowStride + hi * dh;
        float* V = pv + a.V.Offset + (long)bi * nk * a.V.RowStride + hi * dh;
        float* P = pp + (long)t * nq * nk;
        Gemm.SgemmSerial(false, true, nq, nk, dh, 1f, Q, a.Q.RowStride, K, a.K.RowStride, 0f, P, nk);   // S = Q·Kᵀ
        for (int i = 0; i < nq; i++)
        {
            var row = new Span<float>(P + (long)i * nk, nk);
            var maskRow = bias.Values is null ? default : bias.Values.AsSpan(bi * bias.BatchStride + i * bias.QueryStride, nk);
            if (a.Alpha == 1f) SoftmaxRow(row, row, a.Scale, maskRow);                                      // P = softmax(scale·S + bias)
            else EntmaxRow(row, row, a.Alpha, a.Scale, maskRow);                                               // P = entmax(scale·S + bias)
        }
        Gemm.SgemmSerial(false, false, nq, dh, nk, 1f, P, nk, V, a.V.RowStride, 0f, py + (long)bi * nq * a.Width + hi * dh, a.Width);   // O = P·V
    }

    /// <summary>
    /// Backward of task t: dV = Pᵀ·dO; dP = dO·Vᵀ; dS = P ⊙ (dP − ⟨dP, P⟩) (in the worker's scratch
    /// <paramref name="DS"/>); dQ = scale·dS·K; dK = scale·dSᵀ·Q.
    /// </summary>
    private static unsafe void AttentionBackwardTask(in AttentionShape a, int t, float* pq, float* pk, float* pv, float* pp, float* pg, float* DS, AttentionSinks sinks)
    {
        int bi = t / a.Heads, hi = t % a.Heads, nq = a.Nq, nk = a.Nk, dh = a.Dh;
        long qOff = a.Q.Offset + (long)bi * nq * a.Q.RowStride + hi * dh;
        long kOff = a.K.Offset + (long)bi * nk * a.K.RowStride + hi * dh;
        long vOff = a.V.Offset + (long)bi * nk * a.V.RowStride + hi * dh;
        float* P = pp + (long)t * nq * nk;
        float* dO = pg + (long)bi * nq * a.Width + hi * dh;
        if (sinks.V is not null)
            fixed (float* pgv = sinks.V)   // dV = Pᵀ·dO
                Gemm.SgemmSerial(true, false, nk, dh, nq, 1f, P, nk, dO, a.Width, sinks.AccV ? 1f : 0f, pgv + vOff, a.V.RowStride);
        Gemm.SgemmSerial(false, true, nq, nk, dh, 1f, dO, a.Width, pv + vOff, a.V.RowStride, 0f, DS, nk);   // dP = dO·Vᵀ
        for (int i = 0; i < nq; i++)
        {
            var pr = new ReadOnlySpan<float>(P + (long)i * nk, nk);
            var dr = new Span<float>(DS + (long)i * nk, nk);
            if (a.Alpha != 1f) { EntmaxRowBackward(pr, dr, dr, a.Alpha); continue; }                          // dS = s ⊙ dP − s·⟨s, dP⟩/Σs
            float dot = TensorPrimitives.Dot(dr, pr);
            TensorPrimitives.Subtract(dr, dot, dr);
            TensorPrimitives.Multiply(dr, pr, dr);                                                              // dS = P ⊙ (dP − ⟨dP, P⟩)
        }
        if (sinks.Q is not null)
            fixed (float* pgq = sinks.Q)   // dQ = scale·dS·K
                Gemm.SgemmSerial(false, false, nq, dh, nk, a.Scale, DS, nk, pk + kOff, a.K.RowStride, sinks.AccQ ? 1f : 0f, pgq + qOff, a.Q.RowStride);
        if (sinks.K is not null)
            fixed (float* pgk = sinks.K)   // dK = scale·dSᵀ·Q
                Gemm.SgemmSerial(true, false, nk, dh, nq, a.Scale, DS, nk, pq + qOff, a.Q.RowStride, sinks.AccK ? 1f : 0f, pgk + kOff, a.K.RowStride);
    }

    /// <summary>The gradient buffer of a view: a packed tensor's views share one; the first writer of a region overwrites it.</summary>
    private static (float[]?, bool) AttentionGradSink(HeadView view, (HeadView View, float[]? Grad, bool Acc)[] earlier)
    {
        if (!view.Tensor.RequiresGrad) return (null, false);
        foreach (var (other, grad, acc) in earlier)
            if (grad is not null && ReferenceEquals(other.Tensor, view.Tensor))
                return (grad, acc || other.Offset == view.Offset);
        var (t, a) = GradSink(view.Tensor);
        return (t._data, a);
    }
}
