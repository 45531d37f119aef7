using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// The encoder family in one file: a BERT (post-LN, GELU, learned positions, token types) whose
// parameter names are Hugging Face's, with options chosen by EncoderConfig — pre-LN or ReZero
// residuals, rotary positions, cross-layer sharing, factorized embeddings, and softmax, Performer or
// linear attention. Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary.

/// <summary>One batch for a <see cref="TransformerEncoder"/>.</summary>
public sealed class EncoderInputs
{
    /// <summary>Token ids [b, n].</summary>
    public required IntTensor Ids { get; init; }
    /// <summary>Token types [b, n]; null means all 0.</summary>
    public IntTensor? TokenTypes { get; init; }
    /// <summary>Position of each token [b, n]; null means 0..n−1. Permuted layouts (MPNet) set it.</summary>
    public IntTensor? Positions { get; init; }
    /// <summary>[b, keys] of 1 (real token) or 0 (padding), or null when nothing is padded.</summary>
    public Tensor? KeyMask { get; init; }
    /// <summary>[b, n, keys] of 1 (row i may attend key j) or 0, or null; softmax attention only.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>
    /// How many leading rows serve as keys and values (0: all). Rows after them are queries only — a
    /// second stream that reads the first but is never read (MPNet's query stream).
    /// </summary>
    public int KeyRows { get; init; }
}

/// <summary>Token, position and type embeddings, summed, layer-normed and dropped out ("embeddings").</summary>
public sealed class BertEmbeddings : Module
{
    /// <summary>[V, E].</summary>
    public Embedding Word { get; }
    /// <summary>[positions, E], or null with rotary positions.</summary>
    public Embedding? Position { get; }
    /// <summary>[types, E].</summary>
    public Embedding TokenType { get; }
    /// <summary>Layer norm over E.</summary>
    public LayerNorm Norm { get; }
    private readonly Dropout _dropout;

    /// <summary>Creates the embeddings for <paramref name="config"/>.</summary>
    public BertEmbeddings(EncoderConfig config, Rng rng)
    {
        int e = config.EffectiveEmbeddingSize;
        Word = RegisterModule("word_embeddings", new Embedding(config.VocabSize, e, rng, config.InitializerRange));
        if (config.Positions == PositionEncoding.Absolute)
            Position = RegisterModule("position_embeddings", new Embedding(config.MaxPositions, e, rng, config.InitializerRange));
        TokenType = RegisterModule("token_type_embeddings", new Embedding(config.TypeVocabSize, e, rng, config.InitializerRange));
        Norm = RegisterModule("LayerNorm", new LayerNorm(e, config.LayerNormEps));
        _dropout = RegisterModule("dropout", new Dropout(config.HiddenDropout, rng.Fork()));
    }

    /// <summary>[b, n] ids → [b, n, E].</summary>
    public Tensor Forward(EncoderInputs inputs)
    {
        int n = inputs.Ids.Dim(1);
        var x = Word.Forward(inputs.Ids);                                                  // [b, n, E]
        if (Position is not null)
        {
            if (n > Position.Weight.Dim(0) && inputs.Positions is null)
                throw new ArgumentException($"sequence of {n} tokens is longer than max_position_embeddings {Position.Weight.Dim(0)}.");
            x = x + (inputs.Positions is null ? Position.Weight.Slice(0, 0, n)             // [n, E], broadcast over b
                                              : Position.Forward(inputs.Positions));       // [b, n, E]
        }
        var types = inputs.TokenTypes is null ? TokenType.Weight.Slice(0, 0, 1) : TokenType.Forward(inputs.TokenTypes);
        return _dropout.Forward(Norm.Forward(x + types));
    }
}

/// <summary>Query, key and value projections and the attention itself ("attention.self").</summary>
public sealed class SelfAttention : Module
{
    /// <summary>H → H projections.</summary>
    public Linear Query { get; }
    /// <summary>H → H projections.</summary>
    public Linear Key { get; }
    /// <summary>H → H projections.</summary>
    public Linear Value { get; }
    private readonly EncoderConfig _config;
    private readonly Tensor? _features;       // Performer: [m, dh] orthogonal random features
    private readonly Tensor? _featureState;   // Performer: [draws made, training passes since the last draw]
    private readonly ulong _featureSeed;

