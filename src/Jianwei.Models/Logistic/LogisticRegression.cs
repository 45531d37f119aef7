namespace Jianwei.Models.Logistic;

/// <summary>Settings of <see cref="LogisticRegression"/>, named as in scikit-learn.</summary>
/// <param name="C">Inverse regularization strength: the loss is C·Σ log-loss + penalty.</param>
/// <param name="L1">L1 penalty Σ|w| (sparse weights, by OWL-QN) instead of L2 ½‖w‖².</param>
/// <param name="MaxIterations">Most L-BFGS iterations.</param>
/// <param name="Tolerance">Stop when the largest (pseudo-)gradient component falls below this.</param>
/// <param name="PositiveWeight">Weight of positive rows in the loss (class weighting).</param>
public sealed record LogisticRegressionOptions(double C = 1, bool L1 = false, int MaxIterations = 500, double Tolerance = 1e-4, double PositiveWeight = 1);

/// <summary>
/// Binary logistic regression on sparse features, minimizing scikit-learn's objective
/// C·Σᵢ wᵢ·log(1 + exp(−ỹᵢ(xᵢ·w + b))) + ½‖w‖² (or ‖w‖₁), intercept unpenalized, with L-BFGS
/// (memory 10, backtracking line search); for L1 the orthant-wise variant OWL-QN (Andrew &amp; Gao 2007).
/// </summary>
public sealed class LogisticRegression
{
    /// <summary>Weights, one per column.</summary>
    public double[] Weights { get; }
    /// <summary>Intercept.</summary>
    public double Intercept { get; }
    /// <summary>Iterations used.</summary>
    public int Iterations { get; }
    /// <summary>Whether the tolerance was reached.</summary>
    public bool Converged { get; }

    private LogisticRegression(double[] w, double b, int iterations, bool converged) { Weights = w; Intercept = b; Iterations = iterations; Converged = converged; }

    /// <summary>Rebuilds a fitted model from its weights (for loading).</summary>
    public static LogisticRegression FromWeights(double[] weights, double intercept) => new(weights, intercept, 0, true);

