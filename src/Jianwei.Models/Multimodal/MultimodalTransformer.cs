using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Serialization;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;
using Jianwei.Tensors.Serialization;
using DenseLayer = Jianwei.Tensors.Nn.Linear;

namespace Jianwei.Models.Multimodal;

/// <summary>Weights of the co-pretraining losses.</summary>
public sealed record CoPretrainingOptions
{
    /// <summary>Masked-token modelling on the text.</summary>
    public float TextWeight { get; init; } = 1f;
    /// <summary>Masked-cell modelling on the table.</summary>
    public float CellWeight { get; init; } = 1f;
    /// <summary>Row–text matching.</summary>
    public float MatchingWeight { get; init; } = 1f;
    /// <summary>Share of non-missing cells masked per row (at least one).</summary>
    public double CellRate { get; init; } = 0.15;
    /// <summary>Text masking.</summary>
    public MaskingOptions TextMasking { get; init; } = new();
    /// <summary>Quantile bins a masked number is classified into.</summary>
    public int NumericBins { get; init; } = 16;
}

/// <summary>Fine-tuning losses and schedule.</summary>
public sealed record MultimodalFineTuneOptions
{
    /// <summary>Most epochs.</summary>
    public int MaxEpochs { get; init; } = 10;
    /// <summary>Stop after this many epochs without a better validation ROC-AUC (the best epoch's weights are kept).</summary>
    public int Patience { get; init; } = 3;
    /// <summary>Rows per step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak learning rate of the head; the encoder's layers get it times <see cref="LayerDecay"/>^depth-from-top.</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>Layer-wise learning-rate decay (1: none).</summary>
    public float LayerDecay { get; init; } = 0.9f;
    /// <summary>
    /// Weight of positive rows in the loss (class imbalance); null: half the training rows' negative-to-positive
    /// ratio, at least 1 (a compromise between balanced and raw rates).
    /// </summary>
    public float? PositiveWeight { get; init; }
    /// <summary>Focal loss γ (0: plain cross-entropy).</summary>
    public float FocalGamma { get; init; }
    /// <summary>Label smoothing ε: targets become y(1 − ε) + ε/2.</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>Flooding level b (Ishida et al. 2020): the loss is |L − b| + b, so training stops descending below b (0: off).</summary>
    public float Flooding { get; init; }
    /// <summary>AdamW, or Ranger (RAdam wrapped in Lookahead, k = 6, α = 0.5).</summary>
    public FineTuneOptimizer Optimizer { get; init; } = FineTuneOptimizer.AdamW;
    /// <summary>Epochs that train only the head (the encoder and the cell embeddings frozen) before everything trains.</summary>
    public int FreezeEpochs { get; init; }
    /// <summary>
    /// FGM (Miyato et al. 2017) radius ε: each step also trains on the loss with the word and cell
    /// embeddings moved by ε·g/‖g‖ along their own gradient (0: off). Doubles the cost of a step.
    /// </summary>
    public float AdversarialEpsilon { get; init; }
    /// <summary>
    /// R-Drop weight α (Liang et al. 2021): every batch runs twice with different dropout and the two
    /// predictions are pulled together by their symmetric KL divergence; with unlabeled rows given to
    /// <see cref="MultimodalTransformer.Fit"/>, a batch of them gets the same consistency term (0: off).
    /// </summary>
    public float ConsistencyWeight { get; init; }
    /// <summary>Weight of an auxiliary metric loss on the pooled row representation (0: off).</summary>
    public float ContrastiveWeight { get; init; }
    /// <summary>Which metric loss: supervised contrastive (Khosla et al. 2020) or batch-hard triplet.</summary>
    public ContrastiveKind Contrastive { get; init; } = ContrastiveKind.SupervisedContrastive;
    /// <summary>Temperature τ of the supervised contrastive loss.</summary>
    public float ContrastiveTemperature { get; init; } = 0.1f;
    /// <summary>Margin of the triplet loss (distances between unit vectors, 0..2).</summary>
    public float TripletMargin { get; init; } = 0.5f;
    /// <summary>How dropout rates change over fine-tuning (the model keeps its configured rates afterwards).</summary>
    public DropoutSchedule DropoutSchedule { get; init; } = DropoutSchedule.Constant;
    /// <summary>The schedule's N: epochs with dropout (early), without (late), or of the rise (curriculum).</summary>
    public double DropoutScheduleEpochs { get; init; } = 1;
    /// <summary>
    /// Decay d of an exponential moving average of the weights over steps (0: off): validation, early
    /// stopping and the kept model then use the average. 0.998 averages over roughly the last 500 steps.
    /// </summary>
    public float WeightAverageDecay { get; init; }
    /// <summary>When set, the weights are written here (safetensors, atomically) at every better validation ROC-AUC.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>Seed for batches and dropout.</summary>
    public ulong Seed { get; init; }
    /// <summary>Wall-clock cap: no epoch starts that would end past it (at least one epoch runs); null for none.</summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>Where the progress bar goes, or null.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>Optimizer of fine-tuning.</summary>
public enum FineTuneOptimizer
{
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
    /// <summary>RAdam inside Lookahead (k = 6, α = 0.5).</summary>
    Ranger,
}

/// <summary>Auxiliary metric loss on pooled row representations.</summary>
public enum ContrastiveKind
{
    /// <summary>Supervised contrastive: rows of one class attract, all others repel (temperature τ).</summary>
    SupervisedContrastive,
    /// <summary>Triplet with batch-hard mining: farthest same-class row nearer than the nearest other-class row by a margin.</summary>
    Triplet,
}

/// <summary>
/// A batch of rows through the encoder: the last layer's hidden states, the key mask, and the [CLS]
/// states of the lower layers the classification head also reads.
/// </summary>
/// <param name="Hidden">The last layer [b, n, H].</param>
/// <param name="KeyMask">1 on real positions, 0 on padding [b, n].</param>
/// <param name="LowerCls">[CLS] of the head's layers below the last, lowest first, side by side [b, (k − 1)·H]; null when the head reads the last layer only.</param>
public readonly record struct EncodedBatch(Tensor Hidden, Tensor KeyMask, Tensor? LowerCls)
{
    /// <summary>The hidden states and the key mask (what co-pretraining reads).</summary>
    public void Deconstruct(out Tensor hidden, out Tensor keyMask) { hidden = Hidden; keyMask = KeyMask; }
}

/// <summary>
/// The multimodal transformer: one encoder reads a whole row — [CLS], one token per table cell (the
/// feature tokenizer), then the tokens of each text column (tag, pieces, [SEP]). Co-pretraining
/// (self-supervised, on labeled and unlabeled rows) joins masked-token modelling on the text,
/// masked-cell modelling on the table (a masked category is classified, a masked number's quantile
/// bin is predicted; missing cells are never targets) and row–text matching (is this text the row's
/// own?). Fine-tuning reads [CLS] with mean, max and attention poolings of the last layer, and
/// optionally the [CLS] of lower layers too (layers concatenated).
/// </summary>
public sealed class MultimodalTransformer : Module
{
    /// <summary>"bert": the encoder (loadable from a BERT checkpoint).</summary>
    public TransformerEncoder Bert { get; }
    /// <summary>"feature_tokenizer".</summary>
    public FeatureTokenizer Cells { get; }
    /// <summary>Layers whose [CLS] the classification head reads: 1 is the last only; k adds the k − 1 below it.</summary>
    public int HeadLayers { get; }
    private readonly LayerNorm _cellNorm;
    private readonly MaskedLmHead _mlm;
    private readonly ModuleList<DenseLayer> _cellHeads;
    private readonly DenseLayer _matching, _attentionPool, _hidden, _output;
    private readonly Dropout _dropout;
    private readonly bool[] _isIndicator;
    private readonly int _numeric, _bins;
    private readonly IReadOnlyList<int> _categorySizes;
    private readonly SpecialTokens _special;