    /// <summary>Creates the projections (and, for Performer, the first random features) of weight set <paramref name="weightSet"/>.</summary>
    public SelfAttention(EncoderConfig config, int weightSet, Rng rng)
    {
        _config = config;
        int h = config.HiddenSize;
        Query = RegisterModule("query", new Linear(h, h, rng));
        Key = RegisterModule("key", new Linear(h, h, rng));
        Value = RegisterModule("value", new Linear(h, h, rng));
        if (config.Attention == AttentionKind.Performer)
        {
            // Draws are a function of (weight set, draw number) alone, so a resumed run redraws exactly
            // what the uninterrupted one did; both buffers travel in checkpoints.
            _featureSeed = Rng.Mix(0x5EED_F00D, (ulong)weightSet);
            _features = RegisterBuffer("random_features", RandomFeatures.Orthogonal(new Rng(Rng.Mix(_featureSeed, 0)), config.EffectivePerformerFeatures, config.HeadSize));
            _featureState = RegisterBuffer("random_feature_state", Tensor.Zeros(2));
        }
    }

    /// <summary>[b, n, H] → [b, n, H] attended over the first KeyRows rows; <paramref name="positions"/> are the rotary positions or null.</summary>
    public Tensor Forward(Tensor x, EncoderInputs inputs, IntTensor? positions)
    {
        int n = x.Dim(1), keyRows = inputs.KeyRows > 0 ? inputs.KeyRows : n, heads = _config.Heads;
        var keySource = keyRows == n ? x : x.Slice(1, 0, keyRows);                      // [b, keys, H]
        var q = Query.Forward(x);                                                         // [b, n, H]
        var k = Key.Forward(keySource);                                                   // [b, keys, H]
        var v = Value.Forward(keySource);                                                 // [b, keys, H]
        if (positions is not null)
        {
            q = Tensor.Rotary(q, heads, positions, _config.RotaryTheta);
            k = Tensor.Rotary(k, heads, keyRows == n ? positions : LeadingColumns(positions, keyRows), _config.RotaryTheta);
        }
        if (_config.Attention != AttentionKind.Softmax && inputs.AttentionMask is not null)
            throw new NotSupportedException($"{_config.Attention} attention cannot apply a structured attention mask (MPNet's two streams need softmax attention).");
        switch (_config.Attention)
        {
            case AttentionKind.Softmax:
                return Tensor.MultiHeadAttention(q, k, v, heads, inputs.KeyMask, 1f / MathF.Sqrt(_config.HeadSize), inputs.AttentionMask);
            case AttentionKind.Linear:
                return Tensor.KernelAttention(q.Elu().AddScalar(1f), k.Elu().AddScalar(1f), v, heads, inputs.KeyMask);
            default:
                if (IsTraining) AdvanceFeatureSchedule();
                return Tensor.KernelAttention(Tensor.PositiveRandomFeatures(q, _features!, heads, isQuery: true),
                                              Tensor.PositiveRandomFeatures(k, _features!, heads, isQuery: false), v, heads, inputs.KeyMask);
        }
    }

    private void AdvanceFeatureSchedule()
    {
        var state = _featureState!.Data;
        if (_config.PerformerRedrawInterval > 0 && state[1] >= _config.PerformerRedrawInterval)
        {
            state[0] += 1f; state[1] = 0f;
            RandomFeatures.Orthogonal(new Rng(Rng.Mix(_featureSeed, (ulong)state[0])), _features!.Dim(0), _features.Dim(1)).Data.CopyTo(_features.Data);
        }
        state[1] += 1f;
    }

    private static IntTensor LeadingColumns(IntTensor t, int columns)
    {
        int rows = t.Dim(0), n = t.Dim(1);
        var values = new int[rows * columns];
        for (int r = 0; r < rows; r++) Array.Copy(t.Values, r * n, values, r * columns, columns);
        return new IntTensor(values, rows, columns);
    }
}

