using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// The encoder family, one module per file in this folder: a BERT (post-LN, GELU, learned positions,
// token types) whose parameter names are Hugging Face's, with options chosen by EncoderConfig — pre-LN
// or ReZero residuals, rotary positions, cross-layer sharing, factorized embeddings, softmax, entmax,
// Performer or linear attention, and Switch mixture-of-experts feed-forward layers (whose
// load-balancing loss reaches the trainer through Module.TakeAddedLosses). Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary.

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
