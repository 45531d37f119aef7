using System.Numerics.Tensors;

namespace Jianwei.Tensors;

// Losses, each fused from logits to a scalar (mean reduction) with its gradient computed in the
// forward pass's terms: softmax − target for cross-entropy, σ(x) − target for binary cross-entropy.
public sealed partial class Tensor
{
    /// <summary>
    /// Cross-entropy from logits [N, C] and class targets [N], averaged as PyTorch does:
    /// Σᵢ wᵢ·ℓᵢ / Σᵢ w_{yᵢ} over rows whose target is not <paramref name="ignoreIndex"/>.
    /// With label smoothing ε, ℓᵢ = (1 − ε)·(−log p_{yᵢ}) + ε·Σ_c w_c·(−log p_c)/C
    /// (the smoothing term weighted per class, normalized by the same Σ w_{yᵢ}).
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, IntTensor targets, int ignoreIndex = -100, float labelSmoothing = 0f, float[]? classWeights = null)
    {
        CheckCrossEntropyInputs(logits, targets, ignoreIndex, labelSmoothing, classWeights);
        int n = logits._dims[0], c = logits._dims[1];
        var t = targets.Values;

        var logp = Empty(n, c)._data;   // pooled scratch: [N, C] is the largest buffer of an MLM step
        var rowLoss = new double[n];
        var rowWeight = new double[n];
        float eps = labelSmoothing;
        var logits_ = logits._data;
        // Rows are independent: computed in parallel, summed afterwards in row order (deterministic).
        Kernels.Parallelism.For(n, Math.Max(1, 16384 / Math.Max(c, 1)), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                if (t[i] == ignoreIndex) continue;
                var lp = logp.AsSpan(i * c, c);
                LogSoftmaxRow(logits_.AsSpan(i * c, c), lp);
                float wy = classWeights?[t[i]] ?? 1f;
                double nll = -wy * lp[t[i]];
                double smooth = 0;
                if (eps > 0f) smooth = (classWeights is null ? -TensorPrimitives.Sum(lp) : -TensorPrimitives.Dot(lp, classWeights)) / c;
                rowLoss[i] = (1 - eps) * nll + eps * smooth;
                rowWeight[i] = wy;
            }
        });
        double total = 0, denom = 0;
        for (int i = 0; i < n; i++) { total += rowLoss[i]; denom += rowWeight[i]; }
        var y = Scalar(denom == 0 ? float.NaN : (float)(total / denom));
        return Record(y, "cross_entropy", g =>
        {
            // dℓ/dlogit_j = (1−ε)·w_y·(p_j − [j = y]) + (ε/C)·(p_j·Σ_c w_c − w_j), all over Σ w_y.
            var (gx, acc) = GradSink(logits);
            float scale = (float)(g._data[0] / denom);
            float wSum = classWeights?.Sum() ?? c;
            var gd = gx._data;
            Kernels.Parallelism.For(n, Math.Max(1, 16384 / Math.Max(c, 1)), (r0, r1) =>
                CrossEntropyBackwardRows(gd, logp, t, c, ignoreIndex, eps, classWeights, wSum, scale, acc, r0, r1));
        }, logits);
    }

    private static void CheckCrossEntropyInputs(Tensor logits, IntTensor targets, int ignoreIndex, float labelSmoothing, float[]? classWeights)
    {
        CheckFiniteInputs("cross_entropy", logits);
        if (logits.Rank != 2) throw new ArgumentException($"cross_entropy: logits must be [N, C], got {ShapeUtil.Format(logits._dims)}.");
        int n = logits._dims[0], c = logits._dims[1];
        if (targets.Length != n) throw new ArgumentException($"cross_entropy: {targets.Length} targets for logits {ShapeUtil.Format(logits._dims)}.");
        if (classWeights is not null && classWeights.Length != c) throw new ArgumentException($"cross_entropy: {classWeights.Length} class weights for {c} classes.");
        if (labelSmoothing < 0f || labelSmoothing > 1f) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), "label smoothing must be in [0, 1].");
        var t = targets.Values;
        for (int i = 0; i < n; i++)
            if (t[i] != ignoreIndex && (uint)t[i] >= (uint)c)
                throw new IndexOutOfRangeException($"cross_entropy: target {t[i]} at row {i} is outside [0, {c}).");
    }

    /// <summary>Cross-entropy's gradient for rows [r0, r1): d (+)= scale·((a + b)·p − (ε/C)·w − a·[j = y]).</summary>
    private static void CrossEntropyBackwardRows(float[] gd, float[] logp, int[] t, int c, int ignoreIndex, float eps, float[]? classWeights, float wSum, float scale, bool acc, int r0, int r1)
    {
        var p = new float[c];
        for (int i = r0; i < r1; i++)
        {
            var d = gd.AsSpan(i * c, c);
            if (t[i] == ignoreIndex) { if (!acc) d.Clear(); continue; }
            Kernels.SimdMath.Exp(logp.AsSpan(i * c, c), p);
            float wy = classWeights?[t[i]] ?? 1f;
            float a = (1 - eps) * wy, b = eps / c * wSum;
            // v_j = (a + b)·p_j − (ε/C)·w_j, then v_y −= a; d (+)= scale·v
            TensorPrimitives.Multiply(p, scale * (a + b), p);
            if (eps > 0f)
            {
                if (classWeights is null) TensorPrimitives.Subtract(p, scale * eps / c, p);
                else TensorPrimitives.MultiplyAdd(classWeights, -scale * eps / c, p, p);
            }
            p[t[i]] -= scale * a;
            if (acc) TensorPrimitives.Add(d, p, d); else p.CopyTo(d);
        }
    }

    /// <summary>
    /// Binary cross-entropy from logits, mean over elements:
    /// ℓ = −[pw·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed with softplus so it never overflows.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, float positiveWeight = 1f)
    {
        CheckFiniteInputs("bce_with_logits", logits, targets);
        ShapeUtil.RequireSame(logits, targets, "bce_with_logits");
        int n = logits.Length;
        double total = 0;
        var x = logits._data; var yv = targets._data;
        for (int i = 0; i < n; i++)
        {
            // log σ(x) = −softplus(−x);  log(1 − σ(x)) = −softplus(x)
            total += positiveWeight * yv[i] * Softplus(-x[i]) + (1 - yv[i]) * Softplus(x[i]);
        }
        var y = Scalar((float)(total / Math.Max(n, 1)));
        return Record(y, "bce_with_logits", g =>
        {
            // dℓ/dx = (pw·y + 1 − y)·σ(x) − pw·y
            float scale = g._data[0] / Math.Max(n, 1);
            if (logits.RequiresGrad)
            {
                var (gx, acc) = GradSink(logits);
                for (int i = 0; i < n; i++)
                {
                    float s = 1f / (1f + MathF.Exp(-x[i]));
                    float v = scale * ((positiveWeight * yv[i] + 1 - yv[i]) * s - positiveWeight * yv[i]);
                    gx._data[i] = acc ? gx._data[i] + v : v;
                }
            }
            if (targets.RequiresGrad)
            {
                // dℓ/dy = pw·softplus(−x) − softplus(x)
                var (gt, acc) = GradSink(targets);
                for (int i = 0; i < n; i++)
                {
                    float v = scale * (positiveWeight * Softplus(-x[i]) - Softplus(x[i]));
                    gt._data[i] = acc ? gt._data[i] + v : v;
                }
            }
        }, logits, targets);

        static float Softplus(float v) => v > 20f ? v : MathF.Max(v, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
    }

    /// <summary>Mean squared error, mean over elements. d/dpred = 2(pred − target)/n.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target)
    {
        CheckFiniteInputs("mse", prediction, target);
        ShapeUtil.RequireSame(prediction, target, "mse_loss");
        int n = prediction.Length;
        var diff = new float[n];
        TensorPrimitives.Subtract(prediction.Data, target.Data, diff);
        var y = Scalar(TensorPrimitives.Dot(diff, diff) / Math.Max(n, 1));
        return Record(y, "mse_loss", g =>
        {
            float scale = 2f * g._data[0] / Math.Max(n, 1);
            if (prediction.RequiresGrad)
            {
                var (gp, acc) = GradSink(prediction);
                if (acc) TensorPrimitives.MultiplyAdd(diff, scale, gp.Data, gp.Data); else TensorPrimitives.Multiply(diff, scale, gp.Data);
            }
            if (target.RequiresGrad)
            {
                var (gt, acc) = GradSink(target);
                if (acc) TensorPrimitives.MultiplyAdd(diff, -scale, gt.Data, gt.Data); else TensorPrimitives.Multiply(diff, -scale, gt.Data);
            }
        }, prediction, target);
    }
}
