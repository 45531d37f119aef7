using System.Numerics.Tensors;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Layer norm (optionally fused with the residual add before it) and batch norm with ghost batches.
public sealed partial class Tensor
{
    /// <summary>Layer norm over the last axis: y = (x − μ)/√(σ² + ε)·γ + β.</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps = 1e-5f)
        => LayerNormCore(x, null, gamma, beta, eps);

    /// <summary>
    /// LayerNorm(x + residual) in one pass (a post-LN transformer block's "add &amp; norm"): the sum is
    /// never materialized as a separate op, and both inputs get the same gradient.
    /// </summary>
    public static Tensor AddLayerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps = 1e-5f)
    {
        ShapeUtil.RequireSame(x, residual, "add_layer_norm");
        return LayerNormCore(x, residual, gamma, beta, eps);
    }

    private static Tensor LayerNormCore(Tensor x, Tensor? residual, Tensor gamma, Tensor beta, float eps)
    {
        CheckFiniteInputs("layer_norm", x, gamma, beta);
        int n = x._dims[^1];
        if (gamma.Length != n || beta.Length != n)
            throw new ArgumentException($"layer_norm: gamma {ShapeUtil.Format(gamma._dims)} and beta {ShapeUtil.Format(beta._dims)} must have {n} elements for input {ShapeUtil.Format(x._dims)}.");
        int rows = x.Length / n;
        // s = x (+ residual) is kept for backward; xhat is recomputed from it with the saved μ and 1/σ.
        Tensor s;
        if (residual is null) s = x;
        else { s = Empty(x._dims); Elementwise.Map(default(AddOp), x.Data, residual.Data, s.Data); }
        var y = Empty(x._dims);
        var mean = Empty(rows)._data; var rstd = Empty(rows)._data;   // per-row statistics saved for backward (pooled)
        var sd = s._data; var yd = y._data; var gd = gamma._data; var bd = beta._data;
        Parallelism.For(rows, Math.Max(1, 8192 / n), (r0, r1) => LayerNormRows(sd, yd, gd, bd, mean, rstd, n, eps, r0, r1));

        Tensor[] inputs = residual is null ? [x, gamma, beta] : [x, residual, gamma, beta];
        return Record(y, residual is null ? "layer_norm" : "add_layer_norm", g =>
        {
            bool needX = x.RequiresGrad || (residual?.RequiresGrad ?? false);
            int chunks = Parallelism.ChunkCount(rows, Math.Max(1, 8192 / n));
            var dGammaParts = new float[chunks * n]; var dBetaParts = new float[chunks * n];
            var dx = needX ? Empty(x._dims) : null;
            var gdat = g._data;
            Parallelism.For(rows, Math.Max(1, 8192 / n), (r0, r1) =>
            {
                int c = ChunkIndex(rows, chunks, r0);
                LayerNormBackwardRows(gdat, sd, gd, mean, rstd, dx?._data, dGammaParts.AsSpan(c * n, n), dBetaParts.AsSpan(c * n, n), n, r0, r1);
            });
            if (dx is not null)
            {
                if (x.RequiresGrad) AccumulateGrad(x, dx.Data);
                if (residual is not null && residual.RequiresGrad) AccumulateGrad(residual, dx.Data);
            }
            if (gamma.RequiresGrad) AccumulateGrad(gamma, SumParts(dGammaParts, chunks, n));
            if (beta.RequiresGrad) AccumulateGrad(beta, SumParts(dBetaParts, chunks, n));
        }, inputs);
    }

    /// <summary>Forward of rows [r0, r1): y = xhat·γ + β with xhat = (s − μ)/√(σ² + ε); μ and 1/σ saved per row.</summary>
    private static void LayerNormRows(float[] sd, float[] yd, float[] gd, float[] bd, float[] mean, float[] rstd, int n, float eps, int r0, int r1)
    {
        for (int r = r0; r < r1; r++)
        {
            var xr = sd.AsSpan(r * n, n); var yr = yd.AsSpan(r * n, n);
            float mu = TensorPrimitives.Sum(xr) / n;
            TensorPrimitives.Subtract(xr, mu, yr);                // y = x − μ (temporarily)
            float var = TensorPrimitives.Dot(yr, yr) / n;
            float rs = 1f / MathF.Sqrt(var + eps);
            mean[r] = mu; rstd[r] = rs;
            TensorPrimitives.Multiply(yr, rs, yr);                // y = xhat
            TensorPrimitives.FusedMultiplyAdd(yr, gd.AsSpan(0, n), bd.AsSpan(0, n), yr);   // y = xhat·γ + β
        }
    }

    /// <summary>
    /// Backward of rows [r0, r1): dγ += g·xhat, dβ += g into this chunk's partials, and (when
    /// <paramref name="dx"/> is given) dx = (1/σ)·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)) with dxhat = g·γ.
    /// </summary>
    private static void LayerNormBackwardRows(float[] gdat, float[] sd, float[] gd, float[] mean, float[] rstd, float[]? dx, Span<float> dG, Span<float> dB, int n, int r0, int r1)
    {
        var xhat = new float[n]; var dxhat = new float[n];
        for (int r = r0; r < r1; r++)
        {
            var gr = gdat.AsSpan(r * n, n);
            TensorPrimitives.Subtract(sd.AsSpan(r * n, n), mean[r], xhat);
            TensorPrimitives.Multiply(xhat, rstd[r], xhat);
            TensorPrimitives.FusedMultiplyAdd(gr, xhat, dG, dG);   // dγ += g·xhat
            TensorPrimitives.Add(dB, gr, dB);                       // dβ += g
            if (dx is null) continue;
            TensorPrimitives.Multiply(gr, gd.AsSpan(0, n), dxhat);  // dxhat = g·γ
            float a = TensorPrimitives.Sum(dxhat) / n;              // mean(dxhat)
            float b = TensorPrimitives.Dot(dxhat, xhat) / n;        // mean(dxhat·xhat)
            var dr = dx.AsSpan(r * n, n);
            TensorPrimitives.Subtract(dxhat, a, dr);
            TensorPrimitives.MultiplyAdd(xhat, -b, dr, dr);
            TensorPrimitives.Multiply(dr, rstd[r], dr);
        }
    }

    /// <summary>Which of <paramref name="chunks"/> chunks of [0, count) starts at <paramref name="start"/>.</summary>
    internal static int ChunkIndex(int count, int chunks, int start)
    {
        for (int c = 0; c < chunks; c++) if (Parallelism.Chunk(count, chunks, c).Start == start) return c;
        throw new InvalidOperationException("chunk start not found");
    }

    /// <summary>Sums per-chunk partial vectors in chunk order (fixed order → reproducible bits).</summary>
    internal static float[] SumParts(float[] parts, int chunks, int n)
    {
        var total = parts.AsSpan(0, n).ToArray();
        for (int c = 1; c < chunks; c++) TensorPrimitives.Add(total, parts.AsSpan(c * n, n), total);
        return total;
    }

    /// <summary>
    /// Batch norm over [batch, features]. In training, statistics come from each "ghost" batch of
    /// <paramref name="virtualBatchSize"/> rows (the whole batch when 0), and each ghost batch updates
    /// the running statistics: running = (1 − momentum)·running + momentum·batch (unbiased variance),
    /// as PyTorch does once per chunk in TabNet's GhostBatchNorm. In evaluation, running statistics are used.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   bool training, float momentum = 0.1f, float eps = 1e-5f, int virtualBatchSize = 0)
    {
        CheckFiniteInputs("batch_norm", x, gamma, beta);
        if (x.Rank != 2) throw new ArgumentException($"batch_norm: input must be [batch, features], got {ShapeUtil.Format(x._dims)}.");
        int rowsAll = x._dims[0], c = x._dims[1];
        if (gamma.Length != c || beta.Length != c || runningMean.Length != c || runningVar.Length != c)
            throw new ArgumentException($"batch_norm: parameters must have {c} elements for input {ShapeUtil.Format(x._dims)}.");
        return training ? BatchNormTrain(x, gamma, beta, runningMean, runningVar, momentum, eps, virtualBatchSize <= 0 ? rowsAll : virtualBatchSize)
                        : BatchNormEval(x, gamma, beta, runningMean, runningVar, eps);
    }

    /// <summary>Evaluation: y = x·scale + shift with the running statistics. Backward: dx = g·scale; dγ, dβ against the running xhat.</summary>
    private static Tensor BatchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps)
    {
        int rowsAll = x._dims[0], c = x._dims[1];
        var y = Empty(x._dims);
        var xd = x._data; var yd = y._data;
        var scale = new float[c]; var shift = new float[c];
        for (int j = 0; j < c; j++)
        {
            scale[j] = gamma._data[j] / MathF.Sqrt(runningVar._data[j] + eps);
            shift[j] = beta._data[j] - runningMean._data[j] * scale[j];
        }
        for (int r = 0; r < rowsAll; r++)
            TensorPrimitives.FusedMultiplyAdd(xd.AsSpan(r * c, c), scale, shift, yd.AsSpan(r * c, c));
        return Record(y, "batch_norm_eval", g =>
        {
            if (x.RequiresGrad)
            {
                var (gx, acc) = GradSink(x);
                for (int r = 0; r < rowsAll; r++)
                {
                    var d = gx._data.AsSpan(r * c, c); var gr = g._data.AsSpan(r * c, c);
                    if (acc) TensorPrimitives.FusedMultiplyAdd(gr, scale, d, d); else TensorPrimitives.Multiply(gr, scale, d);
                }
            }
            if (gamma.RequiresGrad || beta.RequiresGrad)
            {
                var dG = new float[c]; var dB = new float[c]; var xh = new float[c];
                var invStd = runningVar._data.Take(c).Select(v => 1f / MathF.Sqrt(v + eps)).ToArray();
                for (int r = 0; r < rowsAll; r++)
                {
                    var gr = g._data.AsSpan(r * c, c);
                    TensorPrimitives.Subtract(xd.AsSpan(r * c, c), runningMean.Data, xh);
                    TensorPrimitives.Multiply(xh, invStd, xh);
                    TensorPrimitives.FusedMultiplyAdd(gr, xh, dG, dG);
                    TensorPrimitives.Add(dB, gr, dB);
                }
                if (gamma.RequiresGrad) AccumulateGrad(gamma, dG);
                if (beta.RequiresGrad) AccumulateGrad(beta, dB);
            }
        }, x, gamma, beta);
    }

    /// <summary>Training: each ghost batch of <paramref name="vbs"/> rows normalized by its own statistics, which also update the running ones.</summary>
    private static Tensor BatchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps, int vbs)
    {
        int rowsAll = x._dims[0], c = x._dims[1];
        var y = Empty(x._dims);
        var xd = x._data; var yd = y._data;
        int chunks = (rowsAll + vbs - 1) / vbs;
        var means = new float[chunks * c]; var rstds = new float[chunks * c];
        var tmp = new float[c];
        for (int ch = 0; ch < chunks; ch++)
        {
            int r0 = ch * vbs, r1 = Math.Min(rowsAll, r0 + vbs);
            GhostBatchForward(xd, yd, gamma, beta, runningMean, runningVar, means.AsSpan(ch * c, c), rstds.AsSpan(ch * c, c), tmp, c, r0, r1, momentum, eps);
        }
        return Record(y, "batch_norm", g =>
        {
            var dG = new float[c]; var dB = new float[c];
            var dx = x.RequiresGrad ? Empty(x._dims) : null;
            var work = new GhostBatchWork(c);
            for (int ch = 0; ch < chunks; ch++)
            {
                int r0 = ch * vbs, r1 = Math.Min(rowsAll, r0 + vbs);
                GhostBatchBackward(g._data, xd, gamma, means.AsSpan(ch * c, c), rstds.AsSpan(ch * c, c), dx?._data, dG, dB, work, c, r0, r1);
            }
            if (dx is not null) AccumulateGrad(x, dx.Data);
            if (gamma.RequiresGrad) AccumulateGrad(gamma, dG);
            if (beta.RequiresGrad) AccumulateGrad(beta, dB);
        }, x, gamma, beta);
    }

    /// <summary>One ghost batch's forward: μ and 1/σ (saved), the running statistics updated (unbiased variance), y = xhat·γ + β.</summary>
    private static void GhostBatchForward(float[] xd, float[] yd, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                          Span<float> mu, Span<float> rs, float[] tmp, int c, int r0, int r1, float momentum, float eps)
    {
        int m = r1 - r0;
        mu.Clear(); rs.Clear();
        for (int r = r0; r < r1; r++) TensorPrimitives.Add(mu, xd.AsSpan(r * c, c), mu);
        TensorPrimitives.Multiply(mu, 1f / m, mu);
        for (int r = r0; r < r1; r++)
        {
            TensorPrimitives.Subtract(xd.AsSpan(r * c, c), mu, tmp);
            TensorPrimitives.FusedMultiplyAdd(tmp, tmp, rs, rs);   // rs accumulates Σ(x − μ)²
        }
        for (int j = 0; j < c; j++)
        {
            float var = rs[j] / m;
            float unbiased = m > 1 ? rs[j] / (m - 1) : var;
            runningMean._data[j] = (1 - momentum) * runningMean._data[j] + momentum * mu[j];
            runningVar._data[j] = (1 - momentum) * runningVar._data[j] + momentum * unbiased;
            rs[j] = 1f / MathF.Sqrt(var + eps);
        }
        for (int r = r0; r < r1; r++)
        {
            var yr = yd.AsSpan(r * c, c);
            TensorPrimitives.Subtract(xd.AsSpan(r * c, c), mu, yr);
            TensorPrimitives.Multiply(yr, rs, yr);
            TensorPrimitives.FusedMultiplyAdd(yr, gamma.Data, beta.Data, yr);
        }
    }

    /// <summary>Scratch rows of <see cref="GhostBatchBackward"/>, reused across ghost batches.</summary>
    private sealed class GhostBatchWork(int c)
    {
        public readonly float[] SumD = new float[c], SumDX = new float[c], Xh = new float[c], Dxh = new float[c];
    }

    /// <summary>
    /// One ghost batch's backward: dγ += g·xhat, dβ += g, and (when <paramref name="dx"/> is given)
    /// dx = (1/σ)·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), means over the ghost batch, dxhat = g·γ.
    /// </summary>
    private static void GhostBatchBackward(float[] gd, float[] xd, Tensor gamma, Span<float> mu, Span<float> rs, float[]? dx,
                                           float[] dG, float[] dB, GhostBatchWork w, int c, int r0, int r1)
    {
        int m = r1 - r0;
        float[] sumD = w.SumD, sumDX = w.SumDX, xh = w.Xh, dxh = w.Dxh;
        sumD.AsSpan().Clear(); sumDX.AsSpan().Clear();
        for (int r = r0; r < r1; r++)
        {
            var gr = gd.AsSpan(r * c, c);
            TensorPrimitives.Subtract(xd.AsSpan(r * c, c), mu, xh);
            TensorPrimitives.Multiply(xh, rs, xh);
            TensorPrimitives.FusedMultiplyAdd(gr, xh, dG, dG);     // dγ += g·xhat
            TensorPrimitives.Add(dB, gr, dB);                       // dβ += g
            TensorPrimitives.Multiply(gr, gamma.Data, dxh);
            TensorPrimitives.Add(sumD, dxh, sumD);                  // Σ dxhat
            TensorPrimitives.FusedMultiplyAdd(dxh, xh, sumDX, sumDX); // Σ dxhat·xhat
        }
        if (dx is null) return;
        TensorPrimitives.Multiply(sumD, 1f / m, sumD);
        TensorPrimitives.Multiply(sumDX, 1f / m, sumDX);
        for (int r = r0; r < r1; r++)
        {
            var gr = gd.AsSpan(r * c, c); var dr = dx.AsSpan(r * c, c);
            TensorPrimitives.Subtract(xd.AsSpan(r * c, c), mu, xh);
            TensorPrimitives.Multiply(xh, rs, xh);
            TensorPrimitives.Multiply(gr, gamma.Data, dr);
            TensorPrimitives.Subtract(dr, sumD, dr);
            TensorPrimitives.Multiply(xh, sumDX, xh);
            TensorPrimitives.Subtract(dr, xh, dr);
            TensorPrimitives.Multiply(dr, rs, dr);
        }
    }
}
