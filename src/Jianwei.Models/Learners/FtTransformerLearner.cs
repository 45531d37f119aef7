using System.Globalization;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Features;
using Jianwei.Models.Neural;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Learners;

/// <summary>
/// The FT-Transformer on a table's numbers and categories (<see cref="TokenFeatures"/>: rank-Gauss numbers
/// with missing indicators, category ids; texts set aside), early-stopped on a stratified 10 % of its
/// training rows. Its explanation is Integrated Gradients on the feature tokens, from the value-free row.
/// Saved as its fields in <c>tabular.json</c> and <see cref="WeightsFile"/> (safetensors).
/// </summary>
public sealed class FtTransformerLearner : ILearner
{
    /// <summary>Steps an epoch has at least, table size permitting (batches of at least 32 rows).</summary>
    public const int MinimumStepsPerEpoch = 16;

    /// <summary>The weight file, beside <c>tabular.json</c>.</summary>
    public const string WeightsFile = "ft_transformer.safetensors";
    private readonly TokenFeatures _features;
    private readonly FtTransformer _model;

    private FtTransformerLearner(TokenFeatures features, FtTransformer model) { _features = features; _model = model; }

    /// <summary>The network.</summary>
    public FtTransformer Model => _model;

    /// <summary>How rows become its inputs.</summary>
    public TokenFeatures Features => _features;

    /// <summary>
    /// Fits on <paramref name="rows"/> of <paramref name="table"/> (0/1 <paramref name="labels"/> for every row of the table): 90 % train, 10 % (stratified by
    /// the options' seed) stop. <see cref="FtTransformerOptions.BatchSize"/> is a ceiling: a small table gets smaller batches, so that an epoch
    /// has at least <see cref="MinimumStepsPerEpoch"/> steps (with 4 steps an epoch, patience ran out before the model had learned anything on 1,200 companies).
    /// </summary>
    public static FtTransformerLearner Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, FtTransformerOptions options)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows, labels, 0.1, 0, options.Seed);
        options = options with { BatchSize = Math.Min(options.BatchSize, Math.Max(32, inner.Train.Length / MinimumStepsPerEpoch)) };
        var features = TokenFeatures.Fit(table, schema, inner.Train);
        var model = new FtTransformer(features.NumericCount, features.CategorySizes, options, features.NumericWidth);
        model.Fit(features.Transform(table, inner.Train), inner.Train.Select(r => labels[r]).ToArray(),
                  features.Transform(table, inner.Validation), inner.Validation.Select(r => labels[r]).ToArray());
        return new FtTransformerLearner(features, model);
    }

    /// <inheritdoc/>
    public string Name => "ft-transformer";

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => _features.Inputs;

    /// <inheritdoc/>
    public JsonObject? Curves => null;

    /// <inheritdoc/>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows) => _model.PredictProbability(_features.Transform(table, rows));

    /// <summary>Integrated Gradients per input column (a number and its missing indicator add up), scaled.</summary>
    public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale)
    {
        var inputs = _features.Transform(table, rows);
        var columns = _features.InputColumns;
        return Enumerable.Range(0, rows.Count).Select(i =>
        {
            var a = _model.IntegratedGradients(inputs, i);
            return new LearnerExplanation(columns.Select((c, j) => (c, scale * a.Features[j])).ToList(), null);
        }).ToList();
    }

    /// <summary>None of its own: a network's importance is measured by permutation.</summary>
    public Dictionary<string, double>? Importance(RawTable table, IReadOnlyList<int> rows) => null;

    /// <summary>Writes its fields (features and architecture) into <paramref name="parts"/> and <see cref="WeightsFile"/> into <paramref name="directory"/>.</summary>
    public void Save(JsonObject parts, string directory)
    {
        var o = _model.Options;
        parts["ft_transformer"] = new JsonObject
        {
            ["features"] = _features.ToJson(),
            ["dim"] = o.Dim, ["layers"] = o.Layers, ["heads"] = o.Heads, ["feed_forward_multiple"] = o.FeedForwardMultiple,
            ["weights"] = WeightsFile,
        };
        SafetensorsWriter.Save(Path.Combine(directory, WeightsFile), _model.StateDict(), metadata: new Dictionary<string, string> { ["format"] = "jianwei-ft-transformer" });
    }

    /// <summary>
    /// Reads what <see cref="Save"/> wrote: the architecture within bounds and no larger than the weight
    /// file (checked before allocating), then every weight's name, shape and finiteness.
    /// </summary>
    public static FtTransformerLearner Load(JsonFields parts, string directory)
    {
        var json = parts.Object("ft_transformer");
        var features = TokenFeatures.FromJson(json.Object("features"));
        int dim = json.Int("dim", 1, 4096), layers = json.Int("layers", 1, 64), heads = json.Int("heads", 1, 64), ff = json.Int("feed_forward_multiple", 1, 16);
        if (dim % heads != 0) throw json.Error("heads", $"{heads} heads do not divide the width {dim}.");
        string named = json.String("weights");
        if (named != WeightsFile) throw json.Error("weights", $"'{named}'; expected '{WeightsFile}'.");
        string path = Path.Combine(directory, WeightsFile);
        var file = WeightFile.Open(path);
        long needed = (long)layers * (4 + 2 * ff) * dim * dim;
        if (needed > WeightFile.FloatCount(file))
            throw json.Error(null, string.Create(CultureInfo.InvariantCulture, $"describes a model of at least {needed:N0} weights, but {WeightsFile} holds {WeightFile.FloatCount(file):N0}."));
        var model = new FtTransformer(features.NumericCount, features.CategorySizes, new FtTransformerOptions { Dim = dim, Layers = layers, Heads = heads, FeedForwardMultiple = ff }, features.NumericWidth);
        WeightFile.LoadInto(model, file, path);
        model.Eval();
        return new FtTransformerLearner(features, model);
    }

    /// <summary>Nothing to release: the network lives in managed memory.</summary>
    public void Dispose() { }
}
