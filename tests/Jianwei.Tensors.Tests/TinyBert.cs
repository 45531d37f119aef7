using Jianwei.Tensors.Nn;

namespace Jianwei.Tensors.Tests;

// A BERT for masked-LM built from engine modules with Hugging Face's parameter names, used to prove
// the engine against PyTorch. Post-LN blocks, erf GELU, learned positions, token types, MLM decoder
// tied to the word embeddings.

public sealed record TinyBertConfig(int Vocab, int Hidden, int Layers, int Heads, int Intermediate, int MaxPositions, int TypeVocab, float Eps);

public sealed class BertEmbeddings : Module
{
    public readonly Embedding Word, Position, TokenType;
    public readonly LayerNorm Norm;
    public BertEmbeddings(TinyBertConfig c, Rng rng)
    {
        Word = RegisterModule("word_embeddings", new Embedding(c.Vocab, c.Hidden, rng, 0.02f));
        Position = RegisterModule("position_embeddings", new Embedding(c.MaxPositions, c.Hidden, rng, 0.02f));
        TokenType = RegisterModule("token_type_embeddings", new Embedding(c.TypeVocab, c.Hidden, rng, 0.02f));
        Norm = RegisterModule("LayerNorm", new LayerNorm(c.Hidden, c.Eps));
    }

    public Tensor Forward(IntTensor ids, IntTensor types)
    {
        int b = ids.Dim(0), l = ids.Dim(1);
        var positions = new IntTensor(Enumerable.Range(0, b * l).Select(i => i % l).ToArray(), b, l);
        var x = Word.Forward(ids) + Position.Forward(positions);        // [b, l, h]
        return Norm.Forward(x, TokenType.Forward(types));                // LN(word + pos + type)
    }
}

public sealed class BertSelfAttention : Module
{
    public readonly Linear Query, Key, Value;
    private readonly int _heads;
    public BertSelfAttention(TinyBertConfig c, Rng rng)
    {
        _heads = c.Heads;
        Query = RegisterModule("query", new Linear(c.Hidden, c.Hidden, rng));
        Key = RegisterModule("key", new Linear(c.Hidden, c.Hidden, rng));
        Value = RegisterModule("value", new Linear(c.Hidden, c.Hidden, rng));
    }

    public Tensor Forward(Tensor x, Tensor keyMask)
    {
        int b = x.Dim(0), l = x.Dim(1), h = x.Dim(2), dh = h / _heads;
        Tensor Split(Tensor t) => t.Reshape(b, l, _heads, dh).Permute(0, 2, 1, 3);   // [b, heads, l, dh]
        var q = Split(Query.Forward(x)); var k = Split(Key.Forward(x)); var v = Split(Value.Forward(x));
        var scores = Tensor.MatMul(q, k, transB: true);                                // [b, heads, l, l]
        var probs = Tensor.AttentionSoftmax(scores, keyMask, 1f / MathF.Sqrt(dh));
        var context = Tensor.MatMul(probs, v);                                         // [b, heads, l, dh]
        return context.Permute(0, 2, 1, 3).Reshape(b, l, h);
    }
}

public sealed class BertAddNorm : Module
{
    public readonly Linear Dense;
    public readonly LayerNorm Norm;
    public BertAddNorm(int inF, int outF, float eps, Rng rng)
    {
        Dense = RegisterModule("dense", new Linear(inF, outF, rng));
        Norm = RegisterModule("LayerNorm", new LayerNorm(outF, eps));
    }
    public Tensor Forward(Tensor x, Tensor residual) => Norm.Forward(Dense.Forward(x), residual);
}

public sealed class BertAttention : Module
{
    public readonly BertSelfAttention Self;
    public readonly BertAddNorm Output;
    public BertAttention(TinyBertConfig c, Rng rng)
    {
        Self = RegisterModule("self", new BertSelfAttention(c, rng));
        Output = RegisterModule("output", new BertAddNorm(c.Hidden, c.Hidden, c.Eps, rng));
    }
}

public sealed class DenseOnly : Module
{
    public readonly Linear Dense;
    public DenseOnly(int inF, int outF, Rng rng) => Dense = RegisterModule("dense", new Linear(inF, outF, rng));
}

