using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Bench;

// The BERT-style MLM encoder of ../shared/anchors/torch_encoder_bench.py, layer for layer, so that
// the two programs time the same work: token + position embeddings, layer norm, post-LN blocks with a
// fused QKV projection and GELU feed-forward, softmax or linear (elu+1) attention, and an MLM head
// applied only to the predicted positions.

internal enum AttentionKind { Softmax, Linear }

internal sealed class BenchAttention : Module
{
    private readonly Linear _qkv, _out;
    private readonly int _heads;
    private readonly AttentionKind _kind;

    public BenchAttention(int d, int heads, AttentionKind kind, Rng rng)
    {
        _heads = heads; _kind = kind;
        _qkv = RegisterModule("qkv", new Linear(d, 3 * d, rng));
        _out = RegisterModule("o", new Linear(d, d, rng));
    }

    public Tensor Forward(Tensor x, Tensor keyMask)
    {
        int b = x.Dim(0), n = x.Dim(1), d = x.Dim(2), dh = d / _heads;
        var qkv = _qkv.Forward(x);                                                          // [b, n, 3d]
        if (_kind == AttentionKind.Softmax)
            return _out.Forward(Tensor.MultiHeadAttentionPacked(qkv, _heads, keyMask, 1f / MathF.Sqrt(dh)));   // [b, n, d]

        var heads = qkv.Reshape(b, n, 3, _heads, dh).Permute(2, 0, 3, 1, 4);               // [3, b, heads, n, dh]
        Tensor Part(int i) => heads.Slice(0, i, 1).Reshape(b, _heads, n, dh);
        Tensor q = Part(0), k = Part(1), v = Part(2), y;
        {
            q = q.Elu().AddScalar(1f);
            k = k.Elu().AddScalar(1f) * keyMask.Reshape(b, 1, n, 1);
            var kv = Tensor.MatMul(k, v, transA: true);                                    // [b, heads, dh, dh]
            var z = Tensor.MatMul(q, k.Sum(2, keepDim: true), transB: true).AddScalar(1e-6f); // [b, heads, n, 1]
            y = Tensor.MatMul(q, kv) / z;
        }
        return _out.Forward(y.Permute(0, 2, 1, 3).Reshape(b, n, d));
    }
}

internal sealed class BenchBlock : Module
{
    private readonly BenchAttention _att;
    private readonly LayerNorm _ln1, _ln2;
    private readonly Linear _ff1, _ff2;
    private readonly Dropout _drop;

    public BenchBlock(int d, int heads, int ff, AttentionKind kind, Rng rng)
    {
        _att = RegisterModule("att", new BenchAttention(d, heads, kind, rng));
        _ln1 = RegisterModule("ln1", new LayerNorm(d));
        _ln2 = RegisterModule("ln2", new LayerNorm(d));
        _ff1 = RegisterModule("ff1", new Linear(d, ff, rng));
        _ff2 = RegisterModule("ff2", new Linear(ff, d, rng));
        _drop = RegisterModule("drop", new Dropout(0.1f, rng.Fork()));
    }

    public Tensor Forward(Tensor x, Tensor keyMask)
    {
        x = _ln1.Forward(_drop.Forward(_att.Forward(x, keyMask)), x);                 // LN(x + drop(att(x)))
        return _ln2.Forward(_drop.Forward(_ff2.Forward(_ff1.Forward(x).Gelu())), x);   // LN(x + drop(ff(x)))
    }
}

internal sealed class BenchMlm : Module
{
    private readonly Embedding _tok, _pos;
    private readonly LayerNorm _ln;
    private readonly ModuleList<BenchBlock> _blocks;
    private readonly Linear _head;

    public BenchMlm(int vocab, int d, int heads, int ff, int layers, int maxLen, AttentionKind kind, Rng rng)
    {
        _tok = RegisterModule("tok", new Embedding(vocab, d, rng));
        _pos = RegisterModule("pos", new Embedding(maxLen, d, rng));
        _ln = RegisterModule("ln", new LayerNorm(d));
        _blocks = RegisterModule("blocks", new ModuleList<BenchBlock>(Enumerable.Range(0, layers).Select(_ => new BenchBlock(d, heads, ff, kind, rng))));
        _head = RegisterModule("head", new Linear(d, vocab, rng));
    }

    /// <summary>Hidden states [b, n, d].</summary>
    public Tensor Encode(IntTensor ids, Tensor keyMask)
    {
        int n = ids.Dim(1);
        var pos = _pos.Weight.Slice(0, 0, n);                                          // [n, d], broadcast over the batch
        var x = _ln.Forward(_tok.Forward(ids) + pos);
        foreach (var block in _blocks.Items) x = block.Forward(x, keyMask);
        return x;
    }

    /// <summary>Cross-entropy of the head at the predicted positions (flat indices into [b·n]).</summary>
    public Tensor Loss(IntTensor ids, Tensor keyMask, IntTensor where, IntTensor targets)
    {
        var h = Encode(ids, keyMask);
        var picked = h.Reshape(-1, h.Dim(2)).IndexSelect(0, where);                    // [predicted, d]
        return Tensor.CrossEntropy(_head.Forward(picked), targets);
    }
}