/// <summary>A dense layer followed (post-LN) or preceded (pre-LN) by a layer norm, none with ReZero ("output").</summary>
public sealed class DenseNorm : Module
{
    /// <summary>The projection.</summary>
    public Linear Dense { get; }
    /// <summary>The layer norm over the output width, or null (ReZero).</summary>
    public LayerNorm? Norm { get; }

    /// <summary>Creates the layer; <paramref name="normWidth"/> 0 means no layer norm.</summary>
    public DenseNorm(int inFeatures, int outFeatures, int normWidth, float eps, Rng rng)
    {
        Dense = RegisterModule("dense", new Linear(inFeatures, outFeatures, rng));
        if (normWidth > 0) Norm = RegisterModule("LayerNorm", new LayerNorm(normWidth, eps));
    }
}

/// <summary>Self-attention with its output projection ("attention").</summary>
public sealed class AttentionBlock : Module
{
    /// <summary>"self".</summary>
    public SelfAttention Self { get; }
    /// <summary>"output": projection and layer norm.</summary>
    public DenseNorm Output { get; }

    /// <summary>Creates the block.</summary>
    public AttentionBlock(EncoderConfig c, int weightSet, Rng rng)
    {
        Self = RegisterModule("self", new SelfAttention(c, weightSet, rng));
        Output = RegisterModule("output", new DenseNorm(c.HiddenSize, c.HiddenSize, c.Norm == NormPlacement.ReZero ? 0 : c.HiddenSize, c.LayerNormEps, rng));
    }
}

/// <summary>A single dense layer ("intermediate", "pooler").</summary>
public sealed class DenseOnly : Module
{
    /// <summary>The projection.</summary>
    public Linear Dense { get; }
    /// <summary>Creates the layer.</summary>
    public DenseOnly(int inFeatures, int outFeatures, Rng rng) => Dense = RegisterModule("dense", new Linear(inFeatures, outFeatures, rng));
}

/// <summary>One transformer block ("encoder.layer.i").</summary>
public sealed class EncoderLayer : Module
{
    /// <summary>"attention".</summary>
    public AttentionBlock Attention { get; }
    /// <summary>"intermediate": H → feed-forward width.</summary>
    public DenseOnly Intermediate { get; }
    /// <summary>"output": feed-forward width → H, with its layer norm.</summary>
    public DenseNorm Output { get; }
    /// <summary>ReZero's residual gate α (starts at 0), or null.</summary>
    public Tensor? ReZeroAlpha { get; }
    private readonly NormPlacement _norm;
    private readonly Dropout _dropout;

    /// <summary>Creates weight set <paramref name="weightSet"/>.</summary>
    public EncoderLayer(EncoderConfig c, int weightSet, Rng rng)
    {
        _norm = c.Norm;
        Attention = RegisterModule("attention", new AttentionBlock(c, weightSet, rng));
        Intermediate = RegisterModule("intermediate", new DenseOnly(c.HiddenSize, c.IntermediateSize, rng));
        Output = RegisterModule("output", new DenseNorm(c.IntermediateSize, c.HiddenSize, c.Norm == NormPlacement.ReZero ? 0 : c.HiddenSize, c.LayerNormEps, rng));
        if (c.Norm == NormPlacement.ReZero) ReZeroAlpha = RegisterParameter("rezero_alpha", Tensor.Zeros(1));
        _dropout = RegisterModule("dropout", new Dropout(c.HiddenDropout, rng.Fork()));
    }

    /// <summary>[b, n, H] → [b, n, H].</summary>
    public Tensor Forward(Tensor x, EncoderInputs inputs, IntTensor? rotaryPositions)
    {
        Tensor Attend(Tensor h) => _dropout.Forward(Attention.Output.Dense.Forward(Attention.Self.Forward(h, inputs, rotaryPositions)));
        Tensor FeedForward(Tensor h) => _dropout.Forward(Output.Dense.Forward(Intermediate.Dense.Forward(h).Gelu()));
        switch (_norm)
        {
            case NormPlacement.Post:                                                      // BERT
                var a = Attention.Output.Norm!.Forward(Attend(x), x);                      // LN(attn(x) + x)
                return Output.Norm!.Forward(FeedForward(a), a);                            // LN(ff(a) + a)
            case NormPlacement.Pre:
                var b = x + Attend(Attention.Output.Norm!.Forward(x));                     // x + attn(LN(x))
                return b + FeedForward(Output.Norm!.Forward(b));                           // b + ff(LN(b))
            default:                                                                      // ReZero
                var r = x + Attend(x) * ReZeroAlpha!;                                      // x + α·attn(x)
                return r + FeedForward(r) * ReZeroAlpha!;                                  // r + α·ff(r)
        }
    }
}

