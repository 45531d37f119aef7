using Jianwei.Models.Layers;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Serialization;
using Jianwei.Models.Transformers;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Serialization;
using Jianwei.Tensors;

namespace Jianwei.Models.Multimodal;

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
/// <remarks>
/// One class in four files: the module, encoding, pooling, scoring and save/load here;
/// co-pretraining in <c>MultimodalTransformer.CoPretraining.cs</c>; fine-tuning in
/// <c>MultimodalTransformer.FineTuning.cs</c>; Integrated Gradients in <c>MultimodalTransformer.Attribution.cs</c>.
/// </remarks>
public sealed partial class MultimodalTransformer : Module
{
    /// <summary>"bert": the encoder (loadable from a BERT checkpoint).</summary>
    public TransformerEncoder Bert { get; }
    /// <summary>"feature_tokenizer".</summary>
    public FeatureTokenizer Cells { get; }
    /// <summary>Layers whose [CLS] the classification head reads: 1 is the last only; k adds the k − 1 below it.</summary>
    public int HeadLayers { get; }
    private readonly LayerNorm _cellNorm;
    private readonly MaskedLmHead _mlm;
    private readonly ModuleList<Linear> _cellHeads;
    private readonly Linear _matching, _attentionPool, _hidden, _output;
    private readonly Dropout _dropout;
    private readonly bool[] _isIndicator;
    private readonly int _numeric, _bins;
    private readonly IReadOnlyList<int> _categorySizes;
    private readonly SpecialTokens _special;

    /// <summary>A fresh model over <paramref name="data"/>'s inputs, its vocabulary size taken from the data, initialized from <paramref name="seed"/>.</summary>
    public static MultimodalTransformer Create(MultimodalData data, EncoderConfig encoder, ulong seed, int headLayers = 1) =>
        new(encoder with { VocabSize = data.Vocabulary.Count }, data, new Rng(seed), headLayers: headLayers);

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
        _cellHeads = RegisterModule("cell_heads", new ModuleList<Linear>(
            Enumerable.Range(0, _numeric).Select(_ => new Linear(h, numericBins, rng)).Concat(_categorySizes.Select(size => new Linear(h, size, rng)))));
        _matching = RegisterModule("matching", new Linear(h, 1, rng));
        _attentionPool = RegisterModule("attention_pool", new Linear(h, 1, rng));
        _hidden = RegisterModule("head_hidden", new Linear(PooledSize, h, rng));
        _output = RegisterModule("head_output", new Linear(h, 1, rng));
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

    /// <summary>Probabilities for every row of <paramref name="rows"/>, in order.</summary>
    public double[] PredictProbability(MultimodalRows rows, int batchSize = 64)
    {
        var order = Enumerable.Range(0, rows.Count).OrderBy(i => rows.Text[i].Length).ToArray();   // little padding
        return BatchedPrediction.Probabilities(this, order, batchSize, (s, count) => Logits(Encode(rows, order, s, count)));
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
        EncoderConfig config;
        try { config = BertCheckpoint.ReadConfig(directory); }
        catch (FormatException e) { throw new ModelFormatException(configPath, null, e.Message.StartsWith(configPath, StringComparison.Ordinal) ? e.Message[(configPath.Length + 2)..] : e.Message); }
        if (config.VocabSize != data.Vocabulary.Count)
            throw new ModelFormatException(configPath, "vocab_size", $"{config.VocabSize}, but vocab.txt holds {data.Vocabulary.Count} tokens.");
        if (config.Positions == PositionEncoding.Absolute && data.TextEncoder.MaxLength > config.MaxPositions)
            throw new ModelFormatException(configPath, "max_position_embeddings", $"{config.MaxPositions}, fewer than the {data.TextEncoder.MaxLength} positions the text budgets can fill.");
        var file = WeightFile.Open(weightsPath);
        long stored = WeightFile.FloatCount(file);
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
        var model = new MultimodalTransformer(config, data, new Rng(0), bins, headLayers);
        WeightFile.LoadInto(model, file, weightsPath);
        model.Eval();
        return (model, data);
    }
}
