using System.Diagnostics;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Logistic;
using Jianwei.Models.Neural;
using Jianwei.Models.Pipeline;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Text;

namespace Jianwei.Models.Multimodal;

/// <summary>Settings of a <see cref="Comparison"/> run.</summary>
public sealed record ComparisonOptions
{
    /// <summary>Modes to run, in order (see <see cref="Comparison.Modes"/>).</summary>
    public IReadOnlyList<string> Modes { get; init; } = Comparison.Modes;
    /// <summary>Stratified folds.</summary>
    public int Folds { get; init; } = 5;
    /// <summary>Seed of the folds and the learners.</summary>
    public int Seed { get; init; }
    /// <summary>Wall-clock cap of each self-supervised pretraining (the rest of a mode is not capped).</summary>
    public TimeSpan PretrainBudget { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>
    /// Steps of each self-supervised pretraining instead of <see cref="PretrainBudget"/> (0: the budget
    /// decides). A budget's step count follows the machine's speed, and with it the learning-rate
    /// schedule and every later score; a step count gives the same scores on any machine.
    /// </summary>
    public int PretrainSteps { get; init; }
    /// <summary>Encoder size of the transformer modes (the best preset's, by default).</summary>
    public EncoderConfig Encoder { get; init; } = new MultimodalLearnerOptions().Encoder;
    /// <summary>Pieces per text column (the best preset's, by default).</summary>
    public int TextBudget { get; init; } = new MultimodalLearnerOptions().TextBudget;
    /// <summary>Layers whose [CLS] the multimodal head reads (1: the last only), as <see cref="MultimodalLearnerOptions.HeadLayers"/>.</summary>
    public int HeadLayers { get; init; } = 1;
    /// <summary>
    /// Fine-tuning of the multimodal modes (regularizers, optimizer, losses); its seed is replaced by the
    /// fold's. With R-Drop on, the unlabeled rows also get the consistency term.
    /// </summary>
    public MultimodalFineTuneOptions FineTune { get; init; } = new() { MaxEpochs = 8, Patience = 2 };
    /// <summary>Chinese segmenter for vocabulary training and whole-word masking, or null.</summary>
    public ChineseSegmenter? Segmenter { get; init; }
    /// <summary>Progress lines, or null.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>One mode's scores, mean and standard deviation over folds.</summary>
public sealed record ModeResult(string Mode, double Auc, double AucStd, double PrAuc, double Ks, double Accuracy, double Seconds, int Folds);

/// <summary>
/// The published experiment on any labeled table, same folds for every mode: logistic regression,
/// XGBoost (the table and the most frequent TF-IDF terms of each text), the LR + XGBoost stack, TabNet
/// (pretrained on the table), a text-only transformer from scratch and pretrained (MLM on the texts),
/// late fusion (that pretrained text model and an FT-Transformer trained apart, then joined under one
/// head and fine-tuned together), the multimodal transformer without
/// and with co-pretraining, and the co-pretrained multimodal model stacked with XGBoost. Self-supervised
/// pretraining never sees labels, so it runs once over all rows (labeled and unlabeled); everything
/// supervised is fitted inside each fold. Accuracy is at each fold's best-F1 threshold on its validation rows.
/// </summary>
public static class Comparison
{
    /// <summary>The modes, in the order of the published table.</summary>
    public static readonly IReadOnlyList<string> Modes = ["lr", "xgb", "stack", "tabnet", "text", "text-pretrained", "late-fusion", "multimodal-scratch", "multimodal", "multimodal-stack"];

    /// <summary>
    /// Ablations of the co-pretrained multimodal mode, run only when asked for: co-pretraining without the
    /// masked-cell loss, without row–text matching, and with Performer attention instead of softmax.
    /// Each co-pretrains its own model for the same budget.
    /// </summary>
    public static readonly IReadOnlyList<string> Ablations = ["multimodal-no-cells", "multimodal-no-matching", "multimodal-performer"];

    /// <summary>The co-pretraining losses and encoder a co-pretrained mode uses.</summary>
    internal static (CoPretrainingOptions Losses, EncoderConfig Encoder) Variant(string mode, EncoderConfig encoder) => mode switch
    {
        "multimodal-no-cells" => (new CoPretrainingOptions { CellWeight = 0 }, encoder),
        "multimodal-no-matching" => (new CoPretrainingOptions { MatchingWeight = 0 }, encoder),
        "multimodal-performer" => (new CoPretrainingOptions(), encoder with { Attention = AttentionKind.Performer }),
        _ => (new CoPretrainingOptions(), encoder),
    };

    /// <summary>Runs every requested mode; <paramref name="unlabeled"/> rows (same columns) join self-supervised pretraining only.</summary>
    public static List<ModeResult> Run(RawTable table, TableSchema schema, ComparisonOptions options, RawTable? unlabeled = null)
    {
        foreach (var m in options.Modes)
            if (!Modes.Contains(m) && !Ablations.Contains(m))
                throw new ArgumentException($"unknown mode '{m}' (modes: {string.Join(", ", Modes)}; ablations: {string.Join(", ", Ablations)}).");
        var y = schema.Labels(table);
        var folds = DataSplits.StratifiedKFold(y, options.Folds, options.Seed);
        var log = options.Log;
        string Length() => options.PretrainSteps > 0 ? $"{options.PretrainSteps:N0} steps" : $"up to {options.PretrainBudget.TotalMinutes:0.#} min";
        TrainerOptions Pretraining(string label) => new()
        {
            MaxSteps = options.PretrainSteps > 0 ? options.PretrainSteps : 1_000_000, TimeBudget = options.PretrainSteps > 0 ? null : options.PretrainBudget,
            CalibrationSteps = 30, WarmupSteps = 100, LearningRate = 1e-3f, Seed = (ulong)options.Seed, Progress = log, Label = label, LogEvery = 50,
        };
        void Report(string name, TrainingResult r) => log?.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{name}: {r.Steps:N0} steps in {r.Seconds:F0} s, loss {(r.Log.Count > 0 ? r.Log[0].Loss : double.NaN):F2} → {(r.Log.Count > 0 ? r.Log[^1].Loss : double.NaN):F2}"));

        // Label-free preparation shared by the transformer modes: vocabulary, cell encoders, pretraining.
        MultimodalData? data = null;
        MultimodalRows? allRows = null;
        bool needsTransformer = options.Modes.Any(m => m is "text" or "text-pretrained" or "late-fusion" or "multimodal-scratch" or "multimodal" or "multimodal-stack" || Ablations.Contains(m));
        var everything = unlabeled is null ? table : table.Append(unlabeled, mayBeAbsent: schema.Label);
        if (needsTransformer)
        {
            data = MultimodalData.Fit(everything, schema, Enumerable.Range(0, everything.RowCount).ToArray(), segmenter: options.Segmenter, budgetPerColumn: options.TextBudget);
            allRows = data.Transform(table, Enumerable.Range(0, table.RowCount).ToArray());
        }
        // The text-only modes read the same texts through the same model, head and fine-tuning with
        // the table's columns set aside, so they differ from the multimodal modes only in what they read;
        // late fusion's text model is the text-pretrained mode's.
        MultimodalData? textData = null;
        MultimodalRows? textRows = null;
        if (options.Modes.Any(m => m is "text" or "text-pretrained" or "late-fusion"))
        {
            var textOnly = schema with
            {
                Columns = schema.Columns.Select(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text ? c with { Role = ColumnRole.Ignore } : c).ToList(),
            };
            textData = MultimodalData.Fit(everything, textOnly, [], vocabulary: data!.Vocabulary, budgetPerColumn: options.TextBudget);
            textRows = TextsOnly(allRows!);
        }
        MultimodalRows TextRows(int[] rows) => new(Slice(textRows!.Table, rows), rows.Select(r => textRows.Text[r]).ToList());
        // Co-pretrained weights per variant (the plain one is shared by multimodal and multimodal-stack).
        var coPretrained = new Dictionary<string, Dictionary<string, float[]>>();
        foreach (var mode in options.Modes.Where(m => m is "multimodal" or "multimodal-stack" || Ablations.Contains(m)))
        {
            string key = mode == "multimodal-stack" ? "multimodal" : mode;
            if (coPretrained.ContainsKey(key)) continue;
            var (losses, encoder) = Variant(key, options.Encoder);
            string name = "co-pretraining" + (key == "multimodal" ? "" : $" ({key})");
            log?.WriteLine($"{name} on {everything.RowCount:N0} rows (labels unused) for {Length()} ...");
            var model = new MultimodalTransformer(encoder with { VocabSize = data!.Vocabulary.Count }, data, new Rng((ulong)options.Seed), headLayers: options.HeadLayers);
            var rows = everything == table ? allRows! : data.Transform(everything, Enumerable.Range(0, everything.RowCount).ToArray());
            Report(name, new Trainer(model.CoPretrainingTask(rows, 32, losses, (ulong)options.Seed), Pretraining("co-pretrain")).Run());
            coPretrained[key] = model.CopyState();
        }

        var unlabeledRows = unlabeled is not null && data is not null && options.FineTune.ConsistencyWeight > 0
            ? data.Transform(unlabeled, Enumerable.Range(0, unlabeled.RowCount).ToArray()) : null;

        Dictionary<string, float[]>? textPretrained = null;
        if (options.Modes.Any(m => m is "text-pretrained" or "late-fusion"))
        {
            // The text-only encoder, pretrained with MLM (whole words) on the same rows' texts — the
            // comparison's "text model pretrained apart from the table".
            log?.WriteLine($"pretraining the text-only encoder (MLM) on {everything.RowCount:N0} rows' texts for {Length()} ...");
            var rows = everything == table ? allRows! : data!.Transform(everything, Enumerable.Range(0, everything.RowCount).ToArray());
            var corpus = new TokenCorpus(rows.Text.Select(t => new TokenSequence(t.InputIds, t.WordIds)).ToList(), data!.Special);
            var (ptTrain, ptValid) = corpus.Split(0.02, (ulong)options.Seed);
            var masking = new MaskingOptions();
            var mlm = new MaskedLanguageModel(options.Encoder with { VocabSize = data.Vocabulary.Count }, data.Special, masking, new Rng((ulong)options.Seed));
            Report("text MLM", new Trainer(new PretrainingTask(mlm, ptTrain, ptValid, 32, masking, (ulong)options.Seed, pseudoPerplexitySequences: 0), Pretraining("text MLM")).Run());
            textPretrained = ((BertForMaskedLM)mlm.Model).Bert.CopyState();
        }

        var results = new List<ModeResult>();
        // The co-pretrained model fine-tuned on each fold, shared by multimodal and multimodal-stack
        // (same start, data and seed, so the second would only repeat the first): its predictions and
        // the seconds it took, which the second mode's time includes.
        var fineTuned = new Dictionary<int, (double[] Valid, double[] Test, double Seconds)>();
        // Likewise the text-pretrained mode's model on each fold, which late fusion starts from: its weights and seconds.
        var textFineTuned = new Dictionary<int, (Dictionary<string, float[]> State, double Seconds)>();
        foreach (var mode in options.Modes)
        {
            double reusedSeconds = 0;
            var auc = new List<double>(); var pr = new List<double>(); var ks = new List<double>(); var acc = new List<double>();
            var clock = Stopwatch.StartNew();
            foreach (var fold in folds)
            {
                // A stratified 15 % of the fold's training rows: early stopping, stacking, threshold.
                var inner = DataSplits.StratifiedTrainValidTest(fold.Train, y, 0.15, 0, options.Seed);
                int[] fit = inner.Train, valid = inner.Validation;
                var (pValid, pTest) = mode switch
                {
                    "lr" => Tabular(TabularLearner.Logistic),
                    "xgb" => Tabular(TabularLearner.Boosting),
                    "stack" => Tabular(TabularLearner.Stack),
                    "tabnet" => TabNetMode(),
                    "text" => TextMode(FineTunedTextModel(null)),
                    "text-pretrained" => TextMode(PretrainedTextModel()),
                    "late-fusion" => LateFusionMode(),
                    "multimodal-scratch" => MultimodalMode(null, options.Encoder),
                    "multimodal" => CoPretrainedMultimodal(),
                    "multimodal-stack" => MultimodalStack(),
                    _ => MultimodalMode(coPretrained[mode], Variant(mode, options.Encoder).Encoder),   // the ablations
                };
                var yTest = fold.Test.Select(r => y[r]).ToArray();
                var threshold = Metrics.BestF1(pValid, valid.Select(r => y[r]).ToArray()).Threshold;
                auc.Add(Metrics.RocAuc(pTest, yTest)); pr.Add(Metrics.PrAuc(pTest, yTest)); ks.Add(Metrics.Ks(pTest, yTest));
                acc.Add(Metrics.At(pTest, yTest, threshold).Accuracy);
                log?.WriteLine($"{mode}: fold {fold.Index + 1}/{folds.Count} ROC-AUC {auc[^1]:F4}");

                (double[], double[]) Tabular(TabularLearner learner)
                {
                    using var m = TabularModel.Fit(table, schema, y, fit, new TabularModelOptions { Learner = learner, Seed = options.Seed });
                    return (m.Predict(table, valid), m.Predict(table, fold.Test));
                }
                (double[], double[]) TabNetMode()
                {
                    var features = TokenFeatures.Fit(table, schema, fit);
                    var net = new TabNet(features.NumericCount, features.CategorySizes, new TabNetOptions { BatchSize = 256, VirtualBatch = 64, Patience = 10, MaxEpochs = 100, Seed = options.Seed });
                    var fitInputs = features.Transform(table, fit);
                    var validInputs = features.Transform(table, valid);
                    net.Pretrain(fitInputs, validInputs);
                    net.Fit(fitInputs, fit.Select(r => y[r]).ToArray(), validInputs, valid.Select(r => y[r]).ToArray());
                    return (net.PredictProbability(validInputs).Select(v => (double)v).ToArray(), net.PredictProbability(features.Transform(table, fold.Test)).Select(v => (double)v).ToArray());
                }
                (double[], double[]) TextMode(MultimodalTransformer model) => (model.PredictProbability(TextRows(valid)), model.PredictProbability(TextRows(fold.Test)));
                MultimodalTransformer NewTextModel() => new(options.Encoder with { VocabSize = data!.Vocabulary.Count }, textData!, new Rng((ulong)(options.Seed + fold.Index)), headLayers: options.HeadLayers);
                MultimodalTransformer FineTunedTextModel(Dictionary<string, float[]>? start)
                {
                    // The multimodal model over a table without columns: [CLS] and the texts, the same head,
                    // early stopping and fine-tuning options; the pretrained start is its encoder's weights.
                    var model = NewTextModel();
                    if (start is not null) model.Bert.RestoreState(start);
                    model.Fit(TextRows(fit), fit.Select(r => y[r]).ToList(), TextRows(valid), valid.Select(r => y[r]).ToList(),
                              options.FineTune with { Seed = (ulong)fold.Index }, unlabeledRows is null ? null : TextsOnly(unlabeledRows));
                    return model;
                }
                MultimodalTransformer PretrainedTextModel()
                {
                    if (textFineTuned.TryGetValue(fold.Index, out var done))
                    {
                        var reused = NewTextModel();
                        reused.RestoreState(done.State);
                        reusedSeconds += done.Seconds;
                        log?.WriteLine($"{mode}: fold {fold.Index + 1}/{folds.Count} reuses the fine-tuned text-pretrained model ({done.Seconds:F0} s, counted in this mode's time)");
                        return reused;
                    }
                    var started = Stopwatch.StartNew();
                    var model = FineTunedTextModel(textPretrained);
                    textFineTuned[fold.Index] = (model.CopyState(), started.Elapsed.TotalSeconds);
                    return model;
                }
                (double[], double[]) LateFusionMode()
                {
                    // Apart: the text-pretrained mode's text model (fine-tuned on the labels) and the table's FT-Transformer.
                    var text = PretrainedTextModel();
                    var features = TokenFeatures.Fit(table, schema, fit);
                    TokenInputs fitTable = features.Transform(table, fit), validTable = features.Transform(table, valid);
                    var ft = new FtTransformer(features.NumericCount, features.CategorySizes, new FtTransformerOptions { Seed = options.Seed + fold.Index, MaxEpochs = 30, Patience = 5 });
                    ft.Fit(fitTable, fit.Select(r => y[r]).ToArray(), validTable, valid.Select(r => y[r]).ToArray());
                    // Then joined under one head and fine-tuned together.
                    var fused = new LateFusion(text, ft, new Rng((ulong)(11 + fold.Index)));
                    fused.Fit(TextRows(fit), fitTable, fit.Select(r => y[r]).ToList(), TextRows(valid), validTable, valid.Select(r => y[r]).ToList(),
                              epochs: 3, seed: (ulong)fold.Index);
                    return (fused.PredictProbability(TextRows(valid), validTable), fused.PredictProbability(TextRows(fold.Test), features.Transform(table, fold.Test)));
                }
                (double[], double[]) MultimodalMode(Dictionary<string, float[]>? start, EncoderConfig encoder)
                {
                    var model = new MultimodalTransformer(encoder with { VocabSize = data!.Vocabulary.Count }, data, new Rng((ulong)(options.Seed + fold.Index)), headLayers: options.HeadLayers);
                    if (start is not null) model.RestoreState(start);
                    MultimodalRows Pick(int[] rows) => new(Slice(allRows!.Table, rows), rows.Select(r => allRows.Text[r]).ToList());
                    model.Fit(Pick(fit), fit.Select(r => y[r]).ToList(), Pick(valid), valid.Select(r => y[r]).ToList(),
                              options.FineTune with { Seed = (ulong)fold.Index }, unlabeledRows);
                    return (model.PredictProbability(Pick(valid)), model.PredictProbability(Pick(fold.Test)));
                }
                (double[], double[]) CoPretrainedMultimodal()
                {
                    if (fineTuned.TryGetValue(fold.Index, out var done))
                    {
                        reusedSeconds += done.Seconds;
                        log?.WriteLine($"{mode}: fold {fold.Index + 1}/{folds.Count} reuses the fine-tuned multimodal model ({done.Seconds:F0} s, counted in this mode's time)");
                        return (done.Valid, done.Test);
                    }
                    var started = Stopwatch.StartNew();
                    var (v, t) = MultimodalMode(coPretrained["multimodal"], options.Encoder);
                    fineTuned[fold.Index] = (v, t, started.Elapsed.TotalSeconds);
                    return (v, t);
                }
                (double[], double[]) MultimodalStack()
                {
                    var (mv, mt) = CoPretrainedMultimodal();
                    var (xv, xt) = Tabular(TabularLearner.Boosting);
                    // The stacker learns on the validation rows, which neither base learner trained on.
                    var stacker = Ensembles.LogisticStacker.Fit([mv, xv], valid.Select(r => y[r]).ToArray());
                    return (stacker.Predict([mv, xv]), stacker.Predict([mt, xt]));
                }
            }
            double mean = auc.Average();
            double seconds = clock.Elapsed.TotalSeconds + reusedSeconds;
            results.Add(new ModeResult(mode, mean, Std(auc), pr.Average(), ks.Average(), acc.Average(), seconds, folds.Count));
            log?.WriteLine($"{mode}: ROC-AUC {mean:F4} ± {Std(auc):F4} ({seconds:F0} s)");
        }
        return results;
    }

    private static double Std(List<double> v) { double m = v.Average(); return v.Count < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1)); }

    /// <summary>The same rows' texts under a table without columns.</summary>
    private static MultimodalRows TextsOnly(MultimodalRows rows) => new(new TokenInputs([], [], rows.Count), rows.Text);

    private static TokenInputs Slice(TokenInputs t, int[] rows)
    {
        int nn = t.Numeric.Length / Math.Max(1, t.Rows), nc = t.Categorical.Length / Math.Max(1, t.Rows);
        var num = new float[rows.Length * nn]; var cat = new int[rows.Length * nc];
        for (int i = 0; i < rows.Length; i++)
        {
            t.Numeric.AsSpan(rows[i] * nn, nn).CopyTo(num.AsSpan(i * nn));
            t.Categorical.AsSpan(rows[i] * nc, nc).CopyTo(cat.AsSpan(i * nc));
        }
        return new TokenInputs(num, cat, rows.Length, t.NumericWidth);
    }
}
