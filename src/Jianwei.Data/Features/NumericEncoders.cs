namespace Jianwei.Data;

// Encoders for one numeric column. Each is fitted on training rows only (NaN = missing), holds its
// state in plain arrays (saved with the model as JSON), and maps missing values to a neutral output
// plus a separate missing indicator.

/// <summary>(x − mean)/std; missing → 0 (the mean).</summary>
public sealed record Standardizer(double Mean, double Std)
{
    /// <summary>Fits on the non-missing values.</summary>
    public static Standardizer Fit(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new Standardizer(0, 1);
        double mean = v.Average();
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return new Standardizer(mean, std > 1e-12 ? std : 1);
    }

    /// <summary>Encodes a value.</summary>
    public double Transform(double x) => double.IsFinite(x) ? (x - Mean) / Std : 0;
}

/// <summary>
/// Maps values through the empirical CDF of the training values (linear interpolation between up to
/// 1,000 quantiles), to uniform [0, 1] or, with <see cref="Normal"/>, to a standard normal
/// ("rank-Gauss"). Robust to outliers and skew; missing → 0.5 (or 0).
/// </summary>
public sealed record QuantileTransformer(double[] Quantiles, bool Normal)
{
    /// <summary>Fits on the non-missing values.</summary>
    public static QuantileTransformer Fit(IEnumerable<double> values, bool normal = true, int maxQuantiles = 1000)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0) return new QuantileTransformer([0, 0], normal);
        int q = Math.Min(maxQuantiles, v.Length);
        var quantiles = new double[q];
        for (int i = 0; i < q; i++)
        {
            double pos = q == 1 ? 0 : i * (v.Length - 1.0) / (q - 1);
            int lo = (int)pos, hi = Math.Min(lo + 1, v.Length - 1);
            quantiles[i] = v[lo] + (pos - lo) * (v[hi] - v[lo]);
        }
        return new QuantileTransformer(quantiles, normal);
    }

    /// <summary>Encodes a value.</summary>
    public double Transform(double x)
    {
        if (!double.IsFinite(x)) return Normal ? 0 : 0.5;
        var q = Quantiles;
        double u;
        if (x <= q[0]) u = 0;
        else if (x >= q[^1]) u = 1;
        else
        {
            // Average the CDF found searching from below and from above, so runs of equal quantiles
            // (repeated values) map to the middle of their range, as scikit-learn does.
            int hiIdx = Array.BinarySearch(q, x);
            double Interp(int i) => i + (x - q[i]) / Math.Max(q[i + 1] - q[i], 1e-300);
            if (hiIdx >= 0)
            {
                int first = hiIdx, last = hiIdx;
                while (first > 0 && q[first - 1] == x) first--;
                while (last < q.Length - 1 && q[last + 1] == x) last++;
                u = (first + last) / 2.0 / (q.Length - 1);
            }
            else
            {
                int i = ~hiIdx - 1;
                u = Interp(i) / (q.Length - 1);
            }
        }
        if (!Normal) return u;
        const double clip = 1e-7;
        return InverseNormalCdf(Math.Clamp(u, clip, 1 - clip));
    }

    /// <summary>Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.15e-9).</summary>
    public static double InverseNormalCdf(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        double x;
        if (p < 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p > 1 - 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else
        {
            double q = p - 0.5, r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        return x;
    }
}

/// <summary>
/// Piecewise-linear encoding (Gorishniy et al. 2022, "On embeddings for numerical features"): with
/// quantile edges b₀ &lt; … &lt; b_T, component t is 0 below its bin, 1 above it, and the position
/// inside it in between; the first and last components extend without bound. Missing → all zeros
/// (pair it with a missing indicator).
/// </summary>
public sealed record PiecewiseLinearEncoder(double[] Edges)
{
    /// <summary>Length of the encoding.</summary>
    public int Size => Math.Max(1, Edges.Length - 1);

    /// <summary>Fits T bins at training quantiles.</summary>
    public static PiecewiseLinearEncoder Fit(IEnumerable<double> values, int bins = 8)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0) return new PiecewiseLinearEncoder([0, 1]);
        var edges = new SortedSet<double>();
        for (int i = 0; i <= bins; i++) edges.Add(v[Math.Min(v.Length - 1, (int)((long)i * (v.Length - 1) / bins))]);
        if (edges.Count == 1) edges.Add(edges.Min + 1);
        return new PiecewiseLinearEncoder([.. edges]);
    }

    /// <summary>Writes the encoding of x into <paramref name="dst"/> (length <see cref="Size"/>).</summary>
    public void Transform(double x, Span<float> dst)
    {
        if (!double.IsFinite(x)) { dst.Clear(); return; }
        int t = Edges.Length - 1;
        for (int i = 0; i < t; i++)
        {
            double lo = Edges[i], hi = Edges[i + 1];
            double e = (x - lo) / (hi - lo);
            if (i > 0) e = Math.Max(e, 0);          // the first component extends below the range
            if (i < t - 1) e = Math.Min(e, 1);      // the last extends above it
            dst[i] = (float)e;
        }
    }
}
