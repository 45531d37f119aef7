using Jianwei.Models.Logistic;

namespace Jianwei.Models.Tests;

/// <summary>
/// Logistic regression checked by its optimality conditions: at the L2 optimum the gradient of
/// C·Σ log-loss + ½‖w‖² vanishes; at the L1 optimum zero weights have |∂loss| ≤ 1 and non-zero
/// weights have ∂loss = −sign(w).
/// </summary>
public class LogisticRegressionTests
{
    private static (SparseMatrix X, int[] Y) Data(int n, int seed, int noiseColumns = 5)
    {
        var r = new Random(seed);
        var rows = new List<IReadOnlyList<(int, float)>>(); var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            float a = (float)(r.NextDouble() * 2 - 1), b = (float)(r.NextDouble() * 2 - 1);
            var row = new List<(int, float)> { (0, a), (1, b) };
            if (r.NextDouble() < 0.3) row.Add((2, 1f));                       // a sparse indicator with its own effect
            for (int k = 0; k < noiseColumns; k++) if (r.NextDouble() < 0.5) row.Add((3 + k, (float)r.NextDouble()));
            double z = 2 * a - 1 * b + (row.Any(e => e.Item1 == 2) ? 1.0 : 0) - 0.3;
            y[i] = r.NextDouble() < 1 / (1 + Math.Exp(-z)) ? 1 : 0;
            rows.Add(row);
        }
        return (SparseMatrix.FromRows(rows, 3 + noiseColumns), y);
    }

    /// <summary>Gradient of the smooth part C·Σ log-loss at (w, b).</summary>
    private static double[] LossGradient(SparseMatrix x, int[] y, double[] w, double b, double c)
    {
        var g = new double[x.Columns + 1];
        for (int i = 0; i < x.Rows; i++)
        {
            double p = 1 / (1 + Math.Exp(-(x.Dot(i, w) + b)));
            x.AddScaledRow(i, c * (p - y[i]), g.AsSpan(0, x.Columns));
            g[^1] += c * (p - y[i]);
        }
        return g;
    }

    [Fact]
    public void L2SolutionSatisfiesTheOptimalityCondition()
    {
        var (x, y) = Data(2000, 1);
        var model = LogisticRegression.Fit(x, y, new LogisticRegressionOptions(C: 0.5, Tolerance: 1e-5));
        Assert.True(model.Converged, $"not converged after {model.Iterations} iterations");
        var g = LossGradient(x, y, model.Weights, model.Intercept, 0.5);
        for (int j = 0; j < x.Columns; j++) Assert.True(Math.Abs(g[j] + model.Weights[j]) < 1e-4, $"∂/∂w{j} = {g[j] + model.Weights[j]}");
        Assert.True(Math.Abs(g[^1]) < 1e-4);
        Assert.InRange(model.Weights[0], 1.5, 2.5);   // the generating coefficients are recovered roughly
        Assert.InRange(model.Weights[1], -1.5, -0.5);
    }

    [Fact]
    public void L1SolutionIsSparseAndSatisfiesItsConditions()
    {
        var (x, y) = Data(2000, 2, noiseColumns: 20);
        double c = 0.02;
        var model = LogisticRegression.Fit(x, y, new LogisticRegressionOptions(C: c, L1: true, Tolerance: 1e-6, MaxIterations: 2000));
        var g = LossGradient(x, y, model.Weights, model.Intercept, c);
        int zeros = 0;
        for (int j = 0; j < x.Columns; j++)
        {
            if (model.Weights[j] == 0) { zeros++; Assert.True(Math.Abs(g[j]) <= 1 + 1e-3, $"zero weight {j} with |g| {Math.Abs(g[j])}"); }
            else Assert.True(Math.Abs(g[j] + Math.Sign(model.Weights[j])) < 1e-3, $"weight {j}: g {g[j]}");
        }
        Assert.True(zeros >= 10, $"only {zeros} of 23 weights are zero");
        Assert.NotEqual(0, model.Weights[0]);
    }

    [Fact]
    public void WeakerRegularizationGivesLargerWeightsAndClassWeightShiftsRisk()
    {
        var (x, y) = Data(1000, 3);
        var strong = LogisticRegression.Fit(x, y, new LogisticRegressionOptions(C: 0.001));
        var weak = LogisticRegression.Fit(x, y, new LogisticRegressionOptions(C: 10));
        Assert.True(weak.Weights.Sum(Math.Abs) > 3 * strong.Weights.Sum(Math.Abs));
        var weighted = LogisticRegression.Fit(x, y, new LogisticRegressionOptions(PositiveWeight: 4));
        Assert.True(weighted.PredictProbability(x).Average() > LogisticRegression.Fit(x, y).PredictProbability(x).Average() + 0.05);
    }

    [Fact]
    public void BadInput()
    {
        var (x, y) = Data(50, 4);
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(x, y.Take(10).ToArray()));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(x, y.Select(v => v + 1).ToArray()));
        var m = LogisticRegression.Fit(x, y);
        Assert.Throws<ArgumentException>(() => m.PredictProbability(new SparseMatrix([0, 0], [], [], 1, 3)));
    }
}
