using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Features;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Serialization;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Models.Learners;

/// <summary>Settings of <see cref="MultimodalLearner.Fit"/>: model size, budgets, losses.</summary>
public sealed record MultimodalLearnerOptions
{
    /// <summary>
    /// The encoder. The default is small on purpose (hidden 64, 2 layers): on 2 CPU cores it co-pretrains
    /// at about 35,000 tokens/s, and the generated SME texts do not reward a wider one within minutes.
    /// </summary>
    public EncoderConfig Encoder { get; init; } = new() { HiddenSize = 64, Layers = 2, Heads = 4, IntermediateSize = 256, MaxPositions = 512 };
    /// <summary>Pieces per text column.</summary>
    public int TextBudget { get; init; } = 48;
    /// <summary>Layers whose [CLS] the classification head reads besides the last layer's poolings (1: the last only; at most the encoder's layers).</summary>
    public int HeadLayers { get; init; } = 1;
    /// <summary>
    /// Buckets of the keyword channel, a hashed bag of word 1–3-grams read linearly into the logit
    /// (0: none; see <see cref="MultimodalTransformer.KeywordBuckets"/>). 2^18 by default: at 2^16, on the
    /// SME data with 2,000 labels the channel added 0.0047 ROC-AUC from scratch and 0.0014 co-pretrained,
    /// but on fine_foods' full data each bucket held about four n-grams and the model trailed TF-IDF + LR
    /// by 0.009; at 2^18 it is level with it, +0.002 on ChnSentiCorp, unchanged on the SME data (bench/README.md, issue 23).
    /// </summary>
    public int KeywordBuckets { get; init; } = 1 << 18;
    /// <summary>WordPiece vocabulary size trained on the texts.</summary>
    public int VocabularySize { get; init; } = 8000;
    /// <summary>Wall-clock budget of co-pretraining (zero: none, the model starts from scratch).</summary>
    public TimeSpan PretrainBudget { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>Co-pretraining steps instead of a time budget (0: by <see cref="PretrainBudget"/>), for runs that must repeat on any machine.</summary>
    public int PretrainSteps { get; init; }
    /// <summary>Rows per co-pretraining step.</summary>
    public int PretrainBatchSize { get; init; } = 32;
    /// <summary>Peak co-pretraining learning rate.</summary>
    public float PretrainLearningRate { get; init; } = 1e-3f;
    /// <summary>Co-pretraining loss weights and masking.</summary>
    public CoPretrainingOptions CoPretraining { get; init; } = new();
    /// <summary>Fine-tuning (positives weighted by half the class ratio unless <see cref="MultimodalFineTuneOptions.PositiveWeight"/> is set).</summary>
    public MultimodalFineTuneOptions FineTune { get; init; } = new() { MaxEpochs = 6, Patience = 2 };
    /// <summary>Chinese segmenter (vocabulary of whole words, whole-word masking), or null.</summary>
    public ChineseSegmenter? Segmenter { get; init; }
    /// <summary>Seed of initialization, masking and batches.</summary>
    public int Seed { get; init; }
    /// <summary>Where progress bars go, or null.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>
    /// The best preset's settings for a co-pretraining budget of <paramref name="minutes"/>: fine-tuning
    /// gets at most twice as long (0: no co-pretraining, and fine-tuning runs its epochs), and the
    /// Chinese segmenter is used when a jieba dictionary is installed.
    /// </summary>
    public static MultimodalLearnerOptions ForBudget(double minutes)
    {
        var dict = ChineseSegmenter.FindDictionary();
        var defaults = new MultimodalLearnerOptions();
        return defaults with
        {
            PretrainBudget = TimeSpan.FromMinutes(minutes), Segmenter = dict is null ? null : ChineseSegmenter.Load(dict),
            FineTune = defaults.FineTune with { TimeBudget = minutes > 0 ? TimeSpan.FromMinutes(2 * minutes) : null },
        };
    }
}

/// <summary>Why the multimodal model scored a row as it did.</summary>
/// <param name="Columns">Each input column's contribution to the log-odds (cells; text columns as the sum of their pieces, which carry their n-grams' share of the keyword channel).</param>
/// <param name="Tokens">Per text column, its pieces with their contributions, in reading order.</param>
/// <param name="Logit">The row's log-odds.</param>
/// <param name="BaselineLogit">The log-odds of the same row with every cell and text piece masked.</param>
public sealed record RowExplanation(IReadOnlyDictionary<string, double> Columns, IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>> Tokens,
                                    double Logit, double BaselineLogit);

/// <summary>
/// The co-pretrained multimodal transformer as a learner on a table: fits its inputs (cell encoders,
/// a WordPiece vocabulary on the texts), co-pretrains self-supervised on labeled and unlabeled rows
/// within a time budget, fine-tunes on labeled rows with early stopping, and explains rows with
/// Integrated Gradients. Saves as safetensors + JSON.
/// </summary>
public sealed class MultimodalLearner : ILearner
{
    /// <summary>The directory it is saved in, beside <c>tabular.json</c>.</summary>
    public const string DirectoryName = "multimodal";