    /// <summary>
    /// Creates the model for <paramref name="data"/>'s features and vocabulary; the classification head
    /// reads the [CLS] of the last <paramref name="headLayers"/> layers besides the poolings.
    /// </summary>
    public MultimodalTransformer(EncoderConfig config, MultimodalData data, Rng rng, int numericBins = 16, int headLayers = 1)
    {
        if (config.VocabSize != data.Vocabulary.Count)
            throw new ArgumentException($"encoder vocabulary {config.VocabSize} differs from the data's {data.Vocabulary.Count}.");
        if (headLayers < 1 || headLayers > config.Layers)
            throw new ArgumentOutOfRangeException(nameof(headLayers), headLayers, $"the head reads between 1 and the encoder's {config.Layers} layers.");
        HeadLayers = headLayers;
        _special = data.Special;
        _numeric = data.Features.NumericCount;
        _isIndicator = [.. data.Features.NumericIsIndicator];
        _categorySizes = data.Features.CategorySizes;
        _bins = numericBins;
        int e = config.EffectiveEmbeddingSize, h = config.HiddenSize;
        Bert = RegisterModule("bert", new TransformerEncoder(config, rng));
        Cells = RegisterModule("feature_tokenizer", new FeatureTokenizer(_numeric, _categorySizes, e, rng, maskable: true));
        _cellNorm = RegisterModule("feature_norm", new LayerNorm(e, config.LayerNormEps));
        _mlm = RegisterModule("mlm", new MaskedLmHead(h, Bert.Embeddings.Word, config.LayerNormEps, rng));
        _cellHeads = RegisterModule("cell_heads", new ModuleList<DenseLayer>(
            Enumerable.Range(0, _numeric).Select(_ => new DenseLayer(h, numericBins, rng)).Concat(_categorySizes.Select(size => new DenseLayer(h, size, rng)))));
        _matching = RegisterModule("matching", new DenseLayer(h, 1, rng));
        _attentionPool = RegisterModule("attention_pool", new DenseLayer(h, 1, rng));
        _hidden = RegisterModule("head_hidden", new DenseLayer(PooledSize, h, rng));
        _output = RegisterModule("head_output", new DenseLayer(h, 1, rng));
        _dropout = RegisterModule("head_dropout", new Dropout(config.HiddenDropout, rng.Fork()));
    }

    /// <summary>Cell tokens per row.</summary>
    public int CellCount => Cells.Features;

    /// <summary>Width of the pooled row representation the head reads, (3 + <see cref="HeadLayers"/>)·H (see <see cref="Pooled"/>).</summary>
    public int PooledSize => (3 + HeadLayers) * Bert.Config.HiddenSize;

    /// <summary>
    /// Rows order[start..start+count) through the encoder: hidden states [b, 1 + cells + text − 1, H] —
    /// [CLS], the cells (masked where <paramref name="maskedCells"/> says), then the text after its [CLS]
    /// (<paramref name="textIds"/> replaces the rows' own text ids when given: corrupted or swapped text) —
    /// with the key mask and the lower layers' [CLS] the head reads.
    /// </summary>
    public EncodedBatch Encode(MultimodalRows rows, int[] order, int start, int count, bool[]? maskedCells = null, int[][]? textIds = null)
    {
        var (embedded, keyMask) = Embed(rows, order, start, count, maskedCells, textIds);
        return EncodeEmbedded(embedded, keyMask);
    }

