using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Multimodal;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Pipeline;

/// <summary>Presets: how much a newcomer's model is worth waiting for.</summary>
public enum Preset
{
    /// <summary>Logistic regression (seconds).</summary>
    Fast,
    /// <summary>Logistic regression and XGBoost stacked over 3 inner folds.</summary>
    Balanced,
    /// <summary>
    /// The co-pretrained multimodal transformer stacked with XGBoost when the table has a text column
    /// (minutes: co-pretraining on labeled and unlabeled rows, then fine-tuning); without text, the
    /// LR + XGBoost stack over 5 inner folds with slower, finer boosting.
    /// </summary>
    Best,
}

/// <summary>Settings of <see cref="ModelBundle.Train"/>.</summary>
public sealed record BundleTrainingOptions
{
    /// <summary>The preset.</summary>
    public Preset Preset { get; init; } = Preset.Balanced;
    /// <summary>Share of labeled rows held out (stratified) for the reported metrics and the threshold.</summary>
    public double ValidationFraction { get; init; } = 0.2;
    /// <summary>Seed of the split and the learners.</summary>
    public int Seed { get; init; }

    /// <summary>Settings of the multimodal learner (the best preset on tables with text).</summary>
    public MultimodalLearnerOptions Multimodal { get; init; } = new();

    /// <summary>The learner settings a preset stands for, on a table whose schema is <paramref name="schema"/>.</summary>
    public TabularModelOptions ModelOptions(TableSchema schema) => Preset switch
    {
        Preset.Fast => new TabularModelOptions { Learner = TabularLearner.Logistic, Seed = Seed },
        Preset.Balanced => new TabularModelOptions { Learner = TabularLearner.Stack, StackFolds = 3, Seed = Seed },
        _ when HasText(schema) => new TabularModelOptions { Learner = TabularLearner.MultimodalStack, Seed = Seed, Multimodal = Multimodal },
        _ => new TabularModelOptions { Learner = TabularLearner.Stack, StackFolds = 5, Seed = Seed, Boosting = new() { LearningRate = 0.02, MaxRounds = 5000, EarlyStoppingRounds = 100 } },
    };

    private static bool HasText(TableSchema schema) => schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type == ColumnType.Text);
}

/// <summary>
/// A trained model as one directory: <c>manifest.json</c> (format version, creation time, schema,
/// label and positive class, threshold, training settings, validation metrics, a fingerprint of the
/// training data) and the model's own files (<c>tabular.json</c>, <c>xgboost.json</c>). Loading checks
/// the version and never executes anything from the bundle; saving writes a new directory and swaps
/// it in, so a crash never leaves half a bundle.
/// </summary>
public sealed class ModelBundle : IDisposable
{
    /// <summary>The manifest's format version this build writes and reads.</summary>
    public const int FormatVersion = 1;
    private const string ManifestFile = "manifest.json";

    /// <summary>The schema rows must follow (label included).</summary>
    public required TableSchema Schema { get; init; }
    /// <summary>Probability at or above which a row is labeled positive.</summary>
    public required double Threshold { get; init; }
    /// <summary>The model.</summary>
    public required TabularModel Model { get; init; }
    /// <summary>Validation metrics at training time (roc_auc, pr_auc, ks, accuracy, f1, log_loss, brier).</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>Training settings and facts (preset, learner, rows, seconds).</summary>
    public required JsonObject Training { get; init; }
    /// <summary>SHA-256 of the training file.</summary>
    public required string DataFingerprint { get; init; }
    /// <summary>UTC creation time.</summary>
    public required DateTime Created { get; init; }

    /// <summary>The identifier column (copied to predictions), if the schema has one.</summary>
    public string? IdColumn => Schema.WithRole(ColumnRole.Identifier).FirstOrDefault()?.Name;

