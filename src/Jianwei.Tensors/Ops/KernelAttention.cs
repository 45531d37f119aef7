using System.Numerics.Tensors;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Attention in linear time: softmax(Q·Kᵀ)·V is replaced by φ(Q)·(φ(K)ᵀ·V) normalized by
// φ(Q)·Σ_j φ(K_j), so no n×n matrix is ever formed. The feature map φ is elu+1 (linear attention,
// Katharopoulos et al. 2020) or positive random features (Performer FAVOR+, Choromanski et al. 2021).
// Like the softmax kernel, heads are read in place from [b, n, heads·width] tensors.
public sealed partial class Tensor
{
    /// <summary>
    /// Kernelized multi-head attention: for each batch row and head,
    /// out_i = Σ_j ⟨qf_i, kf_j⟩·v_j / (Σ_j ⟨qf_i, kf_j⟩ + eps) over keys j not masked.
    /// queryFeatures: [b, nq, heads·m]; keyFeatures: [b, nk, heads·m] (non-negative feature maps);
    /// v: [b, nk, heads·dh]; keyMask: [b, nk] of 1 (attend) or 0 (padding), or null. Returns [b, nq, heads·dh].
    /// </summary>
    public static unsafe Tensor KernelAttention(Tensor queryFeatures, Tensor keyFeatures, Tensor v, int heads, Tensor? keyMask, float eps = 1e-6f)
    {
        Tensor qf = queryFeatures, kf = keyFeatures;
        CheckKernelAttentionInputs(qf, kf, v, heads, keyMask);
        int b = qf._dims[0], nq = qf._dims[1], nk = kf._dims[1];
        int fWidth = qf._dims[2], m = fWidth / heads, vWidth = v._dims[2], dh = vWidth / heads, tasks = b * heads;

        // Batch rows with padding get their key features copied with padded rows zeroed, per task.
        bool[] padded = new bool[b];
        if (keyMask is not null)
            for (int bi = 0; bi < b; bi++) padded[bi] = keyMask._data.AsSpan(bi * nk, nk).ContainsAnyExcept(1f);
        var ka = new KernelShape(b, nq, nk, heads, m, dh, fWidth, vWidth, eps, padded, keyMask?._data);

        var y = Empty(b, nq, vWidth);
        var kvAll = Empty(tasks, m, dh);        // φ(K)ᵀ·V per task, kept for backward
        var kSumAll = Empty(tasks, m);          // Σ_j φ(K_j) per task
        var denAll = Empty(tasks, nq);          // ⟨qf_i, kSum⟩ + eps per task and query
        int chunks = Parallelism.ChunkCount(tasks, 1);
        var maskedKeys = Empty(chunks, nk, m);  // per-worker scratch for padded rows
        float[] qd = qf._data, kd = kf._data, vd = v._data, yd = y._data, kvd = kvAll._data, ksd = kSumAll._data, dend = denAll._data, mkd = maskedKeys._data;

        using (Gemm.SerialBlas())
        Parallelism.For(tasks, 1, (s, e) =>
        {
            int worker = ChunkIndex(tasks, chunks, s);
            fixed (float* pq = qd, pk = kd, pv = vd, py = yd, pkv = kvd, pks = ksd, pden = dend, pmk = mkd)
                for (int t = s; t < e; t++) KernelForwardTask(ka, t, pq, pk, pv, py, pkv, pks, pden, pmk + (long)worker * nk * m);
        });
        TensorScope.ReturnEarly(maskedKeys);

        return Record(y, "kernel_attention", g =>
        {
            float[]? gq = null, gk = null, gv = null;
            bool accQ = false, accK = false, accV = false;
            if (qf.RequiresGrad) { var (t, a) = GradSink(qf); gq = t._data; accQ = a; }
            if (kf.RequiresGrad) { var (t, a) = GradSink(kf); gk = t._data; accK = a; }
            if (v.RequiresGrad) { var (t, a) = GradSink(v); gv = t._data; accV = a; }
            var sinks = new AttentionSinks(gq, accQ, gk, accK, gv, accV);
            var masked = Empty(chunks, nk, m);
            var dNumAll = Empty(chunks, nq, dh);
            var dDenAll = Empty(chunks, nq);
            var dKvAll = Empty(chunks, m, dh);
            var dKSumAll = Empty(chunks, m);
            var dKfAll = Empty(chunks, nk, m);
            float[] gd = g._data, mk = masked._data, dnd = dNumAll._data, ddd = dDenAll._data, dkvd = dKvAll._data, dksd = dKSumAll._data, dkfd = dKfAll._data;
            using var region = Gemm.SerialBlas();
            Parallelism.For(tasks, 1, (s, e) =>
            {
                int w = ChunkIndex(tasks, chunks, s);
                fixed (float* pq = qd, pk = kd, pv = vd, py = yd, pkv = kvd, pks = ksd, pden = dend, pg = gd, pmk = mk,
                       pdn = dnd, pdd = ddd, pdkv = dkvd, pdks = dksd, pdkf = dkfd)
                {
                    var scratch = new KernelScratch(pmk + (long)w * nk * m, pdn + (long)w * nq * dh, pdd + (long)w * nq, pdkv + (long)w * m * dh, pdks + (long)w * m, pdkf + (long)w * nk * m);
                    for (int t = s; t < e; t++) KernelBackwardTask(ka, t, pq, pk, pv, py, pkv, pks, pden, pg, scratch, sinks);
                }
            });
        }, qf, kf, v);
    }

