using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary (see TransformerEncoder.cs).

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
