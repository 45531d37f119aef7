using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Features;
using Jianwei.Models.Linear;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Pipeline;

/// <summary>Which learner a <see cref="TabularModel"/> fits.</summary>
public enum TabularLearner
{
    /// <summary>Logistic regression on standardized numbers, one-hot categories and TF-IDF of texts.</summary>
    Logistic,
    /// <summary>XGBoost on the table (native categoricals), early-stopped on 10 % of the training rows.</summary>
    Boosting,
    /// <summary>A logistic stacker over out-of-fold predictions of both.</summary>
    Stack,
}

/// <summary>Settings of <see cref="TabularModel.Fit"/>.</summary>
public sealed record TabularModelOptions
{
    /// <summary>The learner.</summary>
    public TabularLearner Learner { get; init; } = TabularLearner.Stack;
    /// <summary>Inner folds whose out-of-fold predictions train the stacker.</summary>
    public int StackFolds { get; init; } = 3;
    /// <summary>Boosting settings.</summary>
    public BoostingOptions Boosting { get; init; } = new();
    /// <summary>Regularization of the logistic regression (C, as in scikit-learn).</summary>
    public double LogisticC { get; init; } = 1;
    /// <summary>Seed of the inner splits.</summary>
    public int Seed { get; init; }
}

/// <summary>One feature's share in a prediction.</summary>
/// <param name="Feature">The input column.</param>
/// <param name="Contribution">Its additive effect on the log-odds (positive: towards the positive class).</param>
public sealed record Reason(string Feature, double Contribution);

/// <summary>
/// The classic learners as one fitted object: features fitted on training rows, the model(s), and for
/// stacking the stacker — able to score new tables, explain rows, rank features, and save itself as
/// JSON (features, logistic weights, stacker) plus XGBoost's own JSON.
/// </summary>
public sealed class TabularModel : IDisposable
{
    private const int FormatVersion = 1;
    private LinearFeatures? _linearFeatures;
    private LogisticRegression? _logistic;
    private TreeFeatures? _treeFeatures;
    private GradientBoostedTrees? _trees;
    private LogisticRegression? _stacker;   // over [logit(lr), logit(xgb)]

    /// <summary>The learner.</summary>
    public TabularLearner Learner { get; private set; }

    private TabularModel() { }