    /// <summary>
    /// The encoder's input [b, 1 + cells + text − 1, E] and key mask [b, n] (see <see cref="Encode"/>):
    /// the point where Integrated Gradients interpolates.
    /// </summary>
    public (Tensor Embedded, Tensor KeyMask) Embed(MultimodalRows rows, int[] order, int start, int count, bool[]? maskedCells = null, int[][]? textIds = null)
    {
        var text = Enumerable.Range(0, count).Select(i => textIds?[i] ?? rows.Text[order[start + i]].InputIds).ToArray();
        int t = text.Max(x => x.Length), f = CellCount, n = f + t;
        var ids = new int[count * t];
        var mask = new float[count * n];
        Array.Fill(ids, _special.Pad);
        for (int i = 0; i < count; i++)
        {
            text[i].CopyTo(ids, i * t);
            mask[i * n] = 1f;                                                         // [CLS]
            mask.AsSpan(i * n + 1, f).Fill(1f);                                       // cells
            mask.AsSpan(i * n + 1 + f, text[i].Length - 1).Fill(1f);                  // text after [CLS]
        }
        var textEmbedded = Bert.Embed(new EncoderInputs { Ids = new IntTensor(ids, count, t) });   // [b, t, E]
        if (f == 0) return (textEmbedded, Tensor.Wrap(mask, count, n));                        // texts only: [b, t, E]
        var cells = _cellNorm.Forward(Cells.Forward(rows.Table, order, start, count, maskedCells));  // [b, f, E]
        var x = Tensor.Concat(1, textEmbedded.Slice(1, 0, 1), cells, textEmbedded.Slice(1, 1, t - 1)); // [b, 1 + f + t − 1, E]
        return (x, Tensor.Wrap(mask, count, n));
    }

    /// <summary>Runs the encoder layers over embedded input [b, n, E] with key mask [b, n]: hidden states [b, n, H] and what the head reads.</summary>
    public EncodedBatch EncodeEmbedded(Tensor embedded, Tensor keyMask)
    {
        int b = embedded.Dim(0), n = embedded.Dim(1);
        var layers = Bert.EncodeLayers(embedded, new EncoderInputs { Ids = new IntTensor(new int[b * n], b, n), KeyMask = keyMask }, HeadLayers);
        var lowerCls = HeadLayers == 1 ? null
            : Tensor.Concat(1, layers.Take(HeadLayers - 1).Select(TransformerEncoder.FirstToken).ToArray());   // [b, (k − 1)·H]
        return new EncodedBatch(layers[^1], keyMask, lowerCls);
    }

    /// <summary>Classification logits [b]: [CLS], mean, max and attention pooling (and lower layers' [CLS]) → dense → GELU → dense.</summary>
    public Tensor Logits(EncodedBatch batch) => Head(Pooled(batch));

    /// <summary>The classifier on pooled rows [b, (3 + k)·H]: dropout → dense → GELU → dropout → dense, logits [b].</summary>
    private Tensor Head(Tensor pooled) => _output.Forward(_dropout.Forward(_hidden.Forward(_dropout.Forward(pooled)).Gelu())).Reshape(pooled.Dim(0));

    /// <summary>
    /// The row representation [b, (3 + k)·H]: [CLS] (straight from the last layer), mean, max and attention
    /// pooling of the last layer, then the [CLS] of the k − 1 layers below it (k = <see cref="HeadLayers"/>).
    /// </summary>
    public Tensor Pooled(EncodedBatch batch)
    {
        var (hidden, keyMask) = batch;
        int b = hidden.Dim(0), n = hidden.Dim(1), h = hidden.Dim(2);
        var m = keyMask.Reshape(b, n, 1);
        var cls = TransformerEncoder.FirstToken(hidden);                                      // [b, H]
        var mean = (hidden * m).Sum(1) / m.Sum(1);                                            // [b, H]
        var max = (hidden + (m - 1f) * 1e4f).Max(1);                                          // padding can never win
        var scores = _attentionPool.Forward(hidden).Reshape(b, n) + (keyMask - 1f) * 1e4f;    // [b, n]
        var attended = (scores.Softmax().Reshape(b, n, 1) * hidden).Sum(1);                   // [b, H]
        return batch.LowerCls is null ? Tensor.Concat(1, cls, mean, max, attended)              // [b, 4H]
                                      : Tensor.Concat(1, cls, mean, max, attended, batch.LowerCls);   // [b, (3 + k)·H]
    }

    // ---- co-pretraining -----------------------------------------------------------------------

    /// <summary>What one co-pretraining batch masks and asks (exposed for tests).</summary>
    /// <param name="MaskedCells">[count, cells] cells replaced by the mask token.</param>
    /// <param name="CellTargets">For each masked cell (row-major), its target class (quantile bin or category id).</param>
    /// <param name="TextSource">For each row, the row whose text it reads (itself, or a negative).</param>
    public sealed record CoPretrainingPlan(bool[] MaskedCells, int[] CellTargets, int[] TextSource);

    /// <summary>Chooses masked cells (never missing ones) and text partners (never the row itself for a negative).</summary>
    public CoPretrainingPlan Plan(MultimodalRows rows, int[] order, int start, int count, CoPretrainingOptions options, Rng rng)
    {
        int f = CellCount, cats = _categorySizes.Count;
        var edges = Enumerable.Range(1, _bins - 1).Select(k => Data.QuantileTransformer.InverseNormalCdf(k / (double)_bins)).ToArray();
        var masked = new bool[count * f];
        var targets = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int r = order[start + i];
            var candidates = new List<int>();
            for (int j = 0; j < _numeric; j++)
            {
                if (_isIndicator[j]) continue;
                bool missing = j + 1 < _numeric && _isIndicator[j + 1] && rows.Table.Numeric[r * _numeric + j + 1] == 1f;
                if (!missing) candidates.Add(j);
            }
            for (int j = 0; j < cats; j++)
                if (rows.Table.Categorical[r * cats + j] != CategoricalVocabulary.MissingId) candidates.Add(_numeric + j);
            if (candidates.Count == 0) continue;
            int take = Math.Max(1, (int)Math.Round(candidates.Count * options.CellRate));
            var pick = candidates.ToArray();
            rng.Shuffle<int>(pick);
            foreach (int j in pick.Take(take).Order()) masked[i * f + j] = true;
        }
        for (int i = 0; i < count; i++)
        {
            int r = order[start + i];
            for (int j = 0; j < f; j++)
            {
                if (!masked[i * f + j]) continue;
                targets.Add(j < _numeric
                    ? edges.Count(e => e < rows.Table.Numeric[r * _numeric + j])              // quantile bin of the rank-Gauss value
                    : rows.Table.Categorical[r * cats + (j - _numeric)]);
            }
        }
        // Half the rows read another row's text (a random partner, never themselves). A table without
        // cells has nothing to match, and without the matching loss nothing would learn from a swap (the
        // masked cells and text would only be predicted beside a stranger's), so then every row keeps its own.
        var source = Enumerable.Range(0, count).ToArray();
        if (count > 1 && f > 0 && options.MatchingWeight > 0)
            for (int i = 0; i < count; i++)
                if (rng.NextDouble() < 0.5)
                {
                    int partner = rng.NextInt(count - 1);
                    source[i] = partner >= i ? partner + 1 : partner;
                }
        return new CoPretrainingPlan(masked, [.. targets], source);
    }

