namespace Jianwei.Tensors;

// Sparse alternatives to softmax over the last axis (TabNet's attentive transformer).
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
}
