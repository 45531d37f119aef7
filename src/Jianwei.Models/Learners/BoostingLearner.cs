using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Features;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Learners;

/// <summary>
/// XGBoost on the table (native categorical splits) and the most frequent TF-IDF terms of each text
/// column (<see cref="TreeFeatures"/>), early-stopped on 10 % of its training rows. Its explanation is
/// XGBoost's exact tree SHAP, grouped by the column each feature comes from.
/// </summary>
public sealed class BoostingLearner : ILearner
{
    /// <summary>The file the trees are saved in, beside <c>tabular.json</c> (XGBoost's own JSON).</summary>
    public const string TreesFile = "xgboost.json";
    private readonly TreeFeatures _features;
    private readonly GradientBoostedTrees _trees;

    private BoostingLearner(TreeFeatures features, GradientBoostedTrees trees) { _features = features; _trees = trees; }

    /// <summary>
    /// Fits on <paramref name="rows"/> of <paramref name="table"/> (0/1 <paramref name="labels"/> for every
    /// row of the table): 90 % grow trees, 10 % (stratified, split by <paramref name="seed"/>) stop them.
    /// </summary>
    public static BoostingLearner Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, BoostingOptions options, int textTerms, int seed)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows, labels, 0.1, 0, seed);
        int[] fit = inner.Train, stop = inner.Validation;
        var features = TreeFeatures.Fit(table, schema, fit, termsPerText: textTerms);
        var trees = GradientBoostedTrees.Train(features.Transform(table, fit), fit.Select(r => labels[r]).ToArray(), options,
            features.Transform(table, stop), stop.Select(r => labels[r]).ToArray(), features.Names, features.Categorical);
        return new BoostingLearner(features, trees);
    }

    /// <inheritdoc/>
    public string Name => "boosting";

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => _features.Inputs;

    /// <inheritdoc/>
    public JsonObject? Curves => null;

    /// <inheritdoc/>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows) =>
        _trees.PredictProbability(_features.Transform(table, rows)).Select(v => (double)v).ToArray();

    /// <inheritdoc/>
    public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale)
    {
        var contributions = _trees.PredictContributions(_features.Transform(table, rows));
        var sources = _features.Sources;
        int width = sources.Count + 1;   // last column: the bias
        return Enumerable.Range(0, rows.Count).Select(i => new LearnerExplanation(
            Enumerable.Range(0, width - 1).Select(j => (sources[j], scale * contributions[i * width + j])).ToList(), null)).ToList();
    }

    /// <summary>XGBoost's total gain, summed over each column's features, as shares (the rows are not needed).</summary>
    public Dictionary<string, double> Importance(RawTable table, IReadOnlyList<int> rows)
    {
        var source = _features.Names.Zip(_features.Sources).ToDictionary(x => x.First, x => x.Second, StringComparer.Ordinal);
        var gain = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in _trees.GainImportance()) gain[source[name]] = gain.GetValueOrDefault(source[name]) + value;
        return Shares.Of(gain);
    }

    /// <inheritdoc/>
    public void Save(JsonObject parts, string directory)
    {
        parts["tree_features"] = _features.ToJson();
        AtomicFile.Write(Path.Combine(directory, TreesFile), s => s.Write(_trees.ToJson()));
    }

    /// <summary>
    /// Reads the learner from its field of <c>tabular.json</c> and <see cref="TreesFile"/> in
    /// <paramref name="directory"/>, and checks that the trees split on these features (same names and
    /// types, in order).
    /// </summary>
    public static BoostingLearner Load(JsonFields parts, string directory)
    {
        var features = TreeFeatures.FromJson(parts.Object("tree_features"));
        string path = Path.Combine(directory, TreesFile);
        if (!File.Exists(path)) throw new ModelFormatException(path, null, "the file is missing.");
        var trees = GradientBoostedTrees.FromJson(File.ReadAllBytes(path), path);
        if (!trees.FeatureNames.SequenceEqual(features.Names) || !trees.Categorical.SequenceEqual(features.Categorical))
        {
            trees.Dispose();
            throw new ModelFormatException(path, "learner.feature_names", $"the trees' {trees.FeatureNames.Count} features are not the {features.Width} tree features of {Path.GetFileName(parts.File)} (names and types must match, in order).");
        }
        return new BoostingLearner(features, trees);
    }

    /// <inheritdoc/>
    public void Dispose() => _trees.Dispose();
}
