using System.Text.Json.Nodes;
using Jianwei.Models.Logistic;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Ensembles;

/// <summary>
/// Stacking: a logistic regression over the log-odds of the base learners' held-out probabilities
/// (<see cref="LogOdds"/>), L2 with C = 1. It saves as <see cref="LogisticRegression"/>'s JSON.
/// </summary>
public sealed class LogisticStacker : ICombiner
{
    /// <inheritdoc/>
    public string Kind => "stacker";

    private readonly LogisticRegression _model;
    private LogisticStacker(LogisticRegression model) => _model = model;

    /// <summary>Weight of each base learner's log-odds.</summary>
    public IReadOnlyList<double> Weights => _model.Weights;

    /// <summary>Fits on base predictions [learner][row] and labels.</summary>
    public static LogisticStacker Fit(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels, double c = 1) =>
        new(LogisticRegression.Fit(Logits(basePredictions), labels, new LogisticRegressionOptions(C: c)));

    /// <summary>
    /// <see cref="Fit"/>, keeping only positive weights: when one comes out negative, the held-out rows
    /// are too few to tell the learners apart (it would rank by the opposite of a learner that beats
    /// chance), so the better learner is kept alone, rescaled, and the others get weight 0.
    /// </summary>
    public static LogisticStacker FitPositive(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels)
    {
        var stacker = Fit(basePredictions, labels);
        if (stacker.Weights.All(w => w > 0)) return stacker;
        int keep = 0;
        for (int j = 1; j < stacker.Weights.Count; j++) if (stacker.Weights[j] > stacker.Weights[keep]) keep = j;
        var single = LogisticRegression.Fit(Logits([basePredictions[keep]]), labels, new LogisticRegressionOptions(C: 1));
        var weights = new double[basePredictions.Count];
        weights[keep] = Math.Max(single.Weights[0], 1e-3);
        return new LogisticStacker(LogisticRegression.FromWeights(weights, single.Intercept));
    }

    /// <summary>Combined probabilities.</summary>
    public double[] Predict(IReadOnlyList<double[]> basePredictions) => _model.PredictProbability(Logits(basePredictions));

    /// <inheritdoc/>
    public ICombiner Subset(IReadOnlyList<int> members) =>
        Enumerable.Range(0, Weights.Count).Any(j => Weights[j] != 0 && !members.Contains(j))
            ? throw new ArgumentException("only learners of weight 0 may be dropped from a stacker.")
            : new LogisticStacker(LogisticRegression.FromWeights(members.Select(j => Weights[j]).ToArray(), _model.Intercept));

    /// <summary>The stacker as JSON: <c>{"intercept": b, "weights": [one per learner]}</c>.</summary>
    public JsonObject ToJson() => _model.ToJson();

    /// <summary>Reads what <see cref="ToJson"/> wrote, for <paramref name="learners"/> base learners.</summary>
    public static LogisticStacker FromJson(JsonFields json, int learners) => new(LogisticRegression.FromJson(json, learners));

    /// <summary>The stacker's inputs: each base learner's log-odds as one column.</summary>
    internal static SparseMatrix Logits(IReadOnlyList<double[]> p)
    {
        int rows = p[0].Length;
        if (p.Any(l => l.Length != rows)) throw new ArgumentException("every base learner needs one prediction per row.");
        return SparseMatrix.FromRows(Enumerable.Range(0, rows).Select(r => (IReadOnlyList<(int, float)>)p.Select((l, j) => (j, (float)LogOdds.Of(l[r]))).ToList()).ToList(), p.Count);
    }
}
