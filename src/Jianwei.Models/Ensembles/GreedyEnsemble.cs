using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Ensembles;

/// <summary>
/// Greedy ensemble selection (Caruana et al. 2004) on log-odds: starting from the single best learner,
/// repeatedly add — with replacement — the learner whose addition most improves the metric of the
/// weighted mean log-odds, for a fixed number of steps even when a step makes it worse (a later one may
/// more than make up for it), then keep the prefix of the selections that scored best (as AutoGluon
/// does). The weights are the selection counts over that prefix, so they sum to 1 and a learner never
/// selected gets 0; ties go to the earlier learner and the shorter prefix. Because the first pick is the
/// best member and the best prefix is kept, the ensemble's score on the selection rows is never below
/// its best member's.
/// </summary>
public sealed class GreedyEnsemble : ICombiner
{
    /// <inheritdoc/>
    public string Kind => "selection";

    /// <summary>Weight of each base learner's log-odds (sums to 1).</summary>
    public double[] Weights { get; }
    IReadOnlyList<double> ICombiner.Weights => Weights;
    private GreedyEnsemble(double[] weights) => Weights = weights;

    /// <summary>Selects weights on base predictions [learner][row] (probabilities) to maximize <paramref name="metric"/>, over <paramref name="steps"/> selections.</summary>
    public static GreedyEnsemble Fit(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels, Func<IReadOnlyList<double>, IReadOnlyList<int>, double> metric, int steps = 25)
    {
        int m = basePredictions.Count, n = labels.Count;
        if (m == 0) throw new ArgumentException("no base learners.");
        if (basePredictions.Any(p => p.Length != n)) throw new ArgumentException("every base learner needs one prediction per row.");
        var logits = basePredictions.Select(p => p.Select(LogOdds.Of).ToArray()).ToArray();
        var picks = new List<int>();
        int bestLength = 0;
        double bestScore = double.NegativeInfinity;
        var sum = new double[n];
        var candidate = new double[n];
        for (int step = 1; step <= steps; step++)
        {
            int pick = -1; double pickScore = double.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                for (int i = 0; i < n; i++) candidate[i] = LogOdds.Probability((sum[i] + logits[j][i]) / step);
                double score = metric(candidate, labels);
                if (score > pickScore) { pickScore = score; pick = j; }
            }
            picks.Add(pick);
            for (int i = 0; i < n; i++) sum[i] += logits[pick][i];
            if (pickScore > bestScore) { bestScore = pickScore; bestLength = step; }
            if (m == 1) break;   // one learner: every prefix is that learner
        }
        var counts = new int[m];
        foreach (int j in picks.Take(bestLength)) counts[j]++;
        return new GreedyEnsemble(counts.Select(c => c / (double)bestLength).ToArray());
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
