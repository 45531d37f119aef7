using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Features;
using Jianwei.Models.Logistic;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Pipeline;

/// <summary>Which learner a <see cref="TabularModel"/> fits.</summary>
public enum TabularLearner
{
    /// <summary>Logistic regression on standardized numbers, one-hot categories and TF-IDF of texts.</summary>
    Logistic,
    /// <summary>XGBoost on the table (native categoricals) and the most frequent TF-IDF terms of each text column, early-stopped on 10 % of the training rows.</summary>
    Boosting,
    /// <summary>A logistic stacker over out-of-fold predictions of both.</summary>
    Stack,
    /// <summary>The co-pretrained multimodal transformer (needs a text column).</summary>
    Multimodal,
    /// <summary>The co-pretrained multimodal transformer and XGBoost, joined by a logistic stacker fitted on held-out rows.</summary>
    MultimodalStack,
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
    /// <summary>TF-IDF terms per text column that XGBoost sees (0: the table only).</summary>
    public int BoostingTextTerms { get; init; } = 100;
    /// <summary>Regularization of the logistic regression (C, as in scikit-learn).</summary>
    public double LogisticC { get; init; } = 1;
    /// <summary>Seed of the inner splits.</summary>
    public int Seed { get; init; }
    /// <summary>Settings of the multimodal learners.</summary>
    public MultimodalLearnerOptions Multimodal { get; init; } = new();
    /// <summary>Share of training rows the multimodal learners hold out for early stopping (and the stacker).</summary>
    public double MultimodalValidationFraction { get; init; } = 0.15;
}

