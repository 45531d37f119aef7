using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;

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
/// (<see cref="Lbfgs"/>; for L1 its orthant-wise variant OWL-QN).
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

    /// <summary>The fitted model as JSON: <c>{"intercept": b, "weights": [w…]}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["intercept"] = Intercept,
        ["weights"] = new JsonArray(Weights.Select(w => (JsonNode)w).ToArray()),
    };

    /// <summary>Reads what <see cref="ToJson"/> wrote, with exactly <paramref name="weights"/> weights (else a <see cref="ModelFormatException"/> naming the field).</summary>
    public static LogisticRegression FromJson(JsonFields json, int weights) => FromWeights(json.Numbers("weights", weights), json.Number("intercept"));

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
        var (theta, iter, converged) = Lbfgs.Minimize(Smooth, n, options.L1 ? d : 0, options.MaxIterations, options.Tolerance);
        return new LogisticRegression(theta[..d], theta[d], iter, converged);
    }


    /// <summary>Probability of the positive class for each row.</summary>
    public double[] PredictProbability(SparseMatrix x)
    {
        if (x.Columns != Weights.Length) throw new ArgumentException($"The model has {Weights.Length} features; the data has {x.Columns} columns.");
        var p = new double[x.Rows];
        for (int i = 0; i < x.Rows; i++) p[i] = LogOdds.Probability(x.Dot(i, Weights) + Intercept);
        return p;
    }
}