    /// <summary>
    /// Trains on the labeled rows of <paramref name="table"/> (read from <paramref name="sourcePath"/>):
    /// a stratified hold-out gives the metrics and the threshold (best F1); the model keeps the rest.
    /// </summary>
    public static ModelBundle Train(RawTable table, TableSchema schema, string sourcePath, BundleTrainingOptions options, TextWriter? log = null)
    {
        if (schema.Label is null) throw new ArgumentException("the schema names no label column.");
        int li = table.IndexOf(schema.Label);
        if (li < 0) throw new DataFormatException(table.Source, 1, schema.Label, "the label column is missing.");
        var parser = new ValueParser(schema.MissingMarkers);
        var labeledRows = Enumerable.Range(0, table.RowCount).Where(r => !parser.IsMissing(table.Rows[r][li])).ToArray();
        var unlabeledRows = Enumerable.Range(0, table.RowCount).Where(r => parser.IsMissing(table.Rows[r][li])).ToArray();
        var labels = table.Rows.Select(r => r[li].Trim() == schema.PositiveClass ? 1 : 0).ToArray();
        int positives = labeledRows.Count(r => labels[r] == 1);
        if (positives == 0 || positives == labeledRows.Length)
            throw new DataFormatException(table.Source, null, schema.Label, $"the label has a single class among {labeledRows.Length} labeled rows (positive class '{schema.PositiveClass}').");
        var split = DataSplits.StratifiedTrainValidTest(labeledRows.Select(r => labels[r]).ToArray(), options.ValidationFraction, 0, options.Seed);
        int[] train = split.Train.Select(i => labeledRows[i]).ToArray(), valid = split.Validation.Select(i => labeledRows[i]).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var modelOptions = options.ModelOptions(schema);
        if (modelOptions.Multimodal.Progress is null && log is not null) modelOptions = modelOptions with { Multimodal = modelOptions.Multimodal with { Progress = log } };
        bool selfSupervised = modelOptions.Learner is TabularLearner.Multimodal or TabularLearner.MultimodalStack;
        log?.WriteLine($"training {LearnerName(modelOptions.Learner)} ({options.Preset.ToString().ToLowerInvariant()} preset) on {train.Length:N0} rows"
                       + (selfSupervised && unlabeledRows.Length > 0 ? $" (+{unlabeledRows.Length:N0} unlabeled for co-pretraining)" : "") + $", validating on {valid.Length:N0} ...");
        var model = TabularModel.Fit(table, schema, labels, train, modelOptions, unlabeledRows);
        var p = model.Predict(table, valid);
        var y = valid.Select(r => labels[r]).ToArray();
        var best = Evaluation.Metrics.BestF1(p, y);
        var metrics = Summarize(p, y, best.Threshold);
        var training = new JsonObject
        {
            ["preset"] = options.Preset.ToString().ToLowerInvariant(), ["learner"] = LearnerName(modelOptions.Learner),
            ["train_rows"] = train.Length, ["validation_rows"] = valid.Length, ["unlabeled_rows"] = selfSupervised ? unlabeledRows.Length : 0,
            ["seed"] = options.Seed, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            ["source"] = Path.GetFileName(sourcePath), ["curves"] = model.Curves,
        };
        if (selfSupervised) training["fine_tuning"] = FineTuningSettings(modelOptions.Multimodal);
        return new ModelBundle
        {
            Schema = schema, Threshold = best.Threshold, Model = model, Metrics = metrics, Created = DateTime.UtcNow,
            DataFingerprint = Fingerprint(sourcePath),
            Training = training,
        };
    }

    /// <summary>The multimodal fine-tuning settings a manifest records, so a bundle says how it was trained.</summary>
    private static JsonObject FineTuningSettings(MultimodalLearnerOptions options)
    {
        var f = options.FineTune;
        return new JsonObject
        {
            ["optimizer"] = f.Optimizer.ToString().ToLowerInvariant(), ["learning_rate"] = f.LearningRate, ["max_epochs"] = f.MaxEpochs, ["patience"] = f.Patience,
            ["freeze_epochs"] = f.FreezeEpochs, ["fgm_epsilon"] = f.AdversarialEpsilon, ["rdrop_weight"] = f.ConsistencyWeight,
            ["metric_loss"] = f.ContrastiveWeight > 0 ? f.Contrastive.ToString().ToLowerInvariant() : "none", ["metric_loss_weight"] = f.ContrastiveWeight,
            ["dropout_schedule"] = f.DropoutSchedule.ToString().ToLowerInvariant(), ["dropout_schedule_epochs"] = f.DropoutScheduleEpochs,
            ["weight_average_decay"] = f.WeightAverageDecay, ["head_layers"] = options.HeadLayers,
        };
    }