    /// <summary>The fine-tuned network.</summary>
    public MultimodalTransformer Model { get; }
    /// <summary>How rows become inputs.</summary>
    public MultimodalData Data { get; }
    /// <summary>Co-pretraining loss by step (empty when loaded or not co-pretrained).</summary>
    public IReadOnlyList<(double Step, double Loss)> PretrainingCurve { get; private init; } = [];
    /// <summary>Validation ROC-AUC after each fine-tuning epoch.</summary>
    public IReadOnlyList<double> ValidationCurve { get; private init; } = [];
    /// <summary>Mean training loss of each fine-tuning epoch.</summary>
    public IReadOnlyList<double> TrainingLossCurve { get; private init; } = [];

    private MultimodalLearner(MultimodalTransformer model, MultimodalData data) { Model = model; Data = data; }

    /// <summary>
    /// Fits on the labeled <paramref name="fitRows"/>, early-stopping on <paramref name="validRows"/>;
    /// co-pretraining (labels unused) also reads <paramref name="unlabeledRows"/>.
    /// </summary>
    public static MultimodalLearner Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] fitRows, int[] validRows,
                                        int[] unlabeledRows, MultimodalLearnerOptions options) =>
        FineTune(CoPretrain(table, schema, fitRows.Concat(unlabeledRows).ToArray(), options), table, labels, fitRows, validRows, unlabeledRows, options);

    /// <summary>
    /// Fits the inputs (cell encoders, a WordPiece vocabulary on the texts) on <paramref name="rows"/> and
    /// co-pretrains the network on them, labels unused, for <see cref="MultimodalLearnerOptions.PretrainSteps"/> or within
    /// <see cref="MultimodalLearnerOptions.PretrainBudget"/> (zero: none, the start is the random initialization).
    /// </summary>
    public static CoPretrainedStart CoPretrain(RawTable table, TableSchema schema, int[] rows, MultimodalLearnerOptions options)
    {
        var data = MultimodalData.Fit(table, schema, rows, segmenter: options.Segmenter, vocabularySize: options.VocabularySize, budgetPerColumn: options.TextBudget);
        var model = MultimodalTransformer.Create(data, options.Encoder, (ulong)options.Seed, options.HeadLayers, keywordBuckets: options.KeywordBuckets);
        if (options.PretrainSteps <= 0 && options.PretrainBudget <= TimeSpan.Zero) return new CoPretrainedStart(data, model.CopyState(), [], 0, 0);
        var result = new Trainer(model.CoPretrainingTask(data.Transform(table, rows), options.PretrainBatchSize, options.CoPretraining, (ulong)options.Seed), new TrainerOptions
        {
            MaxSteps = options.PretrainSteps > 0 ? options.PretrainSteps : 1_000_000, TimeBudget = options.PretrainSteps > 0 ? null : options.PretrainBudget,
            CalibrationSteps = 20, WarmupSteps = 100, LearningRate = options.PretrainLearningRate,
            Seed = (ulong)options.Seed, Progress = options.Progress, Label = "co-pretrain", LogEvery = 5,
        }).Run();
        return new CoPretrainedStart(data, model.CopyState(), result.Log.Select(r => ((double)r.Step, r.Loss)).ToList(), result.Steps, result.Seconds);
    }

    /// <summary>
    /// Fine-tunes a copy of the co-pretrained <paramref name="start"/> on the labeled <paramref name="fitRows"/>,
    /// early-stopping on <paramref name="validRows"/> (R-Drop and pseudo-labels, when on, also read <paramref name="unlabeledRows"/>).
    /// The start is left as it was, so several fine-tunings can begin from it.
    /// </summary>
    public static MultimodalLearner FineTune(CoPretrainedStart start, RawTable table, IReadOnlyList<int> labels, int[] fitRows, int[] validRows,
                                             int[] unlabeledRows, MultimodalLearnerOptions options)
    {
        var data = start.Data;
        var model = MultimodalTransformer.Create(data, options.Encoder, (ulong)options.Seed, options.HeadLayers, keywordBuckets: options.KeywordBuckets);
        model.RestoreState(start.Weights);
        var fineTune = options.FineTune with { Seed = (ulong)options.Seed, Progress = options.Progress ?? options.FineTune.Progress };
        var unlabeled = (fineTune.ConsistencyWeight > 0 || fineTune.PseudoLabelWeight > 0) && unlabeledRows.Length > 0 ? data.Transform(table, unlabeledRows) : null;
        model.Fit(data.Transform(table, fitRows), fitRows.Select(r => labels[r]).ToList(), data.Transform(table, validRows), validRows.Select(r => labels[r]).ToList(), fineTune, unlabeled);
        return new MultimodalLearner(model, data)
        {
            PretrainingCurve = start.Curve, ValidationCurve = [.. model.ValidationCurve], TrainingLossCurve = [.. model.TrainingLossCurve],
        };
    }

    /// <summary>Probabilities of the positive class for <paramref name="rows"/>.</summary>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows)
    {
        return Model.PredictProbability(Data.Transform(table, rows));
    }

    /// <summary>The token an explanation shows for the words past a column's text budget, which only the keyword channel read.</summary>
    public const string BeyondBudget = "…";

    /// <summary>Integrated-Gradients explanations of <paramref name="rows"/> (see <see cref="MultimodalTransformer.IntegratedGradients"/>).</summary>
    public List<RowExplanation> Explain(RawTable table, IReadOnlyList<int> rows, int steps = 32)
    {
        var inputs = Data.Transform(table, rows);
        var cellColumns = Data.Features.InputColumns;
        var result = new List<RowExplanation>();
        for (int i = 0; i < rows.Count; i++)
        {
            var a = Model.IntegratedGradients(inputs, i, steps);
            var columns = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int j = 0; j < cellColumns.Count; j++) columns[cellColumns[j]] = columns.GetValueOrDefault(cellColumns[j]) + a.Positions[1 + j];
            var text = inputs.Text[i];
            var tokens = Data.TextColumns.ToDictionary(c => c, _ => new List<TokenContribution>(), StringComparer.Ordinal);
            for (int p = 1; p < text.Length; p++)
            {
                if (text.ColumnIds[p] == 0) continue;
                string column = Data.TextColumns[text.ColumnIds[p] - 1];
                double value = a.Positions[Model.CellCount + p];                                // text position p sits at cells + p
                bool separator = text.WordIds[p] < 0;                                           // a tag (no credit) or [SEP]: the keywords past the budget
                if (separator && value == 0) continue;
                columns[column] = columns.GetValueOrDefault(column) + value;
                tokens[column].Add(new TokenContribution(separator ? BeyondBudget : Display(tokens[column], Data.Vocabulary[text.InputIds[p]]), value));
            }
            result.Add(new RowExplanation(columns, tokens.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<TokenContribution>)kv.Value), a.Logit, a.BaselineLogit));
        }
        return result;

        static string Display(List<TokenContribution> before, string piece)
        {
            if (piece.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal)) return piece[Vocabulary.ContinuationPrefix.Length..];
            // A new Latin word after a word or after closing punctuation had a space before it; CJK text has none.
            bool latin = piece.Length > 0 && char.IsAsciiLetterOrDigit(piece[0]);
            bool spaced = before.Count > 0 && before[^1].Text is { Length: > 0 } t && (char.IsAsciiLetterOrDigit(t[^1]) || ".,;:!?)".Contains(t[^1]));
            return latin && spaced ? " " + piece : piece;
        }
    }

    /// <inheritdoc/>
    public string Name => "multimodal";

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => Data.Features.Inputs.Concat(Data.TextColumns.Select(c => (c, ColumnType.Text)));

    /// <summary>The Integrated-Gradients explanations, per column and per text piece, scaled.</summary>
    IReadOnlyList<LearnerExplanation> ILearner.Explain(RawTable table, IReadOnlyList<int> rows, double scale) =>
        Explain(table, rows).Select(e => new LearnerExplanation(
            e.Columns.Select(kv => (kv.Key, scale * kv.Value)).ToList(),
            e.Tokens.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<TokenContribution>)kv.Value.Select(t => t with { Contribution = scale * t.Contribution }).ToList()))).ToList();

    /// <summary>None of its own: a network's importance is measured by permutation.</summary>
    Dictionary<string, double>? ILearner.Importance(RawTable table, IReadOnlyList<int> rows) => null;

    /// <inheritdoc/>
    public JsonObject? Curves => CurvesJson();

    /// <summary>Saves into <see cref="DirectoryName"/> under <paramref name="directory"/> and names it in <paramref name="parts"/>.</summary>
    void ILearner.Save(JsonObject parts, string directory)
    {
        Save(Path.Combine(directory, DirectoryName));
        parts["multimodal"] = DirectoryName;
    }

    /// <summary>Reads the learner <see cref="ILearner.Save"/> wrote: the directory its field of <c>tabular.json</c> names, under <paramref name="directory"/>.</summary>
    public static MultimodalLearner Load(JsonFields parts, string directory)
    {
        string named = parts.String("multimodal");
        if (named != DirectoryName) throw parts.Error("multimodal", $"'{named}'; expected '{DirectoryName}'.");
        return Load(Path.Combine(directory, DirectoryName));
    }

    /// <summary>Nothing to release: the networks live in managed memory.</summary>
    public void Dispose() { }

    /// <summary>The training curves as JSON (for the bundle's manifest).</summary>
    public JsonObject CurvesJson() => new()
    {
        ["co_pretraining_loss"] = new JsonArray(PretrainingCurve.Select(p => (JsonNode)new JsonArray(p.Step, Math.Round(p.Loss, 5))).ToArray()),
        ["fine_tuning_loss"] = new JsonArray(TrainingLossCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
        ["fine_tuning_validation_auc"] = new JsonArray(ValidationCurve.Select(v => (JsonNode)Math.Round(v, 5)).ToArray()),
    };

    /// <summary>Writes <c>config.json</c>, <c>model.safetensors</c>, <c>multimodal_data.json</c> and <c>vocab.txt</c>.</summary>
    public void Save(string directory) => Model.Save(directory, Data);

    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    public static MultimodalLearner Load(string directory)
    {
        var (model, data) = MultimodalTransformer.Load(directory);
        return new MultimodalLearner(model, data);
    }
}

/// <summary>Where fine-tuning starts: the inputs fitted on the self-supervised rows and the network's weights after co-pretraining on them.</summary>
/// <param name="Data">How rows become inputs (cell encoders, the WordPiece vocabulary).</param>
/// <param name="Weights">The network's weights (<see cref="Jianwei.Tensors.Nn.Module.CopyState"/>).</param>
/// <param name="Curve">Co-pretraining loss by step (empty without co-pretraining).</param>
/// <param name="Steps">Co-pretraining steps run.</param>
/// <param name="Seconds">Seconds they took.</param>
public sealed record CoPretrainedStart(MultimodalData Data, IReadOnlyDictionary<string, float[]> Weights, IReadOnlyList<(double Step, double Loss)> Curve, int Steps, double Seconds);
