using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Bench;

/// <summary>What the encoder benchmark times: an MLM loss for training, the encoder for inference.</summary>
internal interface IBenchModel
{
    Module Module { get; }
    /// <summary>Cross-entropy of the head at the predicted positions (flat indices into [b·n]).</summary>
    Tensor Loss(IntTensor ids, Tensor keyMask, IntTensor where, IntTensor targets);
    /// <summary>Hidden states [b, n, d].</summary>
    Tensor Encode(IntTensor ids, Tensor keyMask);
}

// The BERT-style MLM encoder of ../shared/anchors/torch_encoder_bench.py, layer for layer, so that
// the two programs time the same work: token + position embeddings, layer norm, post-LN blocks with a
// fused QKV projection and GELU feed-forward, softmax attention, and an MLM head applied only to the
// predicted positions.

internal sealed class BenchBlock : Module
{
    private readonly Linear _qkv, _out;
    private readonly LayerNorm _ln1, _ln2;
    private readonly Linear _ff1, _ff2;
    private readonly Dropout _drop;
    private readonly int _heads;

    public BenchBlock(int d, int heads, int ff, Rng rng)
    {
        _heads = heads;
        _qkv = RegisterModule("qkv", new Linear(d, 3 * d, rng));
        _out = RegisterModule("o", new Linear(d, d, rng));
        _ln1 = RegisterModule("ln1", new LayerNorm(d));
        _ln2 = RegisterModule("ln2", new LayerNorm(d));
        _ff1 = RegisterModule("ff1", new Linear(d, ff, rng));
        _ff2 = RegisterModule("ff2", new Linear(ff, d, rng));
        _drop = RegisterModule("drop", new Dropout(0.1f, rng.Fork()));
    }

    public Tensor Forward(Tensor x, Tensor keyMask)
    {
        float scale = 1f / MathF.Sqrt(x.Dim(2) / _heads);
        var attention = _out.Forward(Tensor.MultiHeadAttentionPacked(_qkv.Forward(x), _heads, keyMask, scale));   // [b, n, d]
        x = _ln1.Forward(_drop.Forward(attention), x);                                  // LN(x + drop(att(x)))
        return _ln2.Forward(_drop.Forward(_ff2.Forward(_ff1.Forward(x).Gelu())), x);     // LN(x + drop(ff(x)))
    }
}

internal sealed class BenchMlm : Module, IBenchModel
{
    private readonly Embedding _tok, _pos;
    private readonly LayerNorm _ln;
    private readonly ModuleList<BenchBlock> _blocks;
    private readonly Linear _head;

    public BenchMlm(int vocab, int d, int heads, int ff, int layers, int maxLen, Rng rng)
    {
        _tok = RegisterModule("tok", new Embedding(vocab, d, rng));
        _pos = RegisterModule("pos", new Embedding(maxLen, d, rng));
        _ln = RegisterModule("ln", new LayerNorm(d));
        _blocks = RegisterModule("blocks", new ModuleList<BenchBlock>(Enumerable.Range(0, layers).Select(_ => new BenchBlock(d, heads, ff, rng))));
        _head = RegisterModule("head", new Linear(d, vocab, rng));
    }

    public Module Module => this;

    public Tensor Encode(IntTensor ids, Tensor keyMask)
    {
        int n = ids.Dim(1);
        var pos = _pos.Weight.Slice(0, 0, n);                                          // [n, d], broadcast over the batch
        var x = _ln.Forward(_tok.Forward(ids) + pos);
        foreach (var block in _blocks.Items) x = block.Forward(x, keyMask);
        return x;
    }

    public Tensor Loss(IntTensor ids, Tensor keyMask, IntTensor where, IntTensor targets)
    {
        var h = Encode(ids, keyMask);
        var picked = h.Reshape(-1, h.Dim(2)).IndexSelect(0, where);                    // [predicted, d]
        return Tensor.CrossEntropy(_head.Forward(picked), targets);
    }
}

/// <summary>The product's encoder (<see cref="BertForMaskedLM"/>) with a chosen attention, for the long-text configurations.</summary>
internal sealed class ProductMlm(EncoderConfig config, Rng rng) : IBenchModel
{
    private readonly BertForMaskedLM _model = new(config, rng);

    public Module Module => _model;

    public Tensor Encode(IntTensor ids, Tensor keyMask) => _model.Bert.Forward(new EncoderInputs { Ids = ids, KeyMask = keyMask });

    public Tensor Loss(IntTensor ids, Tensor keyMask, IntTensor where, IntTensor targets)
    {
        var h = Encode(ids, keyMask);
        return Tensor.CrossEntropy(_model.MlmLogits(h.Reshape(-1, h.Dim(2)).IndexSelect(0, where)), targets);
    }
}
