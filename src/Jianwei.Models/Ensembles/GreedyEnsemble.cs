using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Ensembles;

/// <summary>
/// Greedy ensemble selection (Caruana et al. 2004) on log-odds: starting from the single best
/// learner, repeatedly add — with replacement — the learner whose addition most improves the metric
/// of the weighted mean log-odds; stop adding when no addition improves it. The weights are the
/// selection counts over the selections made, so they sum to 1 and a learner that never helps gets 0;
/// ties go to the earlier learner. Because the first pick is the best member and a step is kept only
/// when it improves, the ensemble's score on the selection rows is never below its best member's.
/// </summary>
public sealed class GreedyEnsemble : ICombiner
{
    /// <inheritdoc/>
    public string Kind => "selection";

    /// <summary>Weight of each base learner's log-odds (sums to 1).</summary>
    public double[] Weights { get; }
    IReadOnlyList<double> ICombiner.Weights => Weights;
    private GreedyEnsemble(double[] weights) => Weights = weights;

    /// <summary>Selects weights on base predictions [learner][row] (probabilities) to maximize <paramref name="metric"/>, in at most <paramref name="steps"/> selections.</summary>
    public static GreedyEnsemble Fit(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels, Func<IReadOnlyList<double>, IReadOnlyList<int>, double> metric, int steps = 50)
    {
        int m = basePredictions.Count, n = labels.Count;
        if (m == 0) throw new ArgumentException("no base learners.");
        if (basePredictions.Any(p => p.Length != n)) throw new ArgumentException("every base learner needs one prediction per row.");
        var logits = basePredictions.Select(p => p.Select(LogOdds.Of).ToArray()).ToArray();
        var counts = new int[m];
        var sum = new double[n];
        double current = double.NegativeInfinity;
        var candidate = new double[n];
        for (int step = 1; step <= steps; step++)
        {
            int best = -1; double bestScore = double.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                for (int i = 0; i < n; i++) candidate[i] = LogOdds.Probability((sum[i] + logits[j][i]) / step);
                double score = metric(candidate, labels);
                if (score > bestScore) { bestScore = score; best = j; }
            }
            if (step > 1 && !(bestScore > current)) break;   // no addition improves: keep what is there
            counts[best]++;
            current = bestScore;
            for (int i = 0; i < n; i++) sum[i] += logits[best][i];
        }
        int total = counts.Sum();
        return new GreedyEnsemble(counts.Select(c => c / (double)total).ToArray());
    }

    /// <summary>The ensemble's probabilities: the sigmoid of the weighted mean of the base learners' log-odds.</summary>
    public double[] Predict(IReadOnlyList<double[]> basePredictions)
    {
        if (basePredictions.Count != Weights.Length) throw new ArgumentException($"{basePredictions.Count} base predictions for {Weights.Length} weights.");
        var z = new double[basePredictions[0].Length];
        for (int j = 0; j < Weights.Length; j++)
            if (Weights[j] > 0) for (int i = 0; i < z.Length; i++) z[i] += Weights[j] * LogOdds.Of(basePredictions[j][i]);
        return z.Select(LogOdds.Probability).ToArray();
    }

    /// <inheritdoc/>
    public ICombiner Subset(IReadOnlyList<int> members) =>
        members.Sum(j => Weights[j]) is var kept && Math.Abs(kept - 1) < 1e-12 ? new GreedyEnsemble(members.Select(j => Weights[j]).ToArray())
        : throw new ArgumentException($"the learners left out carry weight {1 - kept}; only learners of weight 0 may be dropped.");

    /// <summary>The weights as JSON: <c>{"weights": [one per learner]}</c>.</summary>
    public JsonObject ToJson() => new() { ["weights"] = new JsonArray(Weights.Select(w => (JsonNode)w).ToArray()) };

    /// <summary>Reads what <see cref="ToJson"/> wrote for <paramref name="learners"/> learners: weights in [0, 1] that sum to 1.</summary>
    public static GreedyEnsemble FromJson(JsonFields json, int learners)
    {
        var w = json.Numbers("weights", learners, 0, 1);
        if (Math.Abs(w.Sum() - 1) > 1e-9) throw json.Error("weights", $"sum to {w.Sum()}; an ensemble's weights sum to 1.");
        return new GreedyEnsemble(w);
    }
}
