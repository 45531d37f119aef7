namespace Jianwei.Models.Logistic;

/// <summary>
/// L-BFGS (memory 10, backtracking Armijo line search) and, with an L1 term, its orthant-wise variant
/// OWL-QN (Andrew &amp; Gao 2007): minimizes smooth(θ) + Σ_{j &lt; l1} |θⱼ|.
/// </summary>
internal static class Lbfgs
{
    private const int Memory = 10;

    /// <summary>The value of the smooth part at θ; fills its gradient.</summary>
    public delegate double Smooth(double[] theta, double[] gradient);

    /// <summary>
    /// Minimizes from θ = 0 over <paramref name="n"/> parameters, the first <paramref name="l1"/> of them
    /// under the L1 term. Stops when the largest pseudo-gradient component falls below
    /// <paramref name="tolerance"/> (converged), after <paramref name="maxIterations"/>, or when even a
    /// tiny step no longer decreases the objective (double precision's limit).
    /// </summary>
    public static (double[] Theta, int Iterations, bool Converged) Minimize(Smooth smooth, int n, int l1, int maxIterations, double tolerance)
    {
        double Objective(double[] t, double[] grad) => smooth(t, grad) + (l1 > 0 ? L1Norm(t, l1) : 0);
        var theta = new double[n];
        var g = new double[n];
        double fx = Objective(theta, g);
        var history = new History();
        var pg = new double[n];
        int iter = 0;
        for (; iter < maxIterations; iter++)
        {
            PseudoGradient(theta, g, l1, pg);
            if (pg.Max(Math.Abs) < tolerance) return (theta, iter, true);
            var dir = Direction(pg, history, l1);
            var (next, gNext, fNext) = LineSearch(Objective, theta, fx, pg, dir, l1, iter == 0 ? 1 / Math.Max(1, Math.Sqrt(Dot(pg, pg))) : 1);
            if (!(fNext < fx)) break;   // no decrease even at a tiny step: at the limit of double precision
            history.Add(next, theta, gNext, g);
            theta = next; g = gNext; fx = fNext;
        }
        return (theta, iter, false);
    }

    /// <summary>The gradient, or for L1 the steepest-descent direction of the non-smooth objective (negated).</summary>
    private static void PseudoGradient(double[] theta, double[] g, int l1, double[] pg)
    {
        for (int j = 0; j < pg.Length; j++)
        {
            if (j >= l1) { pg[j] = g[j]; continue; }
            if (theta[j] > 0) pg[j] = g[j] + 1;
            else if (theta[j] < 0) pg[j] = g[j] - 1;
            else pg[j] = g[j] + 1 < 0 ? g[j] + 1 : g[j] - 1 > 0 ? g[j] - 1 : 0;
        }
    }

    /// <summary>−H·pg by the two-loop recursion, kept to the descent orthant for L1; steepest descent (and a fresh history) when that is not a descent direction.</summary>
    private static double[] Direction(double[] pg, History h, int l1)
    {
        var q = (double[])pg.Clone();
        var alpha = new double[h.S.Count];
        for (int k = h.S.Count - 1; k >= 0; k--) { alpha[k] = h.Rho[k] * Dot(h.S[k], q); Axpy(-alpha[k], h.Y[k], q); }
        if (h.S.Count > 0) { double gamma = Dot(h.S[^1], h.Y[^1]) / Dot(h.Y[^1], h.Y[^1]); for (int j = 0; j < q.Length; j++) q[j] *= gamma; }
        for (int k = 0; k < h.S.Count; k++) { double beta = h.Rho[k] * Dot(h.Y[k], q); Axpy(alpha[k] - beta, h.S[k], q); }
        var dir = q.Select(v => -v).ToArray();
        for (int j = 0; j < l1; j++) if (dir[j] * pg[j] >= 0) dir[j] = 0;
        if (Dot(dir, pg) >= 0) { dir = pg.Select(v => -v).ToArray(); h.Clear(); }
        return dir;
    }

    /// <summary>Backtracking from <paramref name="step"/> (halving, at most 40 times) until the Armijo condition holds, projecting onto the orthant for L1.</summary>
    private static (double[] Next, double[] Gradient, double Value) LineSearch(Func<double[], double[], double> objective, double[] theta, double fx, double[] pg, double[] dir, int l1, double step)
    {
        int n = theta.Length;
        var next = new double[n]; var gNext = new double[n];
        double fNext = double.PositiveInfinity;
        for (int ls = 0; ls < 40; ls++, step *= 0.5)
        {
            for (int j = 0; j < n; j++)
            {
                next[j] = theta[j] + step * dir[j];
                if (j < l1)
                {
                    double orthant = theta[j] != 0 ? Math.Sign(theta[j]) : -Math.Sign(pg[j]);
                    if (Math.Sign(next[j]) != orthant) next[j] = 0;
                }
            }
            fNext = objective(next, gNext);
            double decrease = 0;
            for (int j = 0; j < n; j++) decrease += pg[j] * (next[j] - theta[j]);
            if (fNext <= fx + 1e-4 * decrease) break;
        }
        return (next, gNext, fNext);
    }

    /// <summary>The last <see cref="Memory"/> curvature pairs (s, y) with ρ = 1 / sᵀy.</summary>
    private sealed class History
    {
        public readonly List<double[]> S = [], Y = [];
        public readonly List<double> Rho = [];

        public void Add(double[] next, double[] theta, double[] gNext, double[] g)
        {
            int n = theta.Length;
            var s = new double[n]; var y = new double[n];
            for (int j = 0; j < n; j++) { s[j] = next[j] - theta[j]; y[j] = gNext[j] - g[j]; }
            double sy = Dot(s, y);
            if (!(sy > 1e-12)) return;   // (NaN too)
            S.Add(s); Y.Add(y); Rho.Add(1 / sy);
            if (S.Count > Memory) { S.RemoveAt(0); Y.RemoveAt(0); Rho.RemoveAt(0); }
        }

        public void Clear() { S.Clear(); Y.Clear(); Rho.Clear(); }
    }

    private static double L1Norm(double[] t, int count) { double s = 0; for (int j = 0; j < count; j++) s += Math.Abs(t[j]); return s; }
    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static void Axpy(double a, double[] x, double[] y) { for (int i = 0; i < x.Length; i++) y[i] += a * x[i]; }
}