    /// <summary>The joint co-pretraining loss of rows order[start..start+count) and its parts.</summary>
    public PretrainingLoss CoPretrainingLoss(MultimodalRows rows, int[] order, int start, int count, CoPretrainingOptions options, Rng rng)
    {
        var plan = Plan(rows, order, start, count, options, rng);
        var masker = new TokenMasker(options.TextMasking, _special, Bert.Config.VocabSize);
        var text = new int[count][];
        var mlmWhere = new List<int>(); var mlmTargets = new List<int>();
        var matched = new float[count];
        int f = CellCount;
        var textRows = plan.TextSource.Select(s => rows.Text[order[start + s]]).ToArray();
        int n = f + textRows.Max(t => t.Length);
        for (int i = 0; i < count; i++)
        {
            var own = textRows[i];
            matched[i] = plan.TextSource[i] == i ? 1f : 0f;
            text[i] = (int[])own.InputIds.Clone();
            foreach (int p in masker.Choose(new TokenSequence(own.InputIds, own.WordIds), rng))
            {
                mlmWhere.Add(i * n + f + p);                                                  // text position p sits at f + p
                mlmTargets.Add(own.InputIds[p]);
                text[i][p] = masker.Corrupt(own.InputIds[p], rng);
            }
        }
        var (hidden, _) = Encode(rows, order, start, count, plan.MaskedCells, text);
        int h = hidden.Dim(2);
        var flat = hidden.Reshape(-1, h);                                                     // [b·n, H]
        var parts = new Dictionary<string, double>();
        Tensor? total = null;
        void Add(string name, Tensor loss, float weight)
        {
            parts[name] = loss.Item();
            total = total is null ? loss * weight : total + loss * weight;
        }
        if (mlmWhere.Count > 0 && options.TextWeight > 0)
            Add("text_mlm", Tensor.CrossEntropy(_mlm.Forward(flat.IndexSelect(0, new IntTensor([.. mlmWhere], mlmWhere.Count))), new IntTensor([.. mlmTargets], mlmTargets.Count)), options.TextWeight);
        if (plan.CellTargets.Length > 0 && options.CellWeight > 0)
        {
            // One head per column; each masked cell's hidden state sits at 1 + j.
            Tensor? cellLoss = null;
            int k = 0;
            var byColumn = new Dictionary<int, (List<int> Where, List<int> Targets)>();
            for (int i = 0; i < count; i++)
                for (int j = 0; j < f; j++)
                {
                    if (!plan.MaskedCells[i * f + j]) continue;
                    if (!byColumn.TryGetValue(j, out var list)) byColumn[j] = list = ([], []);
                    list.Where.Add(i * n + 1 + j);
                    list.Targets.Add(plan.CellTargets[k++]);
                }
            foreach (var (j, (where, targets)) in byColumn)
            {
                var logits = _cellHeads[j].Forward(flat.IndexSelect(0, new IntTensor([.. where], where.Count)));
                var loss = Tensor.CrossEntropy(logits, new IntTensor([.. targets], targets.Count)) * (where.Count / (float)plan.CellTargets.Length);
                cellLoss = cellLoss is null ? loss : cellLoss + loss;
            }
            Add("masked_cells", cellLoss!, options.CellWeight);
        }
        // Without table cells there is nothing for a text to match.
        if (count > 1 && f > 0 && options.MatchingWeight > 0)
            Add("row_text_matching", Tensor.BinaryCrossEntropyWithLogits(_matching.Forward(TransformerEncoder.FirstToken(hidden)).Reshape(count), Tensor.FromArray(matched, count)), options.MatchingWeight);
        return new PretrainingLoss(total ?? throw new InvalidOperationException("every co-pretraining loss has weight 0."), parts);
    }

    /// <summary>Co-pretraining as a <see cref="ITrainingTask"/> over <paramref name="rows"/> (labels unused).</summary>
    public ITrainingTask CoPretrainingTask(MultimodalRows rows, int batchSize, CoPretrainingOptions options, ulong seed) => new CoPretraining(this, rows, batchSize, options, seed);

    private sealed class CoPretraining(MultimodalTransformer model, MultimodalRows rows, int batchSize, CoPretrainingOptions options, ulong seed) : ITrainingTask
    {
        private int[] _order = [];
        private int _epoch = -1;

        public Module Model => model;

        public TrainingStepResult Step(long microBatch, Rng rng)
        {
            int perEpoch = Math.Max(1, rows.Count / batchSize);
            int epoch = (int)(microBatch / perEpoch);
            if (epoch != _epoch)
            {
                _order = Enumerable.Range(0, rows.Count).ToArray();
                new Rng(Rng.Mix(seed, (ulong)epoch)).Shuffle<int>(_order);
                _epoch = epoch;
            }
            int start = (int)(microBatch % perEpoch) * batchSize, count = Math.Min(batchSize, rows.Count - start);
            var loss = model.CoPretrainingLoss(rows, _order, start, count, options, rng);
            int tokens = Enumerable.Range(start, count).Sum(i => rows.Text[_order[i]].Length + model.CellCount);
            return new TrainingStepResult(loss.Loss, tokens, loss.Parts);
        }

