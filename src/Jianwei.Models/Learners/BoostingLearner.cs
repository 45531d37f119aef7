using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Features;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Learners;

/// <summary>Which library grows a <see cref="BoostingLearner"/>'s trees.</summary>
public enum TreeLibrary
{
    /// <summary>XGBoost (<c>hist</c>, depth-wise), Debian's libxgboost0.</summary>
    XGBoost,
    /// <summary>LightGBM (leaf-wise), from the LightGBM NuGet package.</summary>
    LightGbm,
}

/// <summary>
/// Gradient-boosted trees — XGBoost or LightGBM — on the table (native categorical splits) and the
/// most frequent TF-IDF terms of each text column (<see cref="TreeFeatures"/>), early-stopped on 10 %
/// of its training rows. Its explanation is the library's exact tree SHAP, grouped by the column each
/// feature comes from.
/// </summary>
public sealed class BoostingLearner : ILearner
{
    /// <summary>The file XGBoost's trees are saved in, beside <c>tabular.json</c> (XGBoost's own JSON).</summary>
    public const string TreesFile = "xgboost.json";
    /// <summary>The file LightGBM's trees are saved in (LightGBM's text format).</summary>
    public const string LightGbmFile = "lightgbm.txt";
    private readonly TreeFeatures _features;
    private readonly IBoostedTrees _trees;

    /// <summary>The library that grew the trees.</summary>
    public TreeLibrary Library { get; }

    private BoostingLearner(TreeLibrary library, TreeFeatures features, IBoostedTrees trees) { Library = library; _features = features; _trees = trees; }

    /// <summary>
    /// Fits on <paramref name="rows"/> of <paramref name="table"/> (0/1 <paramref name="labels"/> for every
    /// row of the table): 90 % grow trees, 10 % (stratified, split by <paramref name="seed"/>) stop them.
    /// </summary>
    public static BoostingLearner Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, BoostingOptions options, int textTerms, int seed,
                                      TreeLibrary library = TreeLibrary.XGBoost)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows, labels, 0.1, 0, seed);
        int[] fit = inner.Train, stop = inner.Validation;
        var features = TreeFeatures.Fit(table, schema, fit, termsPerText: textTerms);
        DenseMatrix x = features.Transform(table, fit), xStop = features.Transform(table, stop);
        int[] y = fit.Select(r => labels[r]).ToArray(), yStop = stop.Select(r => labels[r]).ToArray();
        return new BoostingLearner(library, features, Grow(library, features, x, y, options, xStop, yStop));
    }

    /// <summary>Grows trees with <paramref name="library"/> on features <paramref name="x"/> of <paramref name="features"/>, early-stopped on <paramref name="xStop"/>.</summary>
    internal static IBoostedTrees Grow(TreeLibrary library, TreeFeatures features, DenseMatrix x, int[] y, BoostingOptions options, DenseMatrix xStop, int[] yStop) =>
        library == TreeLibrary.XGBoost
            ? GradientBoostedTrees.Train(x, y, options, xStop, yStop, features.Names, features.Categorical)
            : LightGbmTrees.Train(x, y, options, xStop, yStop, features.Names, features.Categorical);

    /// <inheritdoc/>
    public string Name => Library == TreeLibrary.XGBoost ? "boosting" : "lightgbm";

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => _features.Inputs;

    /// <inheritdoc/>
    public JsonObject? Curves => null;

    /// <inheritdoc/>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows) => _trees.Probabilities(_features.Transform(table, rows));

    /// <inheritdoc/>
    public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale)
    {
        var contributions = _trees.Contributions(_features.Transform(table, rows));
        var sources = _features.Sources;
        int width = sources.Count + 1;   // last column: the bias
        return Enumerable.Range(0, rows.Count).Select(i => new LearnerExplanation(
            Enumerable.Range(0, width - 1).Select(j => (sources[j], scale * contributions[i * width + j])).ToList(), null)).ToList();
    }

    /// <summary>The trees' total gain, summed over each column's features, as shares (the rows are not needed).</summary>
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
        if (Library == TreeLibrary.XGBoost)
        {
            parts["tree_features"] = _features.ToJson();
            AtomicFile.Write(Path.Combine(directory, TreesFile), s => s.Write(((GradientBoostedTrees)_trees).ToJson()));
        }
        else
        {
            parts["lightgbm_features"] = _features.ToJson();
            AtomicFile.Write(Path.Combine(directory, LightGbmFile), s => s.Write(((LightGbmTrees)_trees).ToText()));
        }
    }

    /// <summary>
    /// Reads the XGBoost learner from its field of <c>tabular.json</c> and <see cref="TreesFile"/> in
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
        return new BoostingLearner(TreeLibrary.XGBoost, features, trees);
    }

    /// <summary>Reads the LightGBM learner from its field of <c>tabular.json</c> and <see cref="LightGbmFile"/> in <paramref name="directory"/>.</summary>
    public static BoostingLearner LoadLightGbm(JsonFields parts, string directory)
    {
        var features = TreeFeatures.FromJson(parts.Object("lightgbm_features"));
        string path = Path.Combine(directory, LightGbmFile);
        if (!File.Exists(path)) throw new ModelFormatException(path, null, "the file is missing.");
        return new BoostingLearner(TreeLibrary.LightGbm, features, LightGbmTrees.FromText(File.ReadAllBytes(path), features.Names, features.Categorical, path));
    }

    /// <inheritdoc/>
    public void Dispose() => _trees.Dispose();
}
