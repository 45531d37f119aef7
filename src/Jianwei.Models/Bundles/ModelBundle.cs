using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Serialization;
using Jianwei.Models.Training;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Bundles;

/// <summary>Presets: how much a newcomer's model is worth waiting for.</summary>
public enum Preset
{
    /// <summary>Logistic regression (seconds).</summary>
    Fast,
    /// <summary>Logistic regression and XGBoost stacked over 3 inner folds.</summary>
    Balanced,
    /// <summary>
    /// The validated ensemble within a time limit (default <see cref="BundleTrainingOptions.DefaultBestTimeLimit"/>):
    /// LR (its C chosen), LightGBM and XGBoost (each tuned by a small search), the FT-Transformer and, on tables with
    /// text, the co-pretrained multimodal transformer, each bagged over k folds and combined by greedy
    /// selection or a stacker on their out-of-fold predictions.
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

    /// <summary>A recipe to train instead of the preset's (with default settings), or null for the preset's.</summary>
    public TabularLearner? Learner { get; init; }

    /// <summary>The best preset's time limit when none is given.</summary>
    public static readonly TimeSpan DefaultBestTimeLimit = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The time limit of the whole training, started by the caller (the CLI starts it with the command);
    /// null: the best preset's default, started when <see cref="ModelBundle.Train"/> begins, and none for the others.
    /// </summary>
    public TimeLimit? Limit { get; init; }

    /// <summary>Folds the ensemble bags each candidate over; null: chosen by the time limit (<see cref="FoldsFor"/>).</summary>
    public int? Folds { get; init; }

    /// <summary>Refit each kept ensemble member once on all rows instead of keeping its fold models (cheaper to serve).</summary>
    public bool RefitFull { get; init; }

    /// <summary>Configurations the best preset's tuning search tries per boosted-tree candidate.</summary>
    public int BoostingTrials { get; init; } = 12;

    /// <summary>The best preset's candidates, cheapest first; null: all of them (<see cref="TabularModelOptions.EnsembleCandidates"/>).</summary>
    public IReadOnlyList<TabularLearner>? Candidates { get; init; }

    /// <summary>
    /// The default fold count for a time limit: 3 under 5 minutes (each fold model costs time), 5 up to an
    /// hour, 8 beyond (AutoGluon's best-quality default), 5 without a limit.
    /// </summary>
    public static int FoldsFor(TimeSpan? limit) => limit switch
    {
        null => 5,
        TimeSpan l when l < TimeSpan.FromMinutes(5) => 3,
        TimeSpan l when l <= TimeSpan.FromHours(1) => 5,
        _ => 8,
    };

    /// <summary>
    /// The learner settings a preset stands for, on a table whose schema is <paramref name="schema"/>;
    /// <paramref name="limit"/> is the time the ensemble may use.
    /// </summary>
    public TabularModelOptions ModelOptions(TableSchema schema, TimeLimit limit) => Learner is TabularLearner chosen
        ? new TabularModelOptions { Learner = chosen, Seed = Seed, Multimodal = Multimodal }
        : Preset switch
    {
        Preset.Fast => new TabularModelOptions { Learner = TabularLearner.Logistic, Seed = Seed },
        Preset.Balanced => new TabularModelOptions { Learner = TabularLearner.Stack, StackFolds = 3, Seed = Seed },
        _ => new TabularModelOptions
        {
            Learner = TabularLearner.Ensemble, EnsembleFolds = Folds ?? FoldsFor(limit.Limit), Seed = Seed, Multimodal = Multimodal,
            Limit = limit, RefitFull = RefitFull, BoostingTrials = BoostingTrials, TuneLogistic = true, EnsembleCandidates = Candidates ?? new TabularModelOptions().EnsembleCandidates,
        },
    };