    /// <summary>Fits on <paramref name="x"/> with 0/1 labels.</summary>
    public static LogisticRegression Fit(SparseMatrix x, IReadOnlyList<int> labels, LogisticRegressionOptions? options = null)
    {
        options ??= new LogisticRegressionOptions();
        if (labels.Count != x.Rows) throw new ArgumentException($"{labels.Count} labels for {x.Rows} rows.");
        foreach (var l in labels) if (l is not (0 or 1)) throw new ArgumentException($"labels must be 0 or 1, found {l}.");
        int d = x.Columns, n = d + 1;   // parameters: weights then intercept
        var rowWeight = labels.Select(l => l == 1 ? options.PositiveWeight : 1.0).ToArray();

        // Smooth part: C·Σ logloss (+ ½‖w‖² for L2). Returns value, fills gradient.
        double Smooth(double[] theta, double[] grad)
        {
            Array.Clear(grad);
            double f = 0, b = theta[d];
            var w = theta.AsSpan(0, d);
            for (int i = 0; i < x.Rows; i++)
            {
                double z = x.Dot(i, w) + b;
                double y = labels[i];
                // log(1 + e^{−ỹz}) stably; its derivative in z is σ(z) − y
                f += rowWeight[i] * (z > 0 ? (1 - y) * z + Math.Log(1 + Math.Exp(-z)) : -y * z + Math.Log(1 + Math.Exp(z)));
                double g = rowWeight[i] * (1 / (1 + Math.Exp(-z)) - y);
                x.AddScaledRow(i, options.C * g, grad.AsSpan(0, d));
                grad[d] += options.C * g;
            }
            f *= options.C;
            if (!options.L1)
                for (int j = 0; j < d; j++) { f += 0.5 * theta[j] * theta[j]; grad[j] += theta[j]; }
            return f;
        }
        double L1Norm(double[] t) { double s = 0; for (int j = 0; j < d; j++) s += Math.Abs(t[j]); return s; }

        var theta = new double[n];
        var g = new double[n];
        double fx = Smooth(theta, g) + (options.L1 ? L1Norm(theta) : 0);
        const int m = 10;
        var sList = new List<double[]>(); var yList = new List<double[]>(); var rho = new List<double>();
        var pg = new double[n];
        int iter = 0;
        bool converged = false;
        for (; iter < options.MaxIterations; iter++)
        {
            // Pseudo-gradient for L1 (the steepest-descent direction of the non-smooth objective).
            for (int j = 0; j < n; j++)
            {
                if (!options.L1 || j == d) { pg[j] = g[j]; continue; }
                if (theta[j] > 0) pg[j] = g[j] + 1;
                else if (theta[j] < 0) pg[j] = g[j] - 1;
                else pg[j] = g[j] + 1 < 0 ? g[j] + 1 : g[j] - 1 > 0 ? g[j] - 1 : 0;
            }
            if (pg.Max(Math.Abs) < options.Tolerance) { converged = true; break; }

            // Two-loop recursion: direction = −H·pg.
            var q = (double[])pg.Clone();
            var alpha = new double[sList.Count];
            for (int k = sList.Count - 1; k >= 0; k--) { alpha[k] = rho[k] * Dot(sList[k], q); Axpy(-alpha[k], yList[k], q); }
            if (sList.Count > 0) { double gamma = Dot(sList[^1], yList[^1]) / Dot(yList[^1], yList[^1]); for (int j = 0; j < n; j++) q[j] *= gamma; }
            for (int k = 0; k < sList.Count; k++) { double beta = rho[k] * Dot(yList[k], q); Axpy(alpha[k] - beta, sList[k], q); }
            var dir = q.Select(v => -v).ToArray();
            if (options.L1) for (int j = 0; j < d; j++) if (dir[j] * pg[j] >= 0) dir[j] = 0;   // keep to the descent orthant
            if (Dot(dir, pg) >= 0) { dir = pg.Select(v => -v).ToArray(); sList.Clear(); yList.Clear(); rho.Clear(); }

            // Backtracking line search (Armijo), projecting onto the orthant for L1.
            double step = iter == 0 ? 1 / Math.Max(1, Math.Sqrt(Dot(pg, pg))) : 1;
            var next = new double[n]; var gNext = new double[n];
            double fNext = double.PositiveInfinity;
            for (int ls = 0; ls < 40; ls++, step *= 0.5)
            {
                for (int j = 0; j < n; j++)
                {
                    next[j] = theta[j] + step * dir[j];
                    if (options.L1 && j < d)
                    {
                        double orthant = theta[j] != 0 ? Math.Sign(theta[j]) : -Math.Sign(pg[j]);
                        if (Math.Sign(next[j]) != orthant) next[j] = 0;
                    }
                }
                fNext = Smooth(next, gNext) + (options.L1 ? L1Norm(next) : 0);
                double decrease = 0;
                for (int j = 0; j < n; j++) decrease += pg[j] * (next[j] - theta[j]);
                if (fNext <= fx + 1e-4 * decrease) break;
            }
            if (!(fNext < fx)) break;   // no decrease even at a tiny step: at the limit of double precision
            var s = new double[n]; var yv = new double[n];
            for (int j = 0; j < n; j++) { s[j] = next[j] - theta[j]; yv[j] = gNext[j] - g[j]; }
            double sy = Dot(s, yv);
            if (sy > 1e-12)
            {
                sList.Add(s); yList.Add(yv); rho.Add(1 / sy);
                if (sList.Count > m) { sList.RemoveAt(0); yList.RemoveAt(0); rho.RemoveAt(0); }
            }
            theta = next; g = gNext; fx = fNext;
        }
        return new LogisticRegression(theta[..d], theta[d], iter, converged);
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static void Axpy(double a, double[] x, double[] y) { for (int i = 0; i < x.Length; i++) y[i] += a * x[i]; }

    /// <summary>Probability of the positive class for each row.</summary>
    public double[] PredictProbability(SparseMatrix x)
    {
        if (x.Columns != Weights.Length) throw new ArgumentException($"The model has {Weights.Length} features; the data has {x.Columns} columns.");
        var p = new double[x.Rows];
        for (int i = 0; i < x.Rows; i++) p[i] = 1 / (1 + Math.Exp(-(x.Dot(i, Weights) + Intercept)));
        return p;
    }
}