/// <summary>The stack of blocks ("encoder"), with the final layer norm of pre-LN models.</summary>
public sealed class EncoderStack : Module
{
    /// <summary>"layer": the distinct weight sets.</summary>
    public ModuleList<EncoderLayer> Layer { get; }
    /// <summary>Pre-LN only: the layer norm after the last block.</summary>
    public LayerNorm? FinalNorm { get; }

    /// <summary>Creates the stack.</summary>
    public EncoderStack(EncoderConfig c, Rng rng)
    {
        Layer = RegisterModule("layer", new ModuleList<EncoderLayer>(Enumerable.Range(0, c.WeightSets).Select(i => new EncoderLayer(c, i, rng))));
        if (c.Norm == NormPlacement.Pre) FinalNorm = RegisterModule("final_layer_norm", new LayerNorm(c.HiddenSize, c.LayerNormEps));
    }
}

/// <summary>
/// The encoder: embeddings (optionally factorized and projected to H), the blocks, and the pooler
/// (tanh of a dense layer over the first token). Parameter names are Hugging Face BERT's
/// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.0.attention.self.query.weight</c>, …).
/// </summary>
public sealed class TransformerEncoder : Module
{
    /// <summary>The configuration it was built from.</summary>
    public EncoderConfig Config { get; }
    /// <summary>The embeddings (owned, or shared with another encoder as in ELECTRA).</summary>
    public BertEmbeddings Embeddings { get; }
    /// <summary>E → H when the embeddings are factorized, else null.</summary>
    public Linear? EmbeddingsProject { get; }
    /// <summary>The blocks.</summary>
    public EncoderStack Encoder { get; }
    /// <summary>"pooler".</summary>
    public DenseOnly Pooler { get; }

    /// <summary>
    /// Builds the encoder with BERT's initialization (normal weights with std initializer_range, zero
    /// biases). With <paramref name="sharedEmbeddings"/> the embeddings are used but not registered
    /// (another module owns and saves them).
    /// </summary>
    public TransformerEncoder(EncoderConfig config, Rng rng, BertEmbeddings? sharedEmbeddings = null)
    {
        config.Validate();
        Config = config;
        Embeddings = sharedEmbeddings ?? RegisterModule("embeddings", new BertEmbeddings(config, rng));
        int e = Embeddings.Word.Weight.Dim(1);
        if (e != config.HiddenSize) EmbeddingsProject = RegisterModule("embeddings_project", new Linear(e, config.HiddenSize, rng));
        Encoder = RegisterModule("encoder", new EncoderStack(config, rng));
        Pooler = RegisterModule("pooler", new DenseOnly(config.HiddenSize, config.HiddenSize, rng));
        BertInitialization.Apply(this, config.InitializerRange, rng);
    }

    /// <summary>Token embeddings [b, n, E].</summary>
    public Tensor Embed(EncoderInputs inputs) => Embeddings.Forward(inputs);

    /// <summary>Runs the blocks over embedded tokens [b, n, E] (from <see cref="Embed"/> or built elsewhere) → hidden states [b, n, H].</summary>
    public Tensor Encode(Tensor embedded, EncoderInputs inputs) => EncodeLayers(embedded, inputs, 1)[^1];

