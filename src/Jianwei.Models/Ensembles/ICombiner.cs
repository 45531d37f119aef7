using System.Text.Json.Nodes;

namespace Jianwei.Models.Ensembles;

/// <summary>
/// How a model combines its learners: a function of their log-odds that is linear in them (so each
/// learner's explanation, scaled by its weight, adds up to the combination's).
/// </summary>
public interface ICombiner
{
    /// <summary><c>stacker</c> (a logistic regression over the log-odds) or <c>selection</c> (greedy ensemble selection).</summary>
    string Kind { get; }
    /// <summary>Weight of each learner's log-odds.</summary>
    IReadOnlyList<double> Weights { get; }
    /// <summary>Combined probabilities from the learners' [learner][row].</summary>
    double[] Predict(IReadOnlyList<double[]> basePredictions);
    /// <summary>The combiner's fields, for the bundle.</summary>
    JsonObject ToJson();
    /// <summary>
    /// The same combination over only the learners <paramref name="members"/> (indices, in order), for
    /// dropping learners of weight 0: it predicts exactly as before from their predictions alone.
    /// </summary>
    ICombiner Subset(IReadOnlyList<int> members);
}
