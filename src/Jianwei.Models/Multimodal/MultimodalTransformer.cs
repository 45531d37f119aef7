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
/// <param name="Keywords">The keyword channel's log-odds [b], added to the head's; null without the channel (or for corrupted rows in co-pretraining).</param>
public readonly record struct EncodedBatch(Tensor Hidden, Tensor KeyMask, Tensor? LowerCls, Tensor? Keywords = null)
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
    /// <summary>
    /// Whether the classification head also reads every cell's last-layer state, side by side. Through the
    /// poolings alone, a dozen cells reach the head mixed into some 150 text positions: on the SME data with
    /// 2,000 labels the co-pretrained model fine-tuned to 0.660 ROC-AUC (from scratch 0.689), though a
    /// linear probe on its frozen, standardized poolings reached 0.735 — the information was there, the
    /// head did not get to it. Reading the cells apart: 0.734 co-pretrained, 0.729 from scratch (issue 23).
    /// </summary>
    public bool HeadReadsCells { get; }
    /// <summary>
    /// Buckets of the keyword channel (0: none): each row's hashed bag of word n-grams
    /// (<see cref="KeywordBag"/>) read by one weight per bucket straight into the logit — a wide linear path
    /// beside the deep one (Cheng et al. 2016), trained with it in fine-tuning, zero at the start.
    /// </summary>
    public int KeywordBuckets { get; }
    /// <summary>The keyword bag's longest n-gram: <see cref="KeywordBag.DefaultOrder"/> for new models, 2 for files saved before trigrams.</summary>
    public int KeywordOrder { get; }
    /// <summary>
    /// Whether the keyword bag reads each text whole (<see cref="MultimodalRows.FullText"/>) rather than the
    /// pieces within the text budget: true for new models, false for files saved before it did.
    /// </summary>
    public bool KeywordsReadWholeText { get; }
    /// <summary>
    /// Whether the keyword bag weighs each bucket by its inverse document frequency (TF-IDF, fitted on the
    /// fine-tuning rows, saved with the model): true for new models, false for files saved before it did.
    /// </summary>
    public bool KeywordsUseIdf => _keywordIdf is not null;
    /// <summary>
    /// Whether the keyword bag reads n-grams as the product's logistic regression reads terms (scikit-learn's
    /// TfidfVectorizer with sublinear_tf, min_df = 2 and its token pattern): term frequency 1 + ln(count),
    /// buckets held by fewer than two fine-tuning rows left out, punctuation not a word
    /// (<see cref="KeywordBag.Punctuation"/>). True for new models, false for files saved before: with raw
    /// counts, every bucket and punctuation, the warm-started channel scored 0.782 on fine_foods at 500 labels
    /// where logistic regression scores 0.805 (0.800 after; bench/README.md, 2026-12-08).
    /// </summary>
    public bool KeywordsReadLikeTfidf { get; }
    private readonly bool[]? _punctuation;                                                     // by piece id, when KeywordsReadLikeTfidf
    private readonly Tensor? _keywordIdf;                                                     // [buckets] buffer: ln((1 + N)/(1 + df)) + 1
    private readonly Tensor? _keywordWeights;                                                 // [buckets, 1]
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
    public static MultimodalTransformer Create(MultimodalData data, EncoderConfig encoder, ulong seed, int headLayers = 1, bool headReadsCells = true, int keywordBuckets = 0) =>
        new(encoder with { VocabSize = data.Vocabulary.Count }, data, new Rng(seed), headLayers: headLayers, headReadsCells: headReadsCells, keywordBuckets: keywordBuckets);

    /// <summary>What the keyword channel reads of row <paramref name="row"/>: the whole texts or the budgeted ones (<see cref="KeywordsReadWholeText"/>).</summary>
    internal Text.EncodedRow KeywordSource(MultimodalRows rows, int row) => KeywordsReadWholeText ? rows.KeywordText(row) : rows.Text[row];

    /// <summary>The keyword bag's inverse document frequencies, empty without them.</summary>
    internal ReadOnlySpan<float> KeywordIdf => _keywordIdf is null ? default : _keywordIdf.Data;

    /// <summary>Sets the inverse document frequencies from <paramref name="rows"/>' bags (no labels read); nothing without IDF.</summary>
    public void FitKeywordIdf(MultimodalRows rows)
    {
        if (_keywordIdf is null) return;
        KeywordBag.InverseDocumentFrequencies(Enumerable.Range(0, rows.Count).Select(r => KeywordSource(rows, r)), KeywordBuckets, KeywordOrder,
            minDf: KeywordsReadLikeTfidf ? 2 : 1, _punctuation).CopyTo(_keywordIdf.Data);
    }

    /// <summary>
    /// A text row's bag (buckets and TF-IDF values), made once per row object and kept while the row
    /// lives: every epoch reads the same rows, and hashing a long review's n-grams costs more than its
    /// share of a batch's forward pass. Forgotten whenever the inverse document frequencies differ from
    /// those the bags were made with (fitted, restored or loaded since).
    /// </summary>
    private (int[] Buckets, float[] Values) Bag(Text.EncodedRow row)
    {
        if (!KeywordIdf.SequenceEqual(_bagsIdf))
        {
            _bags.Clear();
            _bagsIdf = KeywordIdf.ToArray();
        }
        var entries = _bags.GetValue(row, r =>
        {
            var (buckets, values, _) = KeywordBag.Of(r, KeywordBuckets, KeywordOrder, KeywordIdf, KeywordsReadLikeTfidf, _punctuation);
            return new KeywordEntries(buckets, values);
        });
        return (entries.Buckets, entries.Values);
    }

    private sealed record KeywordEntries(int[] Buckets, float[] Values);
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Text.EncodedRow, KeywordEntries> _bags = new();
    private float[] _bagsIdf = [];

    /// <summary>
    /// Creates the model for <paramref name="data"/>'s features and vocabulary; the classification head
    /// reads the [CLS] of the last <paramref name="headLayers"/> layers besides the poolings, and the cell
    /// states when <paramref name="headReadsCells"/>; with <paramref name="keywordBuckets"/> above 0, the keyword channel adds to its logit
    /// (n-grams up to <paramref name="keywordOrder"/> words, of the whole texts when <paramref name="keywordsReadWholeText"/>,
    /// weighed by TF-IDF when <paramref name="keywordIdf"/>, read as logistic regression reads terms when <paramref name="keywordsReadLikeTfidf"/>).
    /// </summary>
    public MultimodalTransformer(EncoderConfig config, MultimodalData data, Rng rng, int numericBins = 16, int headLayers = 1, bool headReadsCells = true, int keywordBuckets = 0,
                                 int keywordOrder = KeywordBag.DefaultOrder, bool keywordsReadWholeText = true, bool keywordIdf = true, bool keywordsReadLikeTfidf = true)
    {
        if (keywordOrder < 1 || keywordOrder > KeywordBag.MaxOrder)
            throw new ArgumentOutOfRangeException(nameof(keywordOrder), keywordOrder, $"n-grams of 1 to {KeywordBag.MaxOrder} words.");
        KeywordOrder = keywordOrder;
        KeywordsReadWholeText = keywordsReadWholeText;
        KeywordsReadLikeTfidf = keywordsReadLikeTfidf;
        if (keywordsReadLikeTfidf && keywordBuckets > 0) _punctuation = KeywordBag.Punctuation(data.Vocabulary);
        if (config.VocabSize != data.Vocabulary.Count)
            throw new ArgumentException($"encoder vocabulary {config.VocabSize} differs from the data's {data.Vocabulary.Count}.");
        if (headLayers < 1 || headLayers > config.Layers)
            throw new ArgumentOutOfRangeException(nameof(headLayers), headLayers, $"the head reads between 1 and the encoder's {config.Layers} layers.");
        HeadLayers = headLayers;
        HeadReadsCells = headReadsCells;
        if (keywordBuckets < 0 || keywordBuckets > MaxKeywordBuckets)
            throw new ArgumentOutOfRangeException(nameof(keywordBuckets), keywordBuckets, $"between 0 (no keyword channel) and {MaxKeywordBuckets:N0}.");
        KeywordBuckets = keywordBuckets;
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
        if (keywordBuckets > 0) _keywordWeights = RegisterParameter("keyword_weights", Tensor.Zeros(keywordBuckets, 1));
        if (keywordBuckets > 0 && keywordIdf) _keywordIdf = RegisterBuffer("keyword_idf", Tensor.Ones(keywordBuckets));
    }

    /// <summary>Most buckets of the keyword channel (2^24: 64 MB of weights).</summary>
    public const int MaxKeywordBuckets = 1 << 24;

    /// <summary>Cell tokens per row.</summary>
    public int CellCount => Cells.Features;

    /// <summary>Width of the pooled row representation the head reads, (3 + <see cref="HeadLayers"/> + cells read)·H (see <see cref="Pooled"/>).</summary>
    public int PooledSize => (3 + HeadLayers + (HeadReadsCells ? CellCount : 0)) * Bert.Config.HiddenSize;

    /// <summary>
    /// Rows order[start..start+count) through the encoder: hidden states [b, 1 + cells + text − 1, H] —
    /// [CLS], the cells (masked where <paramref name="maskedCells"/> says), then the text after its [CLS]
    /// (<paramref name="textIds"/> replaces the rows' own text ids when given: corrupted or swapped text) —
    /// with the key mask and the lower layers' [CLS] the head reads.
    /// </summary>
    public EncodedBatch Encode(MultimodalRows rows, int[] order, int start, int count, bool[]? maskedCells = null, int[][]? textIds = null)
    {
        var (embedded, keyMask) = Embed(rows, order, start, count, maskedCells, textIds);
        var batch = EncodeEmbedded(embedded, keyMask);
        // Co-pretraining's corrupted rows have no label to predict, so they need no keyword log-odds.
        return KeywordBuckets > 0 && maskedCells is null && textIds is null ? batch with { Keywords = KeywordLogits(rows, order, start, count) } : batch;
    }

    /// <summary>The keyword channel's log-odds [count] of rows order[start..start+count): Σ weight[bucket] · value over each row's bag.</summary>
    private Tensor KeywordLogits(MultimodalRows rows, int[] order, int start, int count)
    {
        var buckets = new List<int>(); var values = new List<float>(); var owners = new List<int>();
        for (int i = 0; i < count; i++)
        {
            var (b, v) = Bag(KeywordSource(rows, order[start + i]));
            buckets.AddRange(b); values.AddRange(v); owners.AddRange(Enumerable.Repeat(i, b.Length));
        }
        if (buckets.Count == 0) return Tensor.Zeros(count);
        var weighted = Tensor.Embedding(_keywordWeights!, new IntTensor([.. buckets], buckets.Count)) * Tensor.FromArray([.. values], values.Count, 1);   // [entries, 1]
        return Tensor.Zeros(count, 1).ScatterAdd(0, new IntTensor([.. owners], owners.Count, 1), weighted).Reshape(count);                     // [b]
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

    /// <summary>Classification logits [b]: [CLS], mean, max and attention pooling (and lower layers' [CLS], the cell states) → dense → GELU → dense.</summary>
    public Tensor Logits(EncodedBatch batch) => Head(Pooled(batch), batch);

    /// <summary>
    /// The classifier on pooled rows [b, (3 + k + c)·H]: dropout → dense → GELU → dropout → dense, logits [b],
    /// plus the batch's keyword log-odds when it has them.
    /// </summary>
    private Tensor Head(Tensor pooled, EncodedBatch batch)
    {
        var logits = _output.Forward(_dropout.Forward(_hidden.Forward(_dropout.Forward(pooled)).Gelu())).Reshape(pooled.Dim(0));
        return batch.Keywords is null ? logits : logits + batch.Keywords;
    }

    /// <summary>
    /// The row representation [b, (3 + k + c)·H]: [CLS] (straight from the last layer), mean, max and attention
    /// pooling of the last layer, the [CLS] of the k − 1 layers below it (k = <see cref="HeadLayers"/>), then
    /// the last layer's c cell states in column order when <see cref="HeadReadsCells"/>.
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
        var parts = new List<Tensor> { cls, mean, max, attended };                           // 4 × [b, H]
        if (batch.LowerCls is not null) parts.Add(batch.LowerCls);                            // [b, (k − 1)·H]
        if (HeadReadsCells && CellCount > 0) parts.Add(hidden.Slice(1, 1, CellCount).Reshape(b, CellCount * h));   // [b, c·H]
        return Tensor.Concat(1, [.. parts]);                                                  // [b, (3 + k + c)·H]
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
                ["head_reads_cells"] = HeadReadsCells ? "true" : "false",
                ["keyword_buckets"] = KeywordBuckets.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["keyword_order"] = KeywordOrder.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["keyword_whole_text"] = KeywordsReadWholeText ? "true" : "false",
                ["keyword_idf"] = KeywordsUseIdf ? "true" : "false",
                ["keyword_like_tfidf"] = KeywordsReadLikeTfidf ? "true" : "false",
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
        int Metadata(string key, int fallback, int min, int max)
        {
            if (!file.Metadata.TryGetValue(key, out var text)) return fallback;
            return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v
                : throw new ModelFormatException(weightsPath, $"__metadata__.{key}", $"'{text}' is not a whole number between {min} and {max}.");
        }
        int bins = Metadata("numeric_bins", 16, 1, 1024);
        int headLayers = Metadata("head_layers", 1, 1, config.Layers);   // files from before the option read the last layer only
        bool Flag(string key)   // files from before an option have no such key, and did without it
            => file.Metadata.TryGetValue(key, out var text)
                ? text switch { "true" => true, "false" => false, _ => throw new ModelFormatException(weightsPath, $"__metadata__.{key}", $"'{text}' is neither true nor false.") }
                : false;
        bool headReadsCells = Flag("head_reads_cells");                                  // before it: the poolings only
        int keywordBuckets = Metadata("keyword_buckets", 0, 0, MaxKeywordBuckets);       // before the channel: none
        int keywordOrder = Metadata("keyword_order", 2, 1, KeywordBag.MaxOrder);          // before trigrams: words and bigrams
        bool wholeText = Flag("keyword_whole_text");                                     // before it: the budgeted text
        bool idf = Flag("keyword_idf");                                                  // before it: plain counts
        bool likeTfidf = Flag("keyword_like_tfidf");                                     // before it: raw counts, every bucket, punctuation
        var model = new MultimodalTransformer(config, data, new Rng(0), bins, headLayers, headReadsCells, keywordBuckets, keywordOrder, wholeText, idf, likeTfidf);
        WeightFile.LoadInto(model, file, weightsPath);
        model.Eval();
        return (model, data);
    }
}
