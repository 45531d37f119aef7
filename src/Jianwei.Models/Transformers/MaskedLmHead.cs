using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary (see TransformerEncoder.cs).

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
