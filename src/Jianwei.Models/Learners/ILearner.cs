using System.Text.Json.Nodes;
using Jianwei.Data;

namespace Jianwei.Models.Learners;

/// <summary>
/// A fitted learner as a bundle holds it: it scores rows of a table, explains them in log-odds per
/// input column, measures its own feature importance where it has a measure, and writes its part of
/// the bundle. Each learner is fitted by its own static <c>Fit</c> (their settings differ) and read back
/// by its own <c>Load</c>; <see cref="Bundles.TabularModel"/> combines one or more of them.
/// </summary>
public interface ILearner : IDisposable
{
    /// <summary>Its name in the bundle and in reports: <c>logistic</c>, <c>boosting</c>, <c>multimodal</c>.</summary>
    string Name { get; }

    /// <summary>The table columns it reads, with the type each is read as.</summary>
    IEnumerable<(string Name, ColumnType Type)> Inputs { get; }

    /// <summary>Probabilities of the positive class for <paramref name="rows"/> of <paramref name="table"/>.</summary>
    double[] Predict(RawTable table, IReadOnlyList<int> rows);

    /// <summary>
    /// Each row's input-column contributions to its log-odds (and, for learners that read texts piece
    /// by piece, each piece's), multiplied by <paramref name="scale"/> — the weight the combination
    /// gives this learner's log-odds.
    /// </summary>
    IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale);

    /// <summary>
    /// Importance of each input column on <paramref name="rows"/>, normalized to sum 1; null when the
    /// learner has no measure of its own (the model then measures permutation importance).
    /// </summary>
    Dictionary<string, double>? Importance(RawTable table, IReadOnlyList<int> rows);

    /// <summary>Training curves (name → values by step or epoch), or null when it records none.</summary>
    JsonObject? Curves { get; }

    /// <summary>Writes its fields into <paramref name="parts"/> (the object of <c>tabular.json</c>) and its own files into <paramref name="directory"/>, each atomically.</summary>
    void Save(JsonObject parts, string directory);
}