        public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double>();
    }

    // ---- fine-tuning ----------------------------------------------------------------------------

    /// <summary>Validation ROC-AUC after each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> ValidationCurve { get; } = new();
    /// <summary>Mean training loss of each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> TrainingLossCurve { get; } = new();

    /// <summary>
    /// Fine-tunes on labeled rows with AdamW or Ranger, layer-wise learning-rate decay (the head at the
    /// full rate, each encoder layer below it decayed once more, embeddings and cells last), warm-up, an
    /// optional frozen-encoder start, and early stopping on validation ROC-AUC; the best epoch's weights
    /// are kept (and written to <see cref="MultimodalFineTuneOptions.CheckpointPath"/> when set). The
    /// regularizers of <paramref name="options"/> — FGM, R-Drop consistency (also on
    /// <paramref name="unlabeled"/> rows), a contrastive or triplet term — join the loss when their weight is set,
    /// and a dropout schedule (early, late, curriculum) scales every dropout rate by epoch.
    /// </summary>
    public void Fit(MultimodalRows train, IReadOnlyList<int> labels, MultimodalRows validation, IReadOnlyList<int> validationLabels,
                    MultimodalFineTuneOptions options, MultimodalRows? unlabeled = null)
    {
        if (options.PositiveWeight is null)
        {
            int positives = labels.Count(v => v == 1);
            options = options with { PositiveWeight = Math.Max(1f, (labels.Count - positives) / (float)Math.Max(1, positives) / 2) };
        }
        int layers = Bert.Config.Layers;
        static bool IsBackbone(string name) => name.StartsWith("bert.", StringComparison.Ordinal) || name.StartsWith("feature_", StringComparison.Ordinal);
        float Rate(string name)
        {
            if (name.StartsWith("bert.encoder.layer.", StringComparison.Ordinal))
            {
                int set = int.Parse(name.Split('.')[3]);
                return options.LearningRate * MathF.Pow(options.LayerDecay, layers - set);
            }
            return IsBackbone(name) ? options.LearningRate * MathF.Pow(options.LayerDecay, layers + 1) : options.LearningRate;
        }
        var trainable = NamedParameters().Where(p => p.Parameter.RequiresGrad).ToList();
        var backbone = trainable.Where(p => IsBackbone(p.Name)).Select(p => p.Parameter).ToList();
        var embeddings = trainable.Where(p => p.Name == "bert.embeddings.word_embeddings.weight" || p.Name.StartsWith("feature_tokenizer.", StringComparison.Ordinal))
            .Select(p => p.Parameter).ToList();
        var groups = trainable.GroupBy(p => (Rate(p.Name), p.Parameter.Rank >= 2))
            .Select(g => new ParamGroup(g.Select(p => p.Parameter), g.Key.Item1, g.Key.Item2 ? 0.01f : 0f)).ToList();
        Optimizer optimizer = options.Optimizer == FineTuneOptimizer.Ranger ? new Lookahead(new RAdam(groups, decoupledWeightDecay: true)) : new AdamW(groups);
        var order = Enumerable.Range(0, train.Count).ToArray();
        var unlabeledOrder = unlabeled is { Count: > 0 } ? Enumerable.Range(0, unlabeled.Count).ToArray() : null;
        // RAdam's rectifier already holds the first steps back, so Ranger gets no warm-up of ours on top.
        int perEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize, total = perEpoch * options.MaxEpochs, step = 0;
        int warmup = options.Optimizer == FineTuneOptimizer.Ranger ? 0 : Math.Max(1, total / 10);
        double best = double.NegativeInfinity;
        Dictionary<string, float[]>? bestState = null;
        int sinceBest = 0;
        ValidationCurve.Clear();
        TrainingLossCurve.Clear();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var bar = options.Progress is null ? null : new ProgressBar(options.Progress, "fine-tune");
        var dropout = new DropoutScheduler(this, options.DropoutSchedule, options.DropoutScheduleEpochs);
        var average = options.WeightAverageDecay > 0 ? new WeightAverage(Parameters(), options.WeightAverageDecay) : null;
        try
        {
            for (int epoch = 0; epoch < options.MaxEpochs && sinceBest < options.Patience; epoch++)
            {
                if (epoch > 0 && options.TimeBudget is TimeSpan budget && clock.Elapsed + clock.Elapsed / epoch > budget) break;
                bool frozen = epoch < options.FreezeEpochs;
                foreach (var p in backbone) p.RequiresGrad = !frozen;   // frozen: no gradient, so the optimizer skips them and backward stops at the head
                Train();
                new Rng(Rng.Mix(options.Seed, (ulong)epoch)).Shuffle<int>(order);
                if (unlabeledOrder is not null) new Rng(Rng.Mix(options.Seed ^ 0x0DA7A, (ulong)epoch)).Shuffle<int>(unlabeledOrder);
                double lossSum = 0;
                int batches = 0;
                for (int s = 0; s < train.Count; s += options.BatchSize, step++)
                {
                    int count = Math.Min(options.BatchSize, train.Count - s);
                    using var scope = new TensorScope();
                    ReseedRandom(Rng.Mix(options.Seed ^ 0xF17E, (ulong)step));
                    float multiplier = LearningRateSchedules.WarmupLinear(step, warmup, total);
                    dropout.Apply(epoch + (double)s / train.Count);
                    foreach (var g in optimizer.Groups) g.LearningRate = g.BaseLearningRate * multiplier;
                    var y = Enumerable.Range(s, count).Select(i => (float)labels[order[i]]).ToArray();
                    var encoded = Encode(train, order, s, count);
                    var pooled = Pooled(encoded);                                                     // [b, (3 + k)·H]
                    var logits = Head(pooled);                                                        // [b]
                    var loss = Loss(logits, y, options);
                    if (options.ConsistencyWeight > 0)
                    {
                        // R-Drop: the same rows again under fresh dropout masks; both passes learn the labels.
                        var logits2 = Logits(Encode(train, order, s, count));
                        loss = (loss + Loss(logits2, y, options)) * 0.5f + SymmetricKl(logits, logits2) * options.ConsistencyWeight;
                        if (unlabeledOrder is not null)
                        {
                            int u = (int)((long)batches * count % unlabeledOrder.Length), uc = Math.Min(count, unlabeledOrder.Length - u);
                            var first = Logits(Encode(unlabeled!, unlabeledOrder, u, uc));
                            var second = Logits(Encode(unlabeled!, unlabeledOrder, u, uc));
                            loss = loss + SymmetricKl(first, second) * options.ConsistencyWeight;
                        }
                    }
                    if (options.ContrastiveWeight > 0 && y.Distinct().Count() > 1)
                        loss = loss + (options.Contrastive == ContrastiveKind.Triplet
                            ? TripletLoss(pooled, y, options.TripletMargin)
                            : SupervisedContrastiveLoss(pooled, y, options.ContrastiveTemperature)) * options.ContrastiveWeight;
                    optimizer.ZeroGrad();
                    loss.Backward();
                    if (options.AdversarialEpsilon > 0 && !frozen)
                    {
                        // FGM: one more pass at the embeddings pushed uphill along their gradient; its gradient adds to the clean one.
                        var restore = PerturbAlongGradient(embeddings, options.AdversarialEpsilon);
                        Loss(Logits(Encode(train, order, s, count)), y, options).Backward();
                        restore();
                    }
                    GradientClipping.ClipGradNorm(TrainableParameters(), 1f);
                    optimizer.Step();
                    average?.Update();
                    lossSum += loss.Item(); batches++;
                    bar?.Update(step + 1, total, clock.Elapsed, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"epoch {epoch + 1}{(frozen ? " (head only)" : "")} loss {lossSum / batches:0.0000}{(ValidationCurve.Count > 0 ? $" best val AUC {best:0.0000}" : "")}"));
                }
                TrainingLossCurve.Add(lossSum / Math.Max(1, batches));
                using (average?.Swap())   // with an average, it is what is validated and kept; training goes on from the live weights
                {
                    double auc = Metrics.RocAuc(PredictProbability(validation), validationLabels);
                    ValidationCurve.Add(auc);
                    if (auc > best)
                    {
                        best = auc; sinceBest = 0; bestState = CopyState();
                        if (options.CheckpointPath is not null) SafetensorsWriter.Save(options.CheckpointPath, StateDict());
                    }
                    else sinceBest++;
                }
            }
        }
        finally
        {
            foreach (var p in backbone) p.RequiresGrad = true;
            dropout.Restore();
        }
        bar?.Finish();
        if (bestState is not null) RestoreState(bestState);
    }

    /// <summary>
    /// Moves each tensor by ε·g/‖g‖ along its own gradient g (tensors without gradient stay); returns
    /// the action that puts the exact original values back.
    /// </summary>
    internal static Action PerturbAlongGradient(IReadOnlyList<Tensor> tensors, float epsilon)
    {
        var saved = new List<(Tensor Tensor, float[] Values)>();
        foreach (var t in tensors)
        {
            if (t.Grad is null) continue;
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(t.Grad.Data);
            if (!(norm > 0) || !float.IsFinite(norm)) continue;
            saved.Add((t, t.Data.ToArray()));
            var data = t.Data; var grad = t.Grad.Data;
            for (int i = 0; i < data.Length; i++) data[i] += epsilon * grad[i] / norm;
        }
        return () => { foreach (var (t, values) in saved) values.CopyTo(t.Data); };
    }

    /// <summary>
    /// Mean over rows of the symmetric KL divergence ½(KL(p‖q) + KL(q‖p)) between the Bernoulli
    /// predictions σ(a) and σ(b) of two logit vectors [b]. For Bernoulli distributions the sum of the two
    /// KLs is exactly (p − q)(a − b), which is what is computed.
    /// </summary>
    public static Tensor SymmetricKl(Tensor a, Tensor b) => ((a.Sigmoid() - b.Sigmoid()) * (a - b)).MeanAll() * 0.5f;

    /// <summary>
    /// Supervised contrastive loss (Khosla et al. 2020, the "L_out" form) of representations [b, d]
    /// with 0/1 labels: rows are normalized to unit length; for every anchor with at least one other
    /// row of its class, −mean over those positives p of log(exp(zᵢ·z_p/τ) / Σ_{a≠i} exp(zᵢ·z_a/τ));
    /// averaged over such anchors.
    /// </summary>
    public static Tensor SupervisedContrastiveLoss(Tensor features, float[] y, float temperature)
    {
        int b = y.Length;
        var z = Normalize(features);                                                          // [b, d], unit rows
        var self = new float[b * b]; var positive = new float[b * b]; var anchors = new float[b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++)
            {
                if (i == j) { self[i * b + j] = -1e4f; continue; }                            // an anchor never competes with itself
                if (y[i] == y[j]) { positive[i * b + j] = 1f; anchors[i] += 1f; }
            }
        int used = anchors.Count(c => c > 0);
        if (used == 0) return Tensor.Zeros(1).SumAll();
        var similarity = Tensor.MatMul(z, z, transB: true) * (1f / temperature) + Tensor.Wrap(self, b, b);   // [b, b]
        var logProbability = similarity.LogSoftmax();                                          // over a ≠ i
        var perAnchor = (logProbability * Tensor.Wrap(positive, b, b)).Sum(1);                // [b] Σ over positives
        var weights = anchors.Select(c => c > 0 ? -1f / (c * used) : 0f).ToArray();
        return (perAnchor * Tensor.FromArray(weights, b)).SumAll();
    }

    /// <summary>
    /// Triplet loss with batch-hard mining (Hermans et al. 2017) on unit-normalized representations
    /// [b, d]: for each anchor with a same-class partner and an other-class row,
    /// max(0, d(anchor, farthest positive) − d(anchor, nearest negative) + margin), d the squared
    /// Euclidean distance 2 − 2 cos; averaged over those anchors.
    /// </summary>
    public static Tensor TripletLoss(Tensor features, float[] y, float margin)
    {
        int b = y.Length;
        var z = Normalize(features);
        var distance = (Tensor.MatMul(z, z, transB: true) * -2f).AddScalar(2f);              // [b, b]
        var notPositive = new float[b * b]; var notNegative = new float[b * b]; var valid = new float[b];
        for (int i = 0; i < b; i++)
        {
            bool hasPositive = false, hasNegative = false;
            for (int j = 0; j < b; j++)
            {
                bool pos = i != j && y[i] == y[j], neg = y[i] != y[j];
                hasPositive |= pos; hasNegative |= neg;
                notPositive[i * b + j] = pos ? 0f : -1e4f;
                notNegative[i * b + j] = neg ? 0f : 1e4f;
            }
            valid[i] = hasPositive && hasNegative ? 1f : 0f;
        }
        float used = valid.Sum();
        if (used == 0) return Tensor.Zeros(1).SumAll();
        var hardestPositive = (distance + Tensor.Wrap(notPositive, b, b)).Max(1);             // [b] farthest same-class row
        var hardestNegative = -((-distance) - Tensor.Wrap(notNegative, b, b)).Max(1);         // [b] nearest other-class row
        return ((hardestPositive - hardestNegative).AddScalar(margin).Relu() * Tensor.FromArray(valid, b)).SumAll() * (1f / used);
    }

    /// <summary>Rows of [b, d] scaled to unit length.</summary>
    private static Tensor Normalize(Tensor x) => x / ((x * x).Sum(1, keepDim: true).AddScalar(1e-12f).Sqrt());

    /// <summary>
    /// The fine-tuning loss of logits [b] against 0/1 targets: binary cross-entropy with label
    /// smoothing and a positive-class weight, optionally focal ((1 − p_t)^γ per row), then flooding.
    /// </summary>
    public static Tensor Loss(Tensor logits, float[] y, MultimodalFineTuneOptions o)
    {
        int b = y.Length;
        var target = y.Select(v => v * (1 - o.LabelSmoothing) + o.LabelSmoothing / 2).ToArray();
        float positiveWeight = o.PositiveWeight ?? 1f;
        var weights = y.Select(v => v > 0.5f ? positiveWeight : 1f).ToArray();
        var t = Tensor.FromArray(target, b);
        var perRow = logits.Softplus() - logits * t;                                          // BCE with logits, per row
        if (o.FocalGamma > 0)
        {
            var p = logits.Sigmoid();
            var pt = p * t + (p.RSubScalar(1f)) * t.RSubScalar(1f);                           // probability of the true class
            perRow = perRow * pt.RSubScalar(1f).Pow(o.FocalGamma);
        }
        var loss = (perRow * Tensor.FromArray(weights, b)).SumAll() * (1f / weights.Sum());
        if (o.Flooding > 0)
        {
            var gap = loss - o.Flooding;
            loss = gap.Relu() + (-gap).Relu() + o.Flooding;                                    // |L − b| + b
        }
        return loss;
    }

    /// <summary>Probabilities for every row of <paramref name="rows"/>, in order.</summary>
    public double[] PredictProbability(MultimodalRows rows, int batchSize = 64)
    {
        bool wasTraining = IsTraining;
        Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            var order = Enumerable.Range(0, rows.Count).OrderBy(i => rows.Text[i].Length).ToArray();   // little padding
            var p = new double[rows.Count];
            for (int s = 0; s < rows.Count; s += batchSize)
            {
                int count = Math.Min(batchSize, rows.Count - s);
                using var scope = new TensorScope();
                var logits = Logits(Encode(rows, order, s, count)).Data;
                for (int i = 0; i < count; i++) p[order[s + i]] = 1 / (1 + Math.Exp(-logits[i]));
            }
            return p;
        }
        finally { Train(wasTraining); }
    }

    // ---- attributions ---------------------------------------------------------------------------

    /// <summary>Integrated Gradients of one row: each input position's share of the logit's change from the baseline.</summary>
    /// <param name="Positions">Per encoder position ([CLS], cells, then text after [CLS]): Σₑ (x − x′)ₑ · mean ∂logit/∂xₑ along the path.</param>
    /// <param name="Logit">The row's logit.</param>
    /// <param name="BaselineLogit">The baseline's logit; completeness: Σ positions ≈ logit − baseline logit.</param>
    public sealed record Attribution(float[] Positions, float Logit, float BaselineLogit);

    /// <summary>
    /// Integrated Gradients (Sundararajan et al. 2017) on the encoder's input embeddings of row
    /// <paramref name="row"/>. The baseline is the row with nothing known: every cell replaced by the
    /// mask token and every text piece by [MASK] (column tags, [CLS] and [SEP] stay, so they get no
    /// credit). The path integral is a midpoint Riemann sum over <paramref name="steps"/> points, run as
    /// one batch; dropout is off.
    /// </summary>
    public Attribution IntegratedGradients(MultimodalRows rows, int row, int steps = 32)
    {
        bool wasTraining = IsTraining;
        Eval();
        try
        {
            var own = rows.Text[row];
            var masked = own.InputIds.Select((id, p) => own.ColumnIds[p] > 0 && own.WordIds[p] >= 0 ? _special.Mask : id).ToArray();
            float[] input, baseline, mask;
            int n, e;
            float logit, baseLogit;
            using (GradMode.NoGrad())
            {
                var (x, keyMask) = Embed(rows, [row], 0, 1);                                                   // [1, n, E]
                var (x0, _) = Embed(rows, [row], 0, 1, Enumerable.Repeat(true, CellCount).ToArray(), [masked]);
                n = x.Dim(1); e = x.Dim(2);
                input = x.Data.ToArray(); baseline = x0.Data.ToArray(); mask = keyMask.Data.ToArray();
                logit = Logits(EncodeEmbedded(x, keyMask)).Item();
                baseLogit = Logits(EncodeEmbedded(x0, keyMask)).Item();
            }
            // x_k = x′ + αₖ (x − x′), αₖ = (k + ½) / steps, all in one batch.
            var path = new float[steps * n * e];
            for (int k = 0; k < steps; k++)
            {
                float alpha = (k + 0.5f) / steps;
                for (int i = 0; i < n * e; i++) path[k * n * e + i] = baseline[i] + alpha * (input[i] - baseline[i]);
            }
            var points = Tensor.Wrap(path, steps, n, e);                                                       // [steps, n, E]
            points.RequiresGrad = true;
            var stepMask = Tensor.Wrap(Enumerable.Range(0, steps).SelectMany(_ => mask).ToArray(), steps, n);
            Logits(EncodeEmbedded(points, stepMask)).SumAll().Backward();
            var grad = points.Grad!.Data;
            var positions = new float[n];
            for (int p = 0; p < n; p++)
            {
                double sum = 0;
                for (int k = 0; k < steps; k++)
                    for (int j = 0; j < e; j++)
                        sum += (input[p * e + j] - baseline[p * e + j]) * grad[(k * n + p) * e + j];
                positions[p] = (float)(sum / steps);
            }
            ZeroGrad();   // the backward pass also reached the weights
            return new Attribution(positions, logit, baseLogit);
        }
        finally { Train(wasTraining); }
    }

    // ---- saving -----------------------------------------------------------------------------------

    /// <summary>
    /// Writes the model and what it reads rows with: <c>config.json</c> (the encoder, Hugging Face keys),
    /// <c>model.safetensors</c> (every weight), <c>multimodal_data.json</c> and <c>vocab.txt</c>.
    /// </summary>
    public void Save(string directory, MultimodalData data)
    {
        Directory.CreateDirectory(directory);
        data.Save(directory);
        SafetensorsWriter.Save(Path.Combine(directory, BertCheckpoint.WeightsFile), StateDict(),
            metadata: new Dictionary<string, string>
            {
                ["format"] = "jianwei-multimodal",
                ["numeric_bins"] = _bins.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["head_layers"] = HeadLayers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        AtomicFile.WriteAllText(Path.Combine(directory, BertCheckpoint.ConfigFile), Bert.Config.ToJson());
    }

    /// <summary>
    /// Loads what <see cref="Save"/> wrote. Everything is checked before it is used: the configuration
    /// against the weight file's size (a tampered config cannot make it allocate a giant model), the
    /// vocabulary and the longest text row against the embeddings, every weight's name, shape and
    /// finiteness; each problem is a <see cref="ModelFormatException"/> naming the file.
    /// </summary>
    public static (MultimodalTransformer Model, MultimodalData Data) Load(string directory)
    {
        var data = MultimodalData.Load(directory);
        string configPath = Path.Combine(directory, BertCheckpoint.ConfigFile), weightsPath = Path.Combine(directory, BertCheckpoint.WeightsFile);
        if (!File.Exists(configPath)) throw new ModelFormatException(configPath, null, "the file is missing.");
        if (!File.Exists(weightsPath)) throw new ModelFormatException(weightsPath, null, "the file is missing.");
        EncoderConfig config;
        try { config = BertCheckpoint.ReadConfig(directory); }
        catch (FormatException e) { throw new ModelFormatException(configPath, null, e.Message.StartsWith(configPath, StringComparison.Ordinal) ? e.Message[(configPath.Length + 2)..] : e.Message); }
        if (config.VocabSize != data.Vocabulary.Count)
            throw new ModelFormatException(configPath, "vocab_size", $"{config.VocabSize}, but vocab.txt holds {data.Vocabulary.Count} tokens.");
        if (config.Positions == PositionEncoding.Absolute && data.TextEncoder.MaxLength > config.MaxPositions)
            throw new ModelFormatException(configPath, "max_position_embeddings", $"{config.MaxPositions}, fewer than the {data.TextEncoder.MaxLength} positions the text budgets can fill.");
        SafetensorsFile file;
        try { file = SafetensorsFile.Load(weightsPath); }
        catch (SafetensorsFormatException e) { throw new ModelFormatException(weightsPath, null, e.Message.StartsWith(weightsPath, StringComparison.Ordinal) ? e.Message[(weightsPath.Length + 2)..] : e.Message); }
        long stored = file.Entries.Values.Where(e => e.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16).Sum(e => e.Count);
        int emb = config.EffectiveEmbeddingSize, h = config.HiddenSize;
        long needed = (long)config.VocabSize * emb + (long)config.WeightSets * 4 * h * h + data.Features.CategorySizes.Sum(c => (long)c) * emb;
        if (needed > stored)
            throw new ModelFormatException(configPath, null, $"describes a model of at least {needed:N0} weights, but {BertCheckpoint.WeightsFile} holds {stored:N0}.");
        int Metadata(string key, int fallback, int max)
        {
            if (!file.Metadata.TryGetValue(key, out var text)) return fallback;
            return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) && v >= 1 && v <= max ? v
                : throw new ModelFormatException(weightsPath, $"__metadata__.{key}", $"'{text}' is not a whole number between 1 and {max}.");
        }
        int bins = Metadata("numeric_bins", 16, 1024);
        int headLayers = Metadata("head_layers", 1, config.Layers);   // files from before the option read the last layer only
        var state = file.ToStateDict();
        foreach (var (name, tensor) in state)
            if (FirstNonFinite(tensor.Data) is var at and >= 0)
                throw new ModelFormatException(weightsPath, name, $"element {at} is {tensor.Data[at]}; weights must be finite.");
        var model = new MultimodalTransformer(config, data, new Rng(0), bins, headLayers);
        try { model.LoadStateDict(state); }
        catch (StateDictException e) { throw new ModelFormatException(weightsPath, null, ModelFormatException.Describe(e)); }
        model.Eval();
        return (model, data);
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