    /// <summary>
    /// Runs the blocks and returns the outputs of the last <paramref name="lastLayers"/> layers, lowest
    /// first, each [b, n, H]; the last is <see cref="Encode"/>'s result. A pre-LN model's final norm is
    /// applied to each of them, so every returned layer is on the same scale.
    /// </summary>
    public IReadOnlyList<Tensor> EncodeLayers(Tensor embedded, EncoderInputs inputs, int lastLayers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lastLayers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lastLayers, Config.Layers);
        var x = EmbeddingsProject is null ? embedded : EmbeddingsProject.Forward(embedded);   // [b, n, H]
        IntTensor? rotary = null;
        if (Config.Positions == PositionEncoding.Rotary)
            rotary = inputs.Positions ?? DefaultPositions(x.Dim(0), x.Dim(1));
        var outputs = new List<Tensor>(lastLayers);
        for (int layer = 0; layer < Config.Layers; layer++)
        {
            x = Encoder.Layer[Config.WeightSetOf(layer)].Forward(x, inputs, rotary);
            if (layer >= Config.Layers - lastLayers) outputs.Add(Encoder.FinalNorm is null ? x : Encoder.FinalNorm.Forward(x));
        }
        return outputs;
    }

    /// <summary>Hidden states [b, n, H].</summary>
    public Tensor Forward(EncoderInputs inputs) => Encode(Embed(inputs), inputs);

    /// <summary>The pooled first token: tanh(dense(hidden[:, 0])) → [b, H].</summary>
    public Tensor Pool(Tensor hidden) => Pooler.Dense.Forward(FirstToken(hidden)).Tanh();

    /// <summary>hidden[:, 0] → [b, H].</summary>
    public static Tensor FirstToken(Tensor hidden) => hidden.Slice(1, 0, 1).Reshape(hidden.Dim(0), hidden.Dim(2));

    /// <summary>Positions 0..n−1 for every row.</summary>
    public static IntTensor DefaultPositions(int rows, int n)
    {
        var p = new int[rows * n];
        for (int i = 0; i < p.Length; i++) p[i] = i % n;
        return new IntTensor(p, rows, n);
    }
}

/// <summary>BERT's masked-LM head ("cls.predictions"): dense → GELU → LN, then the decoder tied to the word embeddings plus a bias.</summary>
public sealed class MaskedLmHead : Module
{
    /// <summary>"transform": dense H → E and its layer norm.</summary>
    public DenseNorm Transform { get; }
    /// <summary>"bias" [V].</summary>
    public Tensor Bias { get; }
    private readonly Embedding _tiedWords;

    /// <summary>Creates the head over <paramref name="words"/> (tied, not owned).</summary>
    public MaskedLmHead(int hidden, Embedding words, float eps, Rng rng)
    {
        _tiedWords = words;
        int e = words.Weight.Dim(1);
        Transform = RegisterModule("transform", new DenseNorm(hidden, e, e, eps, rng));
        Bias = RegisterParameter("bias", Tensor.Zeros(words.Weight.Dim(0)));
    }

    /// <summary>Hidden states [..., H] → vocabulary logits [..., V].</summary>
    public Tensor Forward(Tensor hidden)
    {
        var x = Transform.Norm!.Forward(Transform.Dense.Forward(hidden).Gelu());          // [..., E]
        return Tensor.Linear(x, _tiedWords.Weight, Bias);                                  // x·Wordᵀ + bias
    }
}

/// <summary>Hugging Face's <c>BertForMaskedLM</c> layout: "bert" (the encoder) and "cls.predictions" (the MLM head).</summary>
public sealed class BertForMaskedLM : Module
{
    /// <summary>"bert".</summary>
    public TransformerEncoder Bert { get; }
    /// <summary>"cls".</summary>
    public MlmContainer Cls { get; }

    /// <summary>Creates the model.</summary>
    public BertForMaskedLM(EncoderConfig config, Rng rng)
    {
        Bert = RegisterModule("bert", new TransformerEncoder(config, rng));
        Cls = RegisterModule("cls", new MlmContainer(new MaskedLmHead(config.HiddenSize, Bert.Embeddings.Word, config.LayerNormEps, rng)));
        BertInitialization.Apply(Cls, config.InitializerRange, rng);
    }

    /// <summary>Vocabulary logits [..., V] of hidden states [..., H].</summary>
    public Tensor MlmLogits(Tensor hidden) => Cls.Predictions.Forward(hidden);

    /// <summary>Holds the head under the name "predictions".</summary>
    public sealed class MlmContainer : Module
    {
        /// <summary>"predictions".</summary>
        public MaskedLmHead Predictions { get; }
        internal MlmContainer(MaskedLmHead head) => Predictions = RegisterModule("predictions", head);
    }
}