public sealed class BertLayer : Module
{
    public readonly BertAttention Attention;
    public readonly DenseOnly Intermediate;
    public readonly BertAddNorm Output;
    public BertLayer(TinyBertConfig c, Rng rng)
    {
        Attention = RegisterModule("attention", new BertAttention(c, rng));
        Intermediate = RegisterModule("intermediate", new DenseOnly(c.Hidden, c.Intermediate, rng));
        Output = RegisterModule("output", new BertAddNorm(c.Intermediate, c.Hidden, c.Eps, rng));
    }

    public Tensor Forward(Tensor x, Tensor keyMask)
    {
        var a = Attention.Output.Forward(Attention.Self.Forward(x, keyMask), x);   // LN(dense(attn) + x)
        var i = Intermediate.Dense.Forward(a).Gelu();
        return Output.Forward(i, a);                                              // LN(dense(gelu) + a)
    }
}

public sealed class BertEncoder : Module
{
    public readonly ModuleList<BertLayer> Layer;
    public BertEncoder(TinyBertConfig c, Rng rng) =>
        Layer = RegisterModule("layer", new ModuleList<BertLayer>(Enumerable.Range(0, c.Layers).Select(_ => new BertLayer(c, rng))));
}

public sealed class BertModel : Module
{
    public readonly BertEmbeddings Embeddings;
    public readonly BertEncoder Encoder;
    public readonly DenseOnly Pooler;
    public BertModel(TinyBertConfig c, Rng rng)
    {
        Embeddings = RegisterModule("embeddings", new BertEmbeddings(c, rng));
        Encoder = RegisterModule("encoder", new BertEncoder(c, rng));
        Pooler = RegisterModule("pooler", new DenseOnly(c.Hidden, c.Hidden, rng));
    }

    /// <returns>last hidden state [b, l, h] and pooled output [b, h].</returns>
    public (Tensor Hidden, Tensor Pooled) Forward(IntTensor ids, IntTensor types, Tensor keyMask)
    {
        var x = Embeddings.Forward(ids, types);
        foreach (var layer in Encoder.Layer.Items) x = layer.Forward(x, keyMask);
        var cls = x.Slice(1, 0, 1).Reshape(x.Dim(0), x.Dim(2));
        return (x, Pooler.Dense.Forward(cls).Tanh());
    }
}

public sealed class MlmTransform : Module
{
    public readonly Linear Dense;
    public readonly LayerNorm Norm;
    public MlmTransform(TinyBertConfig c, Rng rng)
    {
        Dense = RegisterModule("dense", new Linear(c.Hidden, c.Hidden, rng));
        Norm = RegisterModule("LayerNorm", new LayerNorm(c.Hidden, c.Eps));
    }
}

public sealed class MlmPredictions : Module
{
    public readonly MlmTransform Transform;
    public readonly Tensor Bias;
    public MlmPredictions(TinyBertConfig c, Rng rng)
    {
        Transform = RegisterModule("transform", new MlmTransform(c, rng));
        Bias = RegisterParameter("bias", Tensor.Zeros(c.Vocab));
    }
}

public sealed class MlmHead : Module
{
    public readonly MlmPredictions Predictions;
    public MlmHead(TinyBertConfig c, Rng rng) => Predictions = RegisterModule("predictions", new MlmPredictions(c, rng));
}

public sealed class BertForMaskedLM : Module
{
    public readonly BertModel Bert;
    public readonly MlmHead Cls;
    public BertForMaskedLM(TinyBertConfig c, Rng rng)
    {
        Bert = RegisterModule("bert", new BertModel(c, rng));
        Cls = RegisterModule("cls", new MlmHead(c, rng));
    }

    /// <summary>MLM logits [b, l, vocab] from the tied decoder: LN(gelu(dense(h)))·Wordᵀ + bias.</summary>
    public Tensor MlmLogits(Tensor hidden)
    {
        var t = Cls.Predictions.Transform;
        var x = t.Norm.Forward(t.Dense.Forward(hidden).Gelu());
        return Tensor.Linear(x, Bert.Embeddings.Word.Weight, Cls.Predictions.Bias);
    }
}