    private static void CheckKernelAttentionInputs(Tensor qf, Tensor kf, Tensor v, int heads, Tensor? keyMask)
    {
        if (qf.Rank != 3 || kf.Rank != 3 || v.Rank != 3 || qf._dims[0] != kf._dims[0] || kf._dims[0] != v._dims[0]
            || qf._dims[2] != kf._dims[2] || kf._dims[1] != v._dims[1])
            throw new ArgumentException($"kernel attention: features [b, nq, heads·m] and [b, nk, heads·m], values [b, nk, heads·dh] expected, got {ShapeUtil.Format(qf._dims)}, {ShapeUtil.Format(kf._dims)}, {ShapeUtil.Format(v._dims)}.");
        if (ReferenceEquals(qf, kf) || ReferenceEquals(kf, v) || ReferenceEquals(qf, v))
            throw new ArgumentException("kernel attention: query features, key features and values must be distinct tensors.");
        int b = qf._dims[0], nk = kf._dims[1];
        if (heads <= 0 || qf._dims[2] % heads != 0 || v._dims[2] % heads != 0)
            throw new ArgumentException($"kernel attention: widths {qf._dims[2]} and {v._dims[2]} are not divisible by {heads} heads.");
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask._dims[0] != b || keyMask._dims[1] != nk))
            throw new ArgumentException($"kernel attention: key mask {ShapeUtil.Format(keyMask._dims)} must be [{b}, {nk}].");
        CheckFiniteInputs("kernel_attention", qf, kf, v);
    }

    /// <summary>The sizes of one kernel-attention call, and which batch rows have padded keys.</summary>
    private sealed record KernelShape(int B, int Nq, int Nk, int Heads, int M, int Dh, int FWidth, int VWidth, float Eps, bool[] Padded, float[]? Mask);

    /// <summary>One worker's scratch blocks for the backward pass.</summary>
    private readonly unsafe struct KernelScratch(float* maskedKeys, float* dNum, float* dDen, float* dKv, float* dKSum, float* dKf)
    {
        public readonly float* MaskedKeys = maskedKeys, DNum = dNum, DDen = dDen, DKv = dKv, DKSum = dKSum, DKf = dKf;
    }

    /// <summary>Pointer to task (bi, hi)'s key features: in place, or a copy with padded keys zeroed (leading dimension M then, else FWidth).</summary>
    private static unsafe float* KernelKeys(KernelShape a, float* pk, float* scratch, int bi, int hi)
    {
        float* src = pk + (long)bi * a.Nk * a.FWidth + hi * a.M;
        if (!a.Padded[bi]) return src;
        for (int j = 0; j < a.Nk; j++)
        {
            var row = new Span<float>(scratch + (long)j * a.M, a.M);
            if (a.Mask![bi * a.Nk + j] == 0f) row.Clear();
            else new ReadOnlySpan<float>(src + (long)j * a.FWidth, a.M).CopyTo(row);
        }
        return scratch;
    }

    /// <summary>Forward of task t: KV = φ(K)ᵀ·V, kSum = Σ_j φ(K_j), out = φ(Q)·KV / (⟨φ(Q), kSum⟩ + eps); KV, kSum and the denominators kept.</summary>
    private static unsafe void KernelForwardTask(KernelShape a, int t, float* pq, float* pk, float* pv, float* py, float* pkv, float* pks, float* pden, float* scratch)
    {
        int bi = t / a.Heads, hi = t % a.Heads, nq = a.Nq, nk = a.Nk, m = a.M, dh = a.Dh, fWidth = a.FWidth, vWidth = a.VWidth;
        float* K = KernelKeys(a, pk, scratch, bi, hi);
        int ldk = a.Padded[bi] ? m : fWidth;
        float* V = pv + (long)bi * nk * vWidth + hi * dh;
        float* Q = pq + (long)bi * nq * fWidth + hi * m;
        float* KV = pkv + (long)t * m * dh, KS = pks + (long)t * m, DEN = pden + (long)t * nq;
        float* Y = py + (long)bi * nq * vWidth + hi * dh;
        Gemm.SgemmSerial(true, false, m, dh, nk, 1f, K, ldk, V, vWidth, 0f, KV, dh);        // KV = φ(K)ᵀ·V   [m, dh]
        var kSum = new Span<float>(KS, m);
        kSum.Clear();
        for (int j = 0; j < nk; j++) TensorPrimitives.Add(kSum, new ReadOnlySpan<float>(K + (long)j * ldk, m), kSum);
        Gemm.SgemmSerial(false, false, nq, dh, m, 1f, Q, fWidth, KV, dh, 0f, Y, vWidth);    // num = φ(Q)·KV [nq, dh]
        for (int i = 0; i < nq; i++)
        {
            float den = TensorPrimitives.Dot(new ReadOnlySpan<float>(Q + (long)i * fWidth, m), kSum) + a.Eps;
            DEN[i] = den;
            var row = new Span<float>(Y + (long)i * vWidth, dh);
            TensorPrimitives.Multiply(row, 1f / den, row);                                  // out = num / den
        }
    }

    /// <summary>
    /// Backward of task t, with num = out·den:
    ///   dNum = dO / den;            dDen_i = −⟨dO_i, out_i⟩ / den_i
    ///   dQf = dNum·KVᵀ + dDen ⊗ kSum
    ///   dKV = Qfᵀ·dNum;             dKSum = Qfᵀ·dDen
    ///   dKf_j = V_j·dKVᵀ + dKSum (zero for padded keys);   dV = Kf·dKV
    /// </summary>
    private static unsafe void KernelBackwardTask(KernelShape a, int t, float* pq, float* pk, float* pv, float* py, float* pkv, float* pks, float* pden, float* pg,
                                                  KernelScratch w, AttentionSinks sinks)
    {
        int bi = t / a.Heads, hi = t % a.Heads, nq = a.Nq, nk = a.Nk, m = a.M, dh = a.Dh, fWidth = a.FWidth, vWidth = a.VWidth;
        float* Q = pq + (long)bi * nq * fWidth + hi * m;
        float* V = pv + (long)bi * nk * vWidth + hi * dh;
        float* Y = py + (long)bi * nq * vWidth + hi * dh;
        float* dO = pg + (long)bi * nq * vWidth + hi * dh;
        float* KV = pkv + (long)t * m * dh, KS = pks + (long)t * m, DEN = pden + (long)t * nq;
        float* dNum = w.DNum, dDen = w.DDen, dKV = w.DKv, dKS = w.DKSum;
        for (int i = 0; i < nq; i++)
        {
            var go = new ReadOnlySpan<float>(dO + (long)i * vWidth, dh);
            dDen[i] = -TensorPrimitives.Dot(go, new ReadOnlySpan<float>(Y + (long)i * vWidth, dh)) / DEN[i];
            TensorPrimitives.Multiply(go, 1f / DEN[i], new Span<float>(dNum + (long)i * dh, dh));
        }
        var kSum = new ReadOnlySpan<float>(KS, m);
        if (sinks.Q is not null)
            fixed (float* pgq = sinks.Q)
            {
                float* GQ = pgq + (long)bi * nq * fWidth + hi * m;
                Gemm.SgemmSerial(false, true, nq, m, dh, 1f, dNum, dh, KV, dh, sinks.AccQ ? 1f : 0f, GQ, fWidth);   // dNum·KVᵀ
                for (int i = 0; i < nq; i++)
                {
                    var row = new Span<float>(GQ + (long)i * fWidth, m);
                    TensorPrimitives.MultiplyAdd(kSum, dDen[i], row, row);                                     // + dDen ⊗ kSum
                }
            }
        if (sinks.K is null && sinks.V is null) return;
        Gemm.SgemmSerial(true, false, m, dh, nq, 1f, Q, fWidth, dNum, dh, 0f, dKV, dh);                      // dKV = Qfᵀ·dNum
        var dKSum = new Span<float>(dKS, m);
        dKSum.Clear();
        for (int i = 0; i < nq; i++)
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(Q + (long)i * fWidth, m), dDen[i], dKSum, dKSum);   // dKSum = Qfᵀ·dDen
        if (sinks.K is not null)
            fixed (float* pgk = sinks.K)
            {
                float* dKf = w.DKf;
                Gemm.SgemmSerial(false, true, nk, m, dh, 1f, V, vWidth, dKV, dh, 0f, dKf, m);                // V·dKVᵀ
                float* GK = pgk + (long)bi * nk * fWidth + hi * m;
                for (int j = 0; j < nk; j++)
                {
                    var dst = new Span<float>(GK + (long)j * fWidth, m);
                    var src = new Span<float>(dKf + (long)j * m, m);
                    bool open = !a.Padded[bi] || a.Mask![bi * nk + j] != 0f;
                    if (open) TensorPrimitives.Add(src, dKSum, src); else src.Clear();
                    if (sinks.AccK) TensorPrimitives.Add(dst, src, dst); else src.CopyTo(dst);
                }
            }
        if (sinks.V is not null)
            fixed (float* pgv = sinks.V)
            {
                float* K = KernelKeys(a, pk, w.MaskedKeys, bi, hi);
                int ldk = a.Padded[bi] ? m : fWidth;
                Gemm.SgemmSerial(false, false, nk, dh, m, 1f, K, ldk, dKV, dh, sinks.AccV ? 1f : 0f, pgv + (long)bi * nk * vWidth + hi * dh, vWidth);   // dV = Kf·dKV
            }
    }

    /// <summary>
    /// Performer's positive random features (FAVOR+) of each head's vector x (width dh):
    /// φ(x) = (exp(c·W·x − c²·|x|²/2 − stab) + eps) / √m with c = dh^(−1/4), so that
    /// E[⟨φ(q), φ(k)⟩] ∝ exp(⟨q, k⟩/√dh), the softmax kernel. x: [b, n, heads·dh]; projection: [m, dh]
    /// (random, not trained). The stabilizer is a detached constant that cancels in the attention
    /// ratio: each row's own maximum for queries, the maximum over all keys of a (batch, head) for keys.
    /// Returns [b, n, heads·m].
    /// </summary>
    public static unsafe Tensor PositiveRandomFeatures(Tensor x, Tensor projection, int heads, bool isQuery, float eps = 1e-4f)
    {
        if (x.Rank != 3 || projection.Rank != 2 || heads <= 0 || x._dims[2] % heads != 0 || projection._dims[1] != x._dims[2] / heads)
            throw new ArgumentException($"random features: x [b, n, heads·dh] and projection [m, dh] expected, got {ShapeUtil.Format(x._dims)} and {ShapeUtil.Format(projection._dims)} for {heads} heads.");
        CheckFiniteInputs("random_features", x);
        int b = x._dims[0], n = x._dims[1], dh = x._dims[2] / heads, m = projection._dims[0], rows = b * n * heads;
        float c = MathF.Pow(dh, -0.25f), halfC2 = 0.5f * c * c, ratio = 1f / MathF.Sqrt(m), floor = ratio * eps;
        var y = Empty(b, n, heads * m);                                   // viewed as [rows, m], row r = (bi·n + i)·heads + hi
        float[] xd = x._data, yd = y._data, wd = projection._data;
        Gemm.Sgemm(false, true, rows, m, dh, c, xd, dh, wd, dh, 0f, yd, m);   // c·W·x for every row at once

        var rowMax = RandomFeatureExponents(xd, yd, rows, m, dh, halfC2, isQuery ? 0 : n * heads, heads);
        Parallelism.For(rows, 64, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var row = yd.AsSpan(r * m, m);
                TensorPrimitives.Subtract(row, rowMax[r], row);
                SimdMath.Exp(row, row);
                TensorPrimitives.Multiply(row, ratio, row);
                TensorPrimitives.Add(row, floor, row);                   // (exp(u − stab) + eps)/√m
            }
        });

        return Record(y, "random_features", g =>
        {
            // dφ/du = φ − eps/√m;  du/dx = c·W − c²·x   ⇒   dx = c·gu·W − c²·x·Σ_f gu_f  with gu = g ⊙ (φ − eps/√m)
            var (gx, acc) = GradSink(x);
            var gu = Empty(rows, m);
            float[] gud = gu._data, gd = g._data, gxd = gx._data;
            var rowSums = new float[rows];
            Parallelism.For(rows, 64, (s, e) =>
            {
                for (int r = s; r < e; r++)
                {
                    var dst = gud.AsSpan(r * m, m);
                    TensorPrimitives.Subtract(yd.AsSpan(r * m, m), floor, dst);
                    TensorPrimitives.Multiply(dst, gd.AsSpan(r * m, m), dst);
                    rowSums[r] = TensorPrimitives.Sum(dst);
                }
            });
            Gemm.Sgemm(false, false, rows, dh, m, c, gud, m, wd, dh, acc ? 1f : 0f, gxd, dh);
            Parallelism.For(rows, 64, (s, e) =>
            {
                for (int r = s; r < e; r++)
                {
                    var dst = gxd.AsSpan(r * dh, dh);
                    TensorPrimitives.MultiplyAdd(xd.AsSpan(r * dh, dh), -2f * halfC2 * rowSums[r], dst, dst);
                }
            });
            TensorScope.ReturnEarly(gu);
        }, x);
    }

    /// <summary>
    /// Turns the rows of <paramref name="yd"/> ([rows, m], holding c·W·x) into the exponents
    /// u = c·W·x − c²|x|²/2 and returns each row's stabilizer: its own maximum (queries,
    /// <paramref name="keysPerBatch"/> 0), or the largest u over all keys of its (batch, head).
    /// </summary>
    private static float[] RandomFeatureExponents(float[] xd, float[] yd, int rows, int m, int dh, float halfC2, int keysPerBatch, int heads)
    {
        var rowMax = new float[rows];
        Parallelism.For(rows, 64, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var row = yd.AsSpan(r * m, m);
                TensorPrimitives.Subtract(row, halfC2 * TensorPrimitives.SumOfSquares(xd.AsSpan(r * dh, dh)), row);   // u = c·W·x − c²|x|²/2
                rowMax[r] = TensorPrimitives.Max(row);
            }
        });
        if (keysPerBatch == 0) return rowMax;
        var headMax = new float[rows / keysPerBatch * heads];
        Array.Fill(headMax, float.NegativeInfinity);
        for (int r = 0; r < rows; r++)
        {
            int key = r / keysPerBatch * heads + r % heads;
            if (rowMax[r] > headMax[key]) headMax[key] = rowMax[r];
        }
        for (int r = 0; r < rows; r++) rowMax[r] = headMax[r / keysPerBatch * heads + r % heads];
        return rowMax;
    }
}
