using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Sparse alternatives to softmax over the last axis: sparsemax and 1.5-entmax in closed form (TabNet's
// attentive transformer), and α-entmax for any α by bisection (entmax attention).
public sealed partial class Tensor
{
    /// <summary>
    /// Sparsemax (Martins &amp; Astudillo 2016): the Euclidean projection onto the simplex,
    /// p = max(z − τ, 0). Backward on the support S: dz = g − mean_S(g), 0 elsewhere.
    /// </summary>
    public Tensor Sparsemax()
    {
        CheckFiniteInputs("sparsemax", this);
        int n = _dims[^1], rows = n == 0 ? 0 : Length / n;
        var x = this;
        var y = Empty(_dims);
        var sorted = new float[n];
        for (int r = 0; r < rows; r++)
        {
            var z = x._data.AsSpan(r * n, n); var p = y._data.AsSpan(r * n, n);
            z.CopyTo(sorted);
            Array.Sort(sorted); Array.Reverse(sorted);
            // k(z) = max{k : 1 + k·z₍ₖ₎ > Σ_{j≤k} z₍ⱼ₎};  τ = (Σ_{j≤k} z₍ⱼ₎ − 1)/k
            float cum = 0f, tau = 0f;
            for (int k = 1; k <= n; k++)
            {
                cum += sorted[k - 1];
                if (1f + k * sorted[k - 1] > cum) tau = (cum - 1f) / k;
            }
            for (int j = 0; j < n; j++) p[j] = MathF.Max(z[j] - tau, 0f);
        }
        return Record(y, "sparsemax", g =>
        {
            var (gx, acc) = GradSink(x);
            for (int r = 0; r < rows; r++)
            {
                var p = y._data.AsSpan(r * n, n); var gr = g._data.AsSpan(r * n, n); var d = gx._data.AsSpan(r * n, n);
                float sum = 0f; int support = 0;
                for (int j = 0; j < n; j++) if (p[j] > 0f) { sum += gr[j]; support++; }
                float mean = support > 0 ? sum / support : 0f;
                for (int j = 0; j < n; j++)
                {
                    float v = p[j] > 0f ? gr[j] - mean : 0f;
                    d[j] = acc ? d[j] + v : v;
                }
            }
        }, x);
    }

    /// <summary>
    /// 1.5-entmax (Peters et al. 2019) by exact sort-based threshold: with z = (x − max)/2,
    /// p = max(z − τ, 0)², τ chosen so Σp = 1. Backward: with s = √p, dx = g·s − s·⟨g, s⟩/Σs.
    /// </summary>
    public Tensor Entmax15()
    {
        CheckFiniteInputs("entmax15", this);
        int n = _dims[^1], rows = n == 0 ? 0 : Length / n;
        var x = this;
        var y = Empty(_dims);
        var zs = new float[n];
        for (int r = 0; r < rows; r++)
        {
            var xr = x._data.AsSpan(r * n, n); var p = y._data.AsSpan(r * n, n);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(xr);
            for (int j = 0; j < n; j++) zs[j] = (xr[j] - max) / 2f;
            var z = (float[])zs.Clone();
            Array.Sort(zs); Array.Reverse(zs);
            // For support size k: τ_k = mean_k − √((1 − k·(meansq_k − mean_k²))/k); the support is
            // the largest k with τ_k ≤ z₍ₖ₎.
            double cum = 0, cumSq = 0, tauStar = 0;
            for (int k = 1; k <= n; k++)
            {
                double v = zs[k - 1];
                cum += v; cumSq += v * v;
                double mean = cum / k, ss = k * (cumSq / k - mean * mean);
                double delta = Math.Max((1 - ss) / k, 0);
                double tau = mean - Math.Sqrt(delta);
                if (tau <= v) tauStar = tau;
            }
            for (int j = 0; j < n; j++) { float d = MathF.Max(z[j] - (float)tauStar, 0f); p[j] = d * d; }
        }
        return Record(y, "entmax15", g =>
        {
            var (gx, acc) = GradSink(x);
            for (int r = 0; r < rows; r++)
            {
                var p = y._data.AsSpan(r * n, n); var gr = g._data.AsSpan(r * n, n); var d = gx._data.AsSpan(r * n, n);
                float sumS = 0f, dot = 0f;
                for (int j = 0; j < n; j++) { float s = MathF.Sqrt(p[j]); sumS += s; dot += gr[j] * s; }
                float q = dot / sumS;
                for (int j = 0; j < n; j++)
                {
                    float s = MathF.Sqrt(p[j]);
                    float v = gr[j] * s - q * s;
                    d[j] = acc ? d[j] + v : v;
                }
            }
        }, x);
    }

    /// <summary>
    /// α-entmax (Peters et al. 2019) over the last axis: p = [(α − 1)·x − τ]₊^{1/(α−1)} with τ found by
    /// bisection so that Σp = 1 (Blondel et al. 2019). α = 1 is softmax, α = 2 sparsemax; between them
    /// the output is sparse yet smooth. Backward (Peters et al. eq. 10): with s = p^{2−α} on the support,
    /// dx = s ⊙ g − s·⟨s, g⟩/Σs.
    /// </summary>
    public Tensor Entmax(float alpha)
    {
        if (alpha == 1f) return Softmax();
        CheckEntmaxAlpha(alpha);
        var x = this;
        var (y, rows, n) = EachLastAxisRow("entmax", (xr, yr) => EntmaxRow(xr, yr, alpha, 1f, default));
        return Record(y, "entmax", g =>
        {
            var (gx, acc) = GradSink(x);
            var yd = y._data; var gd = g._data; var dd = gx._data;
            Parallelism.For(rows, 4096 / Math.Max(n, 1) + 1, (s, e) =>
            {
                var tmp = acc ? new float[n] : null;   // accumulating: the row's gradient first, then added
                for (int r = s; r < e; r++)
                {
                    var dr = dd.AsSpan(r * n, n);
                    EntmaxRowBackward(yd.AsSpan(r * n, n), gd.AsSpan(r * n, n), tmp ?? dr, alpha);
                    if (tmp is not null) System.Numerics.Tensors.TensorPrimitives.Add(dr, tmp, dr);
                }
            });
        }, x);
    }

    /// <summary>α-entmax is defined for α ≥ 1; above 2 it is sparser than sparsemax and rarely useful, so (1, 2] is what this engine accepts.</summary>
    internal static void CheckEntmaxAlpha(float alpha)
    {
        if (!(alpha > 1f && alpha <= 2f)) throw new ArgumentOutOfRangeException(nameof(alpha), $"entmax: α must be in (1, 2] (1 is softmax), got {alpha}.");
    }

    /// <summary>Bisection steps: each halves τ's bracket (width ≤ 1), so 40 leave it below 1e-12, far under float resolution.</summary>
    private const int EntmaxBisections = 40;

    /// <summary>
    /// y = α-entmax(scale·x + bias) for one row (an empty bias adds nothing; masked entries carry the most
    /// negative float and end at 0). With z = (α − 1)·(scale·x + bias) − max, τ lies in [−1, −n^{1−α}]: at
    /// the low end the largest entry alone has mass 1, at the high end every entry has at most 1/n.
    /// For α = 1.5 and α = 2 (the square and the identity) bisection runs in SIMD floats only to find the
    /// support, and τ then comes exactly from the support's sums; other α bisect in doubles with Math.Pow.
    /// </summary>
    internal static void EntmaxRow(ReadOnlySpan<float> x, Span<float> y, float alpha, float scale, ReadOnlySpan<float> bias)
    {
        int n = x.Length;
        if (n == 0) return;
        float am1 = alpha - 1f;
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, scale * am1, y);
        if (!bias.IsEmpty) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(bias, am1, y, y);
        System.Numerics.Tensors.TensorPrimitives.Subtract(y, System.Numerics.Tensors.TensorPrimitives.Max(y), y);   // max z = 0
        double tau, exponent = 1.0 / am1;
        if (alpha is 1.5f or 2f)
        {
            bool square = alpha == 1.5f;
            float lo = -1f, hi = -MathF.Pow(n, -am1);
            for (int it = 0; it < 26 && hi - lo > 1e-7f; it++)   // float resolution near 1: the support is settled
            {
                float mid = 0.5f * (lo + hi);
                if (EntmaxMassSimd(y, mid, square) >= 1f) lo = mid; else hi = mid;
            }
            tau = EntmaxExactThreshold(y, lo, square);
        }
        else
        {
            double lo = -1, hi = -Math.Pow(n, -am1);
            for (int it = 0; it < EntmaxBisections; it++)
            {
                double mid = 0.5 * (lo + hi);
                double mass = 0;
                foreach (float v in y) mass += EntmaxPower(v - mid, exponent);
                if (mass >= 1) lo = mid; else hi = mid;
            }
            tau = lo;   // Σp ≥ 1 there, so the support is never empty; normalization absorbs the rest
        }
        double sum = 0;
        for (int j = 0; j < n; j++) { float p = (float)EntmaxPower(y[j] - tau, exponent); y[j] = p; sum += p; }
        if (sum > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(y, (float)(1 / sum), y);
        else y.Fill(1f / n);   // cannot happen with max z = 0 in the support; kept as softmax's answer for a degenerate row
    }

    /// <summary>Σ [z − τ]₊² (square) or Σ [z − τ]₊ over the row, Vector&lt;float&gt; wide.</summary>
    private static float EntmaxMassSimd(ReadOnlySpan<float> z, float tau, bool square)
    {
        var t = new System.Numerics.Vector<float>(tau);
        var acc = System.Numerics.Vector<float>.Zero;
        int w = System.Numerics.Vector<float>.Count, j = 0;
        var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(z);
        foreach (var v in vectors)
        {
            var d = System.Numerics.Vector.Max(v - t, System.Numerics.Vector<float>.Zero);
            acc += square ? d * d : d;
        }
        float sum = System.Numerics.Vector.Sum(acc);
        for (j = vectors.Length * w; j < z.Length; j++) { float d = MathF.Max(z[j] - tau, 0f); sum += square ? d * d : d; }
        return sum;
    }

    /// <summary>
    /// τ from the support S = {z &gt; τ₀} alone: for α = 2 (sparsemax) τ = (Σ_S z − 1)/k; for α = 1.5,
    /// Σ_S (z − τ)² = 1 gives τ = mean − √((1 − k·var)/k) (Peters et al. 2019), with k = |S|.
    /// </summary>
    private static double EntmaxExactThreshold(ReadOnlySpan<float> z, float tau0, bool square)
    {
        double s1 = 0, s2 = 0;
        int k = 0;
        foreach (float v in z)
            if (v > tau0) { s1 += v; s2 += (double)v * v; k++; }
        if (!square) return (s1 - 1) / k;
        double mean = s1 / k, spread = s2 - k * mean * mean;   // k·variance
        return mean - Math.Sqrt(Math.Max(1 - spread, 0) / k);
    }

    /// <summary>[d]₊^exponent, with the common α = 1.5 (square) and α = 2 (identity) spelled out: Math.Pow is the slow path.</summary>
    private static double EntmaxPower(double d, double exponent) =>
        d <= 0 ? 0 : exponent == 2.0 ? d * d : exponent == 1.0 ? d : Math.Pow(d, exponent);

    /// <summary>d = s ⊙ g − s·⟨s, g⟩/Σs with s = p^{2−α} on the support (0 off it); d may alias g.</summary>
    internal static void EntmaxRowBackward(ReadOnlySpan<float> p, ReadOnlySpan<float> g, Span<float> d, float alpha)
    {
        double dot = 0, sumS = 0;
        for (int j = 0; j < p.Length; j++) { double s = EntmaxSlope(p[j], alpha); dot += s * g[j]; sumS += s; }
        double q = sumS > 0 ? dot / sumS : 0;
        for (int j = 0; j < p.Length; j++) d[j] = (float)(EntmaxSlope(p[j], alpha) * (g[j] - q));
    }

    private static double EntmaxSlope(float p, float alpha) =>
        p <= 0f ? 0 : alpha == 1.5f ? Math.Sqrt(p) : alpha == 2f ? 1 : Math.Pow(p, 2 - alpha);
}
