using Jianwei.Data;
using Jianwei.Models.Logistic;

namespace Jianwei.Models.Ensembles;

/// <summary>A learner as cross-validation sees it: fit on some rows, return probabilities for others.</summary>
public delegate double[] FitPredict(int[] trainRows, int[] predictRows);

/// <summary>Out-of-fold predictions: every row predicted by a model that never saw it.</summary>
public static class CrossValidation
{
    /// <summary>Runs <paramref name="learner"/> once per fold; returns one prediction per row (rows in no test fold stay NaN).</summary>
    public static double[] OutOfFold(IReadOnlyList<Fold> folds, int rows, FitPredict learner)
    {
        var oof = new double[rows];
        Array.Fill(oof, double.NaN);
        foreach (var fold in folds)
        {
            var p = learner(fold.Train, fold.Test);
            if (p.Length != fold.Test.Length) throw new InvalidOperationException($"the learner returned {p.Length} predictions for {fold.Test.Length} rows.");
            for (int i = 0; i < p.Length; i++) oof[fold.Test[i]] = p[i];
        }
        return oof;
    }
}

/// <summary>
/// Stacking: a logistic regression over the logits of the base learners' out-of-fold probabilities
/// (clipped to [1e-6, 1 − 1e-6]), L2 with C = 1.
/// </summary>
public sealed class LogisticStacker
{
    private readonly LogisticRegression _model;
    private LogisticStacker(LogisticRegression model) => _model = model;

    /// <summary>Weight of each base learner's logit.</summary>
    public IReadOnlyList<double> Weights => _model.Weights;

    /// <summary>Fits on base predictions [learner][row] and labels.</summary>
    public static LogisticStacker Fit(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels, double c = 1) =>
        new(LogisticRegression.Fit(Logits(basePredictions), labels, new LogisticRegressionOptions(C: c)));

    /// <summary>Combined probabilities.</summary>
    public double[] Predict(IReadOnlyList<double[]> basePredictions) => _model.PredictProbability(Logits(basePredictions));

    /// <summary>The stacker's inputs: each base learner's clipped logit as one column.</summary>
    internal static SparseMatrix Logits(IReadOnlyList<double[]> p)
    {
        int rows = p[0].Length;
        if (p.Any(l => l.Length != rows)) throw new ArgumentException("every base learner needs one prediction per row.");
        return SparseMatrix.FromRows(Enumerable.Range(0, rows).Select(r => (IReadOnlyList<(int, float)>)p.Select((l, j) =>
        {
            double v = Math.Clamp(l[r], 1e-6, 1 - 1e-6);
            return (j, (float)Math.Log(v / (1 - v)));
        }).ToList()).ToList(), p.Count);
    }
}

/// <summary>
/// Greedy ensemble selection (Caruana et al. 2004): starting empty, repeatedly add — with replacement —
/// the base learner whose addition most improves the metric of the averaged predictions. The weights
/// are the selection counts over the number of steps; ties go to the earlier learner.
/// </summary>
public sealed class GreedyEnsemble
{
    /// <summary>Weight of each base learner (sums to 1).</summary>
    public double[] Weights { get; }
    private GreedyEnsemble(double[] weights) => Weights = weights;

    /// <summary>Selects weights on base predictions [learner][row] to maximize <paramref name="metric"/>.</summary>
    public static GreedyEnsemble Fit(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels, Func<IReadOnlyList<double>, IReadOnlyList<int>, double> metric, int steps = 50)
    {
        int m = basePredictions.Count, n = labels.Count;
        var counts = new int[m];
        var sum = new double[n];
        for (int step = 1; step <= steps; step++)
        {
            int best = -1; double bestScore = double.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                var candidate = new double[n];
                for (int i = 0; i < n; i++) candidate[i] = (sum[i] + basePredictions[j][i]) / step;
                double score = metric(candidate, labels);
                if (score > bestScore) { bestScore = score; best = j; }
            }
            counts[best]++;
            for (int i = 0; i < n; i++) sum[i] += basePredictions[best][i];
        }
        return new GreedyEnsemble(counts.Select(c => c / (double)steps).ToArray());
    }

    /// <summary>The weighted average of base predictions.</summary>
    public double[] Predict(IReadOnlyList<double[]> basePredictions)
    {
        var p = new double[basePredictions[0].Length];
        for (int j = 0; j < Weights.Length; j++)
            if (Weights[j] > 0) for (int i = 0; i < p.Length; i++) p[i] += Weights[j] * basePredictions[j][i];
        return p;
    }
}
