namespace Jianwei.Models.Ensembles;

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
