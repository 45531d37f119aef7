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
    /// <see cref="Fit"/> with no weight below 0 (Breiman 1996, "Stacked regressions": unconstrained, members
    /// that say much the same get large weights of opposite signs, which do not hold on new rows): while a
    /// weight comes out negative, the member with the most negative one is dropped (weight 0) and the
    /// stacker refitted on the others. A last member whose weight is still negative keeps a small positive
    /// one, so the stacker ranks rows as that member does rather than not at all.
    /// </summary>
    public static LogisticStacker FitNonNegative(IReadOnlyList<double[]> basePredictions, IReadOnlyList<int> labels, double c = 1)
    {
        var active = Enumerable.Range(0, basePredictions.Count).ToList();
        while (true)
        {
            var model = LogisticRegression.Fit(Logits(active.Select(j => basePredictions[j]).ToList()), labels, new LogisticRegressionOptions(C: c));
            int worst = Enumerable.Range(0, active.Count).MinBy(i => model.Weights[i]);
            if (model.Weights[worst] >= 0 || active.Count == 1)
            {
                var weights = new double[basePredictions.Count];
                for (int i = 0; i < active.Count; i++) weights[active[i]] = active.Count == 1 ? Math.Max(model.Weights[i], 1e-3) : model.Weights[i];
                return new LogisticStacker(LogisticRegression.FromWeights(weights, model.Intercept));
            }
            active.RemoveAt(worst);
        }
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