/// <summary>A row's reasons and, for the multimodal learners, its text pieces' contributions per text column.</summary>
public sealed record Explanation(Reason[] Reasons, IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>? Tokens);

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
    private const string MultimodalDirectory = "multimodal";
    private LinearFeatures? _linearFeatures;
    private LogisticRegression? _logistic;
    private TreeFeatures? _treeFeatures;
    private GradientBoostedTrees? _trees;
    private MultimodalLearner? _multimodal;
    private LogisticRegression? _stacker;   // over [logit(lr), logit(xgb)], or [logit(multimodal), logit(xgb)]

    /// <summary>The learner.</summary>
    public TabularLearner Learner { get; private set; }

    private TabularModel() { }

    /// <summary>
    /// Fits on <paramref name="trainRows"/> of <paramref name="table"/> with 0/1 <paramref name="labels"/> for
    /// every row of the table. The multimodal learners also co-pretrain on <paramref name="unlabeledRows"/>.
    /// </summary>
    public static TabularModel Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, IReadOnlyList<int> trainRows, TabularModelOptions? options = null,
                                   IReadOnlyList<int>? unlabeledRows = null)
    {
        options ??= new TabularModelOptions();
        var m = new TabularModel { Learner = options.Learner };
        var rows = trainRows.ToArray();
        if (options.Learner is TabularLearner.Multimodal or TabularLearner.MultimodalStack)
        {
            m.FitMultimodal(table, schema, labels, rows, options, unlabeledRows?.ToArray() ?? []);
            return m;
        }
        if (options.Learner is TabularLearner.Logistic or TabularLearner.Stack) m.FitLogistic(table, schema, labels, rows, options);
        if (options.Learner is TabularLearner.Boosting or TabularLearner.Stack) m.FitTrees(table, schema, labels, rows, options);
        if (options.Learner == TabularLearner.Stack)
        {
            var folds = DataSplits.StratifiedKFold(rows, labels, options.StackFolds, options.Seed);
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

    private void FitMultimodal(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options, int[] unlabeled)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows, labels, options.MultimodalValidationFraction, 0, options.Seed);
        int[] fit = inner.Train, valid = inner.Validation;
        _multimodal = MultimodalLearner.Fit(table, schema, labels, fit, valid, unlabeled, options.Multimodal with { Seed = options.Seed });
        if (options.Learner != TabularLearner.MultimodalStack) return;
        options.Multimodal.Progress?.WriteLine($"boosting on {fit.Length:N0} rows, then stacking on {valid.Length:N0} held-out rows ...");
        FitTrees(table, schema, labels, fit, options);
        // Neither base learner trained on the held-out rows: the stacker learns how far to trust each.
        double[][] held = [_multimodal.Predict(table, valid), PredictTrees(table, valid)];
        var y = valid.Select(r => labels[r]).ToArray();
        _stacker = LogisticRegression.Fit(LogisticStacker.Logits(held), y, new LogisticRegressionOptions(C: 1));
        if (_stacker.Weights.All(w => w > 0)) return;
        // A negative weight means the held-out rows are too few to tell the learners apart (it would
        // rank by the opposite of a learner that beats chance): keep the better one alone, rescaled.
        int keep = _stacker.Weights[0] >= _stacker.Weights[1] ? 0 : 1;
        var single = LogisticRegression.Fit(LogisticStacker.Logits([held[keep]]), y, new LogisticRegressionOptions(C: 1));
        var weights = new double[2];
        weights[keep] = Math.Max(single.Weights[0], 1e-3);
        _stacker = LogisticRegression.FromWeights(weights, single.Intercept);
    }

    private void FitLogistic(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options)
    {
        _linearFeatures = LinearFeatures.Fit(table, schema, rows);
        _logistic = LogisticRegression.Fit(_linearFeatures.Transform(table, rows), rows.Select(r => labels[r]).ToArray(), new LogisticRegressionOptions(C: options.LogisticC));
    }

    private void FitTrees(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows, labels, 0.1, 0, options.Seed);
        int[] fit = inner.Train, stop = inner.Validation;
        _treeFeatures = TreeFeatures.Fit(table, schema, fit, termsPerText: options.BoostingTextTerms);
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
        TabularLearner.Multimodal => _multimodal!.Predict(table, rows),
        TabularLearner.MultimodalStack => _stacker!.PredictProbability(LogisticStacker.Logits([_multimodal!.Predict(table, rows), PredictTrees(table, rows)])),
        _ => _stacker!.PredictProbability(LogisticStacker.Logits([PredictLogistic(table, rows), PredictTrees(table, rows)])),
    };

    /// <summary>
    /// Each input column's contribution to the log-odds of each row: XGBoost's exact tree SHAP values,
    /// logistic regression's weight × feature value summed per column, the multimodal transformer's
    /// Integrated Gradients, and for a stack each scaled by the stacker's weights. Sorted by absolute
    /// size, at most <paramref name="top"/> per row.
    /// </summary>
    public List<Reason[]> Explain(RawTable table, IReadOnlyList<int> rows, int top = 5) => ExplainRows(table, rows, top).Select(e => e.Reasons).ToList();

    /// <summary>
    /// <see cref="Explain"/> with, for the multimodal learners, each text piece's contribution (scaled
    /// like its column's), for highlighting.
    /// </summary>
    public List<Explanation> ExplainRows(RawTable table, IReadOnlyList<int> rows, int top = 5)
    {
        var perRow = rows.Select(_ => new Dictionary<string, double>(StringComparer.Ordinal)).ToList();
        var tokens = new IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>?[rows.Count];
        double firstWeight = 1, xgbWeight = 1;   // the stacker's weight on each base learner's logit
        if (_stacker is not null) { firstWeight = _stacker.Weights[0]; xgbWeight = _stacker.Weights[1]; }
        if (_logistic is not null)
        {
            var x = _linearFeatures!.Transform(table, rows);
            var sources = _linearFeatures.ColumnSources();
            for (int i = 0; i < rows.Count; i++)
                foreach (var (col, value) in x.Row(i))
                    Add(perRow[i], sources[col], firstWeight * _logistic.Weights[col] * value);
        }
        if (_multimodal is not null)
        {
            var explained = _multimodal.Explain(table, rows);
            for (int i = 0; i < rows.Count; i++)
            {
                foreach (var (column, value) in explained[i].Columns) Add(perRow[i], column, firstWeight * value);
                tokens[i] = explained[i].Tokens.ToDictionary(kv => kv.Key,
                    kv => (IReadOnlyList<TokenContribution>)kv.Value.Select(t => t with { Contribution = firstWeight * t.Contribution }).ToList());
            }
        }
        if (_trees is not null)
        {
            var contributions = _trees.PredictContributions(_treeFeatures!.Transform(table, rows));
            var sources = _treeFeatures.Sources;
            int width = sources.Count + 1;   // last column: the bias
            for (int i = 0; i < rows.Count; i++)
                for (int j = 0; j < width - 1; j++)
                    Add(perRow[i], sources[j], xgbWeight * contributions[i * width + j]);
        }
        return perRow.Select((d, i) => new Explanation(
            d.Where(kv => kv.Value != 0).OrderByDescending(kv => Math.Abs(kv.Value)).Take(top).Select(kv => new Reason(kv.Key, kv.Value)).ToArray(), tokens[i])).ToList();

        static void Add(Dictionary<string, double> d, string key, double v) => d[key] = d.GetValueOrDefault(key) + v;
    }

    /// <summary>How <see cref="Importance"/> measures for this learner, in words for reports.</summary>
    public string ImportanceKind => Learner switch
    {
        TabularLearner.Boosting => "XGBoost total gain (share)",
        TabularLearner.Logistic => "mean |weight × value| (share)",
        TabularLearner.Stack => "mean of XGBoost gain share and LR |weight × value| share",
        _ => "permutation importance (ROC-AUC drop, share)",
    };

    /// <summary>Training curves of the learners that have them (name → values by step or epoch).</summary>
    public JsonObject? Curves => _multimodal?.CurvesJson();

    /// <summary>
    /// Importance of each input column, normalized to sum 1: XGBoost's total gain, the logistic
    /// regression's mean |weight × value| on <paramref name="table"/> (the stack averages both). The
    /// multimodal learners use permutation importance on up to <paramref name="permutationRows"/> of
    /// <paramref name="rows"/>: the ROC-AUC lost when one column's values are shuffled among them
    /// (against <paramref name="labels"/>, one per row of <paramref name="rows"/>; without labels, the
    /// mean absolute change of the log-odds).
    /// </summary>
    public Dictionary<string, double> Importance(RawTable table, IReadOnlyList<int> rows, IReadOnlyList<int>? labels = null, int permutationRows = 500, int seed = 0)
    {
        if (_multimodal is not null) return PermutationImportance(table, rows, labels, permutationRows, seed);
        var parts = new List<Dictionary<string, double>>();
        if (_trees is not null)
        {
            var source = _treeFeatures!.Names.Zip(_treeFeatures.Sources).ToDictionary(x => x.First, x => x.Second, StringComparer.Ordinal);
            var gain = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, value) in _trees.GainImportance()) gain[source[name]] = gain.GetValueOrDefault(source[name]) + value;
            parts.Add(Normalize(gain));
        }
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

    private Dictionary<string, double> PermutationImportance(RawTable table, IReadOnlyList<int> rows, IReadOnlyList<int>? labels, int limit, int seed)
    {
        var pick = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(pick);
        pick = pick.Take(limit).Order().ToArray();
        var sample = new RawTable(table.Source, table.Header, pick.Select(i => table.Rows[rows[i]]).ToList(), pick.Select(i => table.Lines[rows[i]]).ToList());
        var y = labels is null ? null : pick.Select(i => labels[i]).ToArray();
        bool byAuc = y is not null && y.Distinct().Count() == 2;
        var all = Enumerable.Range(0, sample.RowCount).ToArray();
        var reference = Predict(sample, all);
        double referenceAuc = byAuc ? Evaluation.Metrics.RocAuc(reference, y!) : 0;
        var columns = _multimodal!.Data.Features.InputColumns.Concat(_multimodal.Data.TextColumns).Distinct().ToList();
        var raw = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            int c = sample.IndexOf(column);
            if (c < 0) continue;
            var order = all.ToArray();
            new Random(seed + c + 1).Shuffle(order);
            var shuffled = new RawTable(sample.Source, sample.Header,
                sample.Rows.Select((r, i) => { var copy = (string[])r.Clone(); copy[c] = sample.Rows[order[i]][c]; return copy; }).ToList(), sample.Lines);
            var p = Predict(shuffled, all);
            raw[column] = byAuc ? Math.Max(0, referenceAuc - Evaluation.Metrics.RocAuc(p, y!))
                                : p.Select((v, i) => Math.Abs(Logit(v) - Logit(reference[i]))).Average();
        }
        double total = raw.Values.Sum();
        return raw.ToDictionary(kv => kv.Key, kv => total > 0 ? kv.Value / total : 0);

        static double Logit(double p) { p = Math.Clamp(p, 1e-9, 1 - 1e-9); return Math.Log(p / (1 - p)); }
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
        if (_multimodal is not null)
        {
            _multimodal.Save(Path.Combine(directory, MultimodalDirectory));
            json["multimodal"] = MultimodalDirectory;
        }
        if (_stacker is not null) json["stacker"] = WeightsJson(_stacker);
        AtomicFile.WriteAllText(Path.Combine(directory, "tabular.json"), json.ToJsonString());
    }

    /// <summary>
    /// Reads what <see cref="Save"/> wrote and checks that its parts fit together: the learner has
    /// exactly the parts it uses, the logistic weights match the features' columns, the trees split on
    /// the tree features (same names, same types), the stacker weighs two learners. Every problem is a
    /// <see cref="ModelFormatException"/> naming the file and the field.
    /// </summary>
    public static TabularModel Load(string directory)
    {
        string path = Path.Combine(directory, "tabular.json");
        var json = JsonFields.Load(path);
        int version = json.Int("format_version");
        if (version != FormatVersion) throw json.Error("format_version", $"{version}; this build reads {FormatVersion}.");
        var learner = json.Enum<TabularLearner>("learner");
        bool linear = learner is TabularLearner.Logistic or TabularLearner.Stack;
        bool trees = learner is TabularLearner.Boosting or TabularLearner.Stack or TabularLearner.MultimodalStack;
        bool multimodal = learner is TabularLearner.Multimodal or TabularLearner.MultimodalStack;
        bool stacker = learner is TabularLearner.Stack or TabularLearner.MultimodalStack;
        foreach (var (part, needed) in new[] { ("linear_features", linear), ("logistic", linear), ("tree_features", trees), ("multimodal", multimodal), ("stacker", stacker) })
            if (json.Has(part) != needed) throw json.Error(part, needed ? $"missing (the {learner} learner needs it)." : $"present, but the {learner} learner has no such part.");
        var m = new TabularModel { Learner = learner };
        try
        {
            if (linear)
            {
                m._linearFeatures = LinearFeatures.FromJson(json.Object("linear_features"));
                m._logistic = ReadWeights(json.Object("logistic"), m._linearFeatures.Columns);
            }
            if (trees)
            {
                m._treeFeatures = TreeFeatures.FromJson(json.Object("tree_features"));
                string xgb = Path.Combine(directory, "xgboost.json");
                if (!File.Exists(xgb)) throw new ModelFormatException(xgb, null, "the file is missing.");
                m._trees = GradientBoostedTrees.FromJson(File.ReadAllBytes(xgb), xgb);
                if (!m._trees.FeatureNames.SequenceEqual(m._treeFeatures.Names) || !m._trees.Categorical.SequenceEqual(m._treeFeatures.Categorical))
                    throw new ModelFormatException(xgb, "learner.feature_names", $"the trees' {m._trees.FeatureNames.Count} features are not the {m._treeFeatures.Width} tree features of {Path.GetFileName(path)} (names and types must match, in order).");
            }
            if (multimodal)
            {
                if (json.String("multimodal") != MultimodalDirectory) throw json.Error("multimodal", $"'{json.String("multimodal")}'; expected '{MultimodalDirectory}'.");
                m._multimodal = MultimodalLearner.Load(Path.Combine(directory, MultimodalDirectory));
            }
            if (stacker) m._stacker = ReadWeights(json.Object("stacker"), 2);
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    /// <summary>The table columns the model reads, with the type each is read as.</summary>
    public IEnumerable<(string Name, ColumnType Type)> Inputs =>
        (_linearFeatures?.Inputs ?? []).Concat(_treeFeatures?.Inputs ?? [])
        .Concat(_multimodal is null ? [] : _multimodal.Data.Features.Inputs.Concat(_multimodal.Data.TextColumns.Select(c => (c, ColumnType.Text))))
        .Distinct();

    private static JsonObject WeightsJson(LogisticRegression lr) => new()
    {
        ["intercept"] = lr.Intercept,
        ["weights"] = new JsonArray(lr.Weights.Select(w => (JsonNode)w).ToArray()),
    };

    private static LogisticRegression ReadWeights(JsonFields o, int count) => LogisticRegression.FromWeights(o.Numbers("weights", count), o.Number("intercept"));

    /// <inheritdoc/>
    public void Dispose() => _trees?.Dispose();
}