    /// <summary>
    /// Labeled rows each class needs for the preset to train at all: a stratified validation share
    /// holding both classes, then the inner folds (stacking) or the bagging folds, each with early-stopping rows.
    /// </summary>
    public int MinimumRowsPerClass => Preset == Preset.Best ? 10 : 5;
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
        var labels = schema.Labels(table);
        int positives = labeledRows.Count(r => labels[r] == 1), negatives = labeledRows.Length - positives;
        if (positives == 0 || negatives == 0)
            throw new DataFormatException(table.Source, null, schema.Label, $"the label has a single class among {labeledRows.Length} labeled rows (positive class '{schema.PositiveClass}').");
        int need = options.MinimumRowsPerClass;
        if (positives < need || negatives < need)
            throw new DataFormatException(table.Source, null, schema.Label,
                $"{positives:N0} positive ('{schema.PositiveClass}') and {negatives:N0} negative labeled rows; the {options.Preset.ToString().ToLowerInvariant()} preset needs at least {need} of each "
                + "(a stratified 20 % validation split holding both classes, then the learners' inner splits)"
                + (options.Preset == Preset.Best ? "; add labeled rows, or use the fast preset (5 of each)." : "; add labeled rows."));
        schema = schema with { LabelClasses = SchemaInference.LabelClasses(table, schema.Label, parser) };
        var split = DataSplits.StratifiedTrainValidTest(labeledRows, labels, options.ValidationFraction, 0, options.Seed);
        int[] train = split.Train, valid = split.Validation;
        if (options.Preset == Preset.Best && options.Learner is null && options.Folds is int k && Math.Min(train.Count(r => labels[r] == 1), train.Count(r => labels[r] == 0)) is var fewest && fewest < k)
            throw new DataFormatException(table.Source, null, schema.Label,
                $"{fewest:N0} rows of the rarer class are left for training (after the 20 % validation split), fewer than the {k} folds asked for: each fold needs one; use --folds {Math.Max(2, fewest)} or fewer.");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var limit = options.Limit ?? new TimeLimit(options.Preset == Preset.Best && options.Learner is null ? BundleTrainingOptions.DefaultBestTimeLimit : null);
        // The ensemble leaves 5 % of the limit for scoring the validation rows and writing the bundle.
        var modelOptions = options.ModelOptions(schema, limit.Reserving((limit.Limit ?? TimeSpan.Zero) * 0.05));
        if (modelOptions.Multimodal.Progress is null && log is not null) modelOptions = modelOptions with { Multimodal = modelOptions.Multimodal with { Progress = log } };
        bool selfSupervised = modelOptions.Learner is TabularLearner.Multimodal or TabularLearner.MultimodalStack
                              || modelOptions.Learner == TabularLearner.Ensemble && modelOptions.EnsembleCandidates.Contains(TabularLearner.Multimodal) && HasText(schema);
        log?.WriteLine($"training {LearnerName(modelOptions.Learner)} ({options.Preset.ToString().ToLowerInvariant()} preset) on {train.Length:N0} rows"
                       + (selfSupervised && unlabeledRows.Length > 0 ? $" (+{unlabeledRows.Length:N0} unlabeled for co-pretraining)" : "") + $", validating on {valid.Length:N0}"
                       + (limit.Limit is TimeSpan l ? string.Create(CultureInfo.InvariantCulture, $", time limit {l.TotalMinutes:0.#} min") : "") + " ...");
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
            ["time_limit_seconds"] = limit.Limit is TimeSpan tl ? Math.Round(tl.TotalSeconds, 1) : null,
            ["source"] = Path.GetFileName(sourcePath), ["curves"] = model.Curves,
        };
        if (model.Learner == TabularLearner.Ensemble)
        {
            training["folds"] = modelOptions.EnsembleFolds; training["refit_full"] = model.RefitFull;
            training["leaderboard"] = LeaderboardJson(model);
        }
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
            ["weight_average_decay"] = f.WeightAverageDecay, ["head_layers"] = options.HeadLayers, ["keyword_buckets"] = options.KeywordBuckets, ["keyword_learning_rate"] = f.KeywordLearningRate, ["keyword_start"] = f.KeywordStart switch { KeywordStart.Zero => "zero", KeywordStart.LogisticRegression => "lr", KeywordStart.Choose => "choose", _ => "auto" },
            ["pseudo_label_weight"] = f.PseudoLabelWeight, ["pseudo_label_threshold"] = f.PseudoLabelThreshold,
        };
    }

    /// <summary>The learner's name in manifests and messages: "logistic", "boosting", "stack", "multimodal", "multimodal-stack".</summary>
    public static string LearnerName(TabularLearner learner) => learner switch
    {
        TabularLearner.MultimodalStack => "multimodal-stack",
        TabularLearner.FtTransformer => "ft-transformer",
        TabularLearner.NaiveBayesLogistic => LogisticLearner.NaiveBayesName,
        TabularLearner.BinnedLogistic => LogisticLearner.BinnedName,
        _ => learner.ToString().ToLowerInvariant(),
    };

    /// <summary>The ensemble's candidates as the manifest records them: scores (out of fold, or on the held-out selection rows), fit seconds, weight, the combiner's kind.</summary>
    private static JsonObject LeaderboardJson(TabularModel model) => new()
    {
        ["combiner"] = model.Combiner!.Kind, ["scored"] = model.LeaderboardRows,
        ["candidates"] = new JsonArray(model.Leaderboard.Select(r => (JsonNode)r.ToJson()).ToArray()),
    };

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

    private static bool HasText(TableSchema schema) => schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type == ColumnType.Text);

    /// <summary>SHA-256 of a file, hex, prefixed "sha256:".</summary>
    public static string Fingerprint(string path) => "sha256:" + Sha256(path);

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>Scores the rows of a table that follows the schema (the label may be absent); errors name the column.</summary>
    public double[] Score(RawTable table)
    {
        Schema.CheckHeader(table.Header, table.Source, needLabel: false);
        return Model.Predict(table, Enumerable.Range(0, table.RowCount).ToArray());
    }

    /// <summary>
    /// Writes the bundle to <paramref name="directory"/>: built beside it, then swapped in atomically
    /// (<see cref="AtomicDirectory"/>). An existing directory is replaced only when it is empty or a
    /// bundle holding nothing but its own files (<see cref="WhyNotReplaceable"/>); anything else is
    /// refused with a <see cref="DirectoryNotReplaceableException"/> and left untouched.
    /// </summary>
    public void Save(string directory)
    {
        CheckReplaceable(directory);
        AtomicDirectory.Replace(directory, staging =>
        {
            Model.Save(staging);
            var files = Directory.GetFiles(staging, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(staging, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
            var manifest = new JsonObject
            {
                ["format"] = "jianwei-bundle", ["format_version"] = FormatVersion, ["created"] = Created.ToString("O", CultureInfo.InvariantCulture),
                ["label"] = Schema.Label, ["positive_class"] = Schema.PositiveClass, ["threshold"] = Threshold,
                ["schema"] = JsonNode.Parse(Schema.ToJson()), ["training"] = Training.DeepClone(), ["data_fingerprint"] = DataFingerprint,
                ["metrics"] = new JsonObject(Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 6)))),
                ["files"] = new JsonArray(files.Select(f => (JsonNode)f).ToArray()),
                // Each file's digest: a file changed after training (a disk error, an edit) is refused at load, never scored with.
                ["sha256"] = new JsonObject(files.Select(f => KeyValuePair.Create(f, (JsonNode?)Sha256(Path.Combine(staging, f))))),
            };
            // The manifest is written last: a directory with one is complete.
            AtomicFile.WriteAllText(Path.Combine(staging, ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }, WhyNotReplaceable);
    }

    /// <summary>Throws a <see cref="DirectoryNotReplaceableException"/> when <see cref="Save"/> would refuse <paramref name="directory"/> (call it before long work).</summary>
    public static void CheckReplaceable(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (FileSystemProbe.Kind(full) is PathKind.RegularFile or PathKind.Special) throw new DirectoryNotReplaceableException(full, "is a file; a model bundle is a directory. Name a new directory.");
        if (Directory.Exists(full) && WhyNotReplaceable(full) is string reason) throw new DirectoryNotReplaceableException(full, reason);
    }

    /// <summary>
    /// Why an existing directory must not be replaced by a bundle, or null when it may: it is empty,
    /// or its <c>manifest.json</c> says it is a Jianwei bundle and it holds only the files that
    /// manifest lists. Nothing a user wrote is ever deleted.
    /// </summary>
    public static string? WhyNotReplaceable(string directory)
    {
        var entries = Directory.EnumerateFileSystemEntries(directory).ToList();
        if (entries.Count == 0) return null;
        const string advice = " Nothing was written: choose another --out, or move the directory away yourself.";
        string manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath))
        {
            var names = entries.Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            return $"exists and is not a Jianwei model bundle (no {ManifestFile}); it holds {string.Join(", ", names.Take(3))}{(names.Count > 3 ? $", … ({names.Count} entries)" : "")}." + advice;
        }
        JsonFields manifest;
        string[] files;
        try
        {
            manifest = JsonFields.Load(manifestPath);
            if (manifest.OptionalString("format") != "jianwei-bundle") return $"its {ManifestFile} does not say it is a Jianwei model bundle." + advice;
            files = manifest.Strings("files");
        }
        catch (ModelFormatException e) { return $"its {ManifestFile} cannot be read as a bundle manifest ({e.Problem})" + advice; }
        var ours = new HashSet<string>(files.Append(ManifestFile), StringComparer.Ordinal);
        var foreign = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
                               .Where(f => !ours.Contains(f)).Order(StringComparer.Ordinal).ToList();
        return foreign.Count == 0 ? null
            : $"is a Jianwei bundle but also holds files the bundle did not write ({string.Join(", ", foreign.Take(3))}{(foreign.Count > 3 ? $", … ({foreign.Count} files)" : "")}); move them out first." + advice;
    }

    /// <summary>
    /// Loads and validates a bundle: first finishes a save a killed process left half done
    /// (<see cref="AtomicDirectory.Recover"/>), then reads every file through checks that refuse
    /// anything damaged, tampered with or inconsistent — a missing or mistyped manifest field, a
    /// threshold outside [0, 1], non-finite weights, trees that would crash XGBoost, features the
    /// schema does not have. Every problem is a <see cref="ModelFormatException"/> naming the file
    /// and the field.
    /// </summary>
    public static ModelBundle Load(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        AtomicDirectory.Recover(full);
        switch (FileSystemProbe.Kind(full))
        {
            case PathKind.Absent: throw new ModelFormatException(full, null, "no such model bundle.");
            case PathKind.RegularFile or PathKind.Special: throw new ModelFormatException(full, null, "is a file; a model bundle is a directory (written by jianwei train).");
        }
        string path = Path.Combine(full, ManifestFile);
        if (!File.Exists(path)) throw new ModelFormatException(full, null, $"not a model bundle (no {ManifestFile}).");
        try { return Read(full, path); }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException or OverflowException or InvalidDataException
                                      or JsonException or SafetensorsFormatException or Tensors.Nn.StateDictException or Boosting.XGBoostException
                                      or IOException or UnauthorizedAccessException)
        {
            // Defence in depth: the readers name what they check; anything they did not foresee still
            // reaches the user as one line about this bundle, never as a stack trace.
            throw new ModelFormatException(full, null, $"cannot be loaded ({e.Message.ReplaceLineEndings(" ")}).", e);
        }
    }

    private static ModelBundle Read(string full, string path)
    {
        var m = JsonFields.Load(path);
        if (m.OptionalString("format") != "jianwei-bundle") throw m.Error("format", "this is not a Jianwei model bundle's manifest.");
        int version = m.Int("format_version");
        if (version != FormatVersion) throw m.Error("format_version", $"{version}; this build reads version {FormatVersion} (retrain, or use the release that wrote it).");
        TableSchema schema;
        try { schema = TableSchema.FromJson(m.Object("schema").Node.ToJsonString(), path); }
        catch (DataFormatException e) { throw m.Error("schema", e.Problem); }
        if (schema.Label is null) throw m.Error("schema.label", "missing: a bundle's schema names its label.");
        if (schema.PositiveClass is null) throw m.Error("schema.positiveClass", "missing: a bundle's schema names its positive class.");
        double threshold = m.Number("threshold", 0, 1);
        if (!DateTime.TryParse(m.String("created"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var created))
            throw m.Error("created", $"'{m.String("created")}' is not a date and time (ISO 8601).");
        var metrics = new Dictionary<string, double>();
        if (m.OptionalObject("metrics") is JsonFields mj)
            foreach (var (key, _) in mj.Properties()) metrics[key] = mj.Number(key, double.MinValue, double.MaxValue);
        var training = m.OptionalObject("training")?.Node.DeepClone().AsObject() ?? new JsonObject();
        // LightGBM's text format has no validator of ours (XGBoost's JSON has BoosterJson): its file is read only when its digest checks out.
        var recorded = m.OptionalObject("sha256");
        foreach (var lightGbm in Directory.EnumerateFiles(full, BoostingLearner.LightGbmFile, SearchOption.AllDirectories))
        {
            string name = Path.GetRelativePath(full, lightGbm).Replace('\\', '/');
            if (recorded is not JsonFields d || !d.Has(name))
                throw m.Error("sha256", $"records no digest of {name}: LightGBM reads its file only after the digest is checked.");
        }
        if (recorded is JsonFields digests)   // bundles from before digests were recorded have none
            foreach (var (name, _) in digests.Properties())
            {
                string file = Path.GetFullPath(Path.Combine(full, name));
                if (!file.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw digests.Error(name, "names a file outside the bundle.");
                if (!File.Exists(file)) throw new ModelFormatException(file, null, "the file is missing (the manifest lists it).");
                if (Sha256(file) != digests.String(name))
                    throw new ModelFormatException(file, null, "changed since the bundle was written (its SHA-256 differs from the manifest's): a damaged or edited file is never scored with; restore it or retrain.");
            }
        var model = TabularModel.Load(full);
        try
        {
            foreach (var (name, type) in model.Inputs)
                if (schema.Find(name) is not { Role: ColumnRole.Feature } column || column.Type != type)
                    throw m.Error("schema", $"the model reads column '{name}' as {type.ToString().ToLowerInvariant()}, but the schema "
                                            + (schema.Find(name) is { } c ? $"has it as a {c.Type.ToString().ToLowerInvariant()} {c.Role.ToString().ToLowerInvariant()}." : "does not have it."));
            return new ModelBundle
            {
                Schema = schema, Threshold = threshold, Model = model, Metrics = metrics, Training = training,
                DataFingerprint = m.OptionalString("data_fingerprint") ?? "", Created = created,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