    /// <summary>Fits on <paramref name="trainRows"/> of <paramref name="table"/> with 0/1 <paramref name="labels"/> for every row of the table.</summary>
    public static TabularModel Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, IReadOnlyList<int> trainRows, TabularModelOptions? options = null)
    {
        options ??= new TabularModelOptions();
        var m = new TabularModel { Learner = options.Learner };
        var rows = trainRows.ToArray();
        if (options.Learner is TabularLearner.Logistic or TabularLearner.Stack) m.FitLogistic(table, schema, labels, rows, options);
        if (options.Learner is TabularLearner.Boosting or TabularLearner.Stack) m.FitTrees(table, schema, labels, rows, options);
        if (options.Learner == TabularLearner.Stack)
        {
            var folds = DataSplits.StratifiedKFold(rows.Select(r => labels[r]).ToArray(), options.StackFolds, options.Seed)
                .Select(f => new Fold(f.Index, f.Train.Select(i => rows[i]).ToArray(), f.Test.Select(i => rows[i]).ToArray())).ToList();
            FitPredict lr = (fit, predict) =>
            {
                var inner = new TabularModel(); inner.FitLogistic(table, schema, labels, fit, options);
                return inner.PredictLogistic(table, predict);
            };
            FitPredict xgb = (fit, predict) =>
            {
                using var inner = new TabularModel(); inner.FitTrees(table, schema, labels, fit, options);
                return inner.PredictTrees(table, predict);
            };
            var oof = new[] { lr, xgb }.Select(learner => { var all = CrossValidation.OutOfFold(folds, table.RowCount, learner); return rows.Select(r => all[r]).ToArray(); }).ToList();
            m._stacker = LogisticRegression.Fit(LogisticStacker.Logits(oof), rows.Select(r => labels[r]).ToArray(), new LogisticRegressionOptions(C: 1));
        }
        return m;
    }

    private void FitLogistic(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options)
    {
        _linearFeatures = LinearFeatures.Fit(table, schema, rows);
        _logistic = LogisticRegression.Fit(_linearFeatures.Transform(table, rows), rows.Select(r => labels[r]).ToArray(), new LogisticRegressionOptions(C: options.LogisticC));
    }

    private void FitTrees(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows.Select(r => labels[r]).ToArray(), 0.1, 0, options.Seed);
        int[] fit = inner.Train.Select(i => rows[i]).ToArray(), stop = inner.Validation.Select(i => rows[i]).ToArray();
        _treeFeatures = TreeFeatures.Fit(table, schema, fit);
        _trees = GradientBoostedTrees.Train(_treeFeatures.Transform(table, fit), fit.Select(r => labels[r]).ToArray(), options.Boosting,
            _treeFeatures.Transform(table, stop), stop.Select(r => labels[r]).ToArray(), _treeFeatures.Names, _treeFeatures.Categorical);
    }

    private double[] PredictLogistic(RawTable table, IReadOnlyList<int> rows) => _logistic!.PredictProbability(_linearFeatures!.Transform(table, rows));
    private double[] PredictTrees(RawTable table, IReadOnlyList<int> rows) => _trees!.PredictProbability(_treeFeatures!.Transform(table, rows)).Select(v => (double)v).ToArray();

    /// <summary>Probabilities of the positive class for <paramref name="rows"/>.</summary>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows) => Learner switch
    {
        TabularLearner.Logistic => PredictLogistic(table, rows),
        TabularLearner.Boosting => PredictTrees(table, rows),
        _ => _stacker!.PredictProbability(LogisticStacker.Logits([PredictLogistic(table, rows), PredictTrees(table, rows)])),
    };

    /// <summary>
    /// Each input column's contribution to the log-odds of each row: XGBoost's exact tree SHAP values,
    /// logistic regression's weight × feature value summed per column, and for the stack both scaled
    /// by the stacker's weights. Sorted by absolute size, at most <paramref name="top"/> per row.
    /// </summary>
    public List<Reason[]> Explain(RawTable table, IReadOnlyList<int> rows, int top = 5)
    {
        var perRow = rows.Select(_ => new Dictionary<string, double>(StringComparer.Ordinal)).ToList();
        double lrWeight = 1, xgbWeight = 1;
        if (_stacker is not null) { lrWeight = _stacker.Weights[0]; xgbWeight = _stacker.Weights[1]; }
        if (_logistic is not null)
        {
            var x = _linearFeatures!.Transform(table, rows);
            var sources = _linearFeatures.ColumnSources();
            for (int i = 0; i < rows.Count; i++)
                foreach (var (col, value) in x.Row(i))
                    Add(perRow[i], sources[col], lrWeight * _logistic.Weights[col] * value);
        }
        if (_trees is not null)
        {
            var contributions = _trees.PredictContributions(_treeFeatures!.Transform(table, rows));
            int width = _treeFeatures.Names.Count + 1;   // last column: the bias
            for (int i = 0; i < rows.Count; i++)
                for (int j = 0; j < width - 1; j++)
                    Add(perRow[i], _treeFeatures.Names[j], xgbWeight * contributions[i * width + j]);
        }
        return perRow.Select(d => d.Where(kv => kv.Value != 0).OrderByDescending(kv => Math.Abs(kv.Value)).Take(top).Select(kv => new Reason(kv.Key, kv.Value)).ToArray()).ToList();

        static void Add(Dictionary<string, double> d, string key, double v) => d[key] = d.GetValueOrDefault(key) + v;
    }

    /// <summary>
    /// Importance of each input column, normalized to sum 1: XGBoost's total gain, the logistic
    /// regression's mean |weight × value| on <paramref name="table"/> (the stack averages both).
    /// </summary>
    public Dictionary<string, double> Importance(RawTable table, IReadOnlyList<int> rows)
    {
        var parts = new List<Dictionary<string, double>>();
        if (_trees is not null) parts.Add(Normalize(_trees.GainImportance()));
        if (_logistic is not null)
        {
            var x = _linearFeatures!.Transform(table, rows);
            var sources = _linearFeatures.ColumnSources();
            var d = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int i = 0; i < rows.Count; i++)
                foreach (var (col, value) in x.Row(i)) d[sources[col]] = d.GetValueOrDefault(sources[col]) + Math.Abs(_logistic.Weights[col] * value);
            parts.Add(Normalize(d));
        }
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in parts) foreach (var (k, v) in p) result[k] = result.GetValueOrDefault(k) + v / parts.Count;
        return result;

        static Dictionary<string, double> Normalize(Dictionary<string, double> d)
        {
            double total = d.Values.Sum();
            return d.ToDictionary(kv => kv.Key, kv => total > 0 ? kv.Value / total : 0);
        }
    }

    /// <summary>Writes <c>tabular.json</c> (and <c>xgboost.json</c> when trees are used) into <paramref name="directory"/>, each atomically.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var json = new JsonObject { ["format_version"] = FormatVersion, ["learner"] = Learner.ToString() };
        if (_linearFeatures is not null)
        {
            json["linear_features"] = _linearFeatures.ToJson();
            json["logistic"] = WeightsJson(_logistic!);
        }
        if (_treeFeatures is not null)
        {
            json["tree_features"] = _treeFeatures.ToJson();
            AtomicFile.Write(Path.Combine(directory, "xgboost.json"), s => s.Write(_trees!.ToJson()));
        }
        if (_stacker is not null) json["stacker"] = WeightsJson(_stacker);
        AtomicFile.WriteAllText(Path.Combine(directory, "tabular.json"), json.ToJsonString());
    }

    /// <summary>Reads what <see cref="Save"/> wrote; errors name the file and what is wrong.</summary>
    public static TabularModel Load(string directory)
    {
        string path = Path.Combine(directory, "tabular.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: no tabular.json.", path);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new FormatException("empty"); }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException) { throw new FormatException($"{path}: not a tabular model ({e.Message})."); }
        int version = json["format_version"]?.GetValue<int>() ?? 0;
        if (version != FormatVersion) throw new FormatException($"{path}: format version {version}, this build reads {FormatVersion}.");
        var m = new TabularModel { Learner = Enum.Parse<TabularLearner>(json["learner"]!.GetValue<string>()) };
        if (json["linear_features"] is JsonObject lf)
        {
            m._linearFeatures = LinearFeatures.FromJson(lf);
            m._logistic = ReadWeights(json["logistic"]!.AsObject());
        }
        if (json["tree_features"] is JsonObject tf)
        {
            m._treeFeatures = TreeFeatures.FromJson(tf);
            m._trees = GradientBoostedTrees.FromJson(File.ReadAllBytes(Path.Combine(directory, "xgboost.json")));
        }
        if (json["stacker"] is JsonObject st) m._stacker = ReadWeights(st);
        return m;
    }

    private static JsonObject WeightsJson(LogisticRegression lr) => new()
    {
        ["intercept"] = lr.Intercept,
        ["weights"] = new JsonArray(lr.Weights.Select(w => (JsonNode)w).ToArray()),
    };

    private static LogisticRegression ReadWeights(JsonObject o) =>
        LogisticRegression.FromWeights(o["weights"]!.AsArray().Select(w => w!.GetValue<double>()).ToArray(), o["intercept"]!.GetValue<double>());

    /// <inheritdoc/>
    public void Dispose() => _trees?.Dispose();
}