    /// <summary>The learner's name in manifests and messages: "logistic", "boosting", "stack", "multimodal", "multimodal-stack".</summary>
    public static string LearnerName(TabularLearner learner) => learner == TabularLearner.MultimodalStack ? "multimodal-stack" : learner.ToString().ToLowerInvariant();

    /// <summary>The standard metrics of probabilities <paramref name="p"/> against labels <paramref name="y"/> at a threshold.</summary>
    public static Dictionary<string, double> Summarize(IReadOnlyList<double> p, IReadOnlyList<int> y, double threshold)
    {
        var at = Evaluation.Metrics.At(p, y, threshold);
        return new Dictionary<string, double>
        {
            ["roc_auc"] = Evaluation.Metrics.RocAuc(p, y), ["pr_auc"] = Evaluation.Metrics.PrAuc(p, y), ["ks"] = Evaluation.Metrics.Ks(p, y),
            ["accuracy"] = at.Accuracy, ["f1"] = at.F1, ["precision"] = at.Precision, ["recall"] = at.Recall,
            ["log_loss"] = Evaluation.Metrics.LogLoss(p, y), ["brier"] = Evaluation.Metrics.Brier(p, y), ["rows"] = y.Count, ["positive_rate"] = y.Average(),
        };
    }

    /// <summary>SHA-256 of a file, hex.</summary>
    public static string Fingerprint(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>Scores the rows of a table that follows the schema (the label may be absent); errors name the column.</summary>
    public double[] Score(RawTable table)
    {
        Schema.CheckHeader(table.Header, table.Source, needLabel: false);
        return Model.Predict(table, Enumerable.Range(0, table.RowCount).ToArray());
    }

    /// <summary>Writes the bundle to <paramref name="directory"/>: built beside it, then swapped in.</summary>
    public void Save(string directory)
    {
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            Model.Save(staging);
            var manifest = new JsonObject
            {
                ["format"] = "jianwei-bundle", ["format_version"] = FormatVersion, ["created"] = Created.ToString("O", CultureInfo.InvariantCulture),
                ["label"] = Schema.Label, ["positive_class"] = Schema.PositiveClass, ["threshold"] = Threshold,
                ["schema"] = JsonNode.Parse(Schema.ToJson()), ["training"] = Training.DeepClone(), ["data_fingerprint"] = DataFingerprint,
                ["metrics"] = new JsonObject(Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 6)))),
                ["files"] = new JsonArray(Directory.GetFiles(staging, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(staging, f).Replace('\\', '/'))
                                                   .Order(StringComparer.Ordinal).Select(f => (JsonNode)f).ToArray()),
            };
            AtomicFile.WriteAllText(Path.Combine(staging, ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            string? old = null;
            if (Directory.Exists(full)) { old = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.old"); Directory.Move(full, old); }
            Directory.Move(staging, full);
            if (old is not null) Directory.Delete(old, recursive: true);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>Loads and validates a bundle; every problem is a <see cref="FormatException"/> naming the file.</summary>
    public static ModelBundle Load(string directory)
    {
        string path = Path.Combine(directory, ManifestFile);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such model bundle.");
        if (!File.Exists(path)) throw new FormatException($"{directory}: not a model bundle (no {ManifestFile}).");
        JsonObject m;
        try { m = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new FormatException("empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new FormatException($"{path}: not valid JSON ({e.Message})."); }
        if (m["format"]?.GetValue<string>() != "jianwei-bundle") throw new FormatException($"{path}: not a Jianwei model bundle.");
        int version = m["format_version"]?.GetValue<int>() ?? 0;
        if (version != FormatVersion) throw new FormatException($"{path}: bundle format version {version}; this build reads version {FormatVersion} (retrain, or use the release that wrote it).");
        if (m["schema"] is not JsonObject schemaJson) throw new FormatException($"{path}: the manifest has no schema.");
        var schema = TableSchema.FromJson(schemaJson.ToJsonString(), path + " (schema)");
        return new ModelBundle
        {
            Schema = schema, Threshold = m["threshold"]!.GetValue<double>(), Model = TabularModel.Load(directory),
            Metrics = m["metrics"]?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()) ?? new(),
            Training = m["training"]?.DeepClone().AsObject() ?? new JsonObject(), DataFingerprint = m["data_fingerprint"]?.GetValue<string>() ?? "",
            Created = DateTime.Parse(m["created"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        };
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
