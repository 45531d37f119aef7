using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary (see TransformerEncoder.cs).

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
    /// <summary>"intermediate": H → feed-forward width (null when the feed-forward is a mixture of experts).</summary>
    public DenseOnly? Intermediate { get; }
    /// <summary>"output": feed-forward width → H, with its layer norm (null with experts).</summary>
    public DenseNorm? Output { get; }
    /// <summary>"moe": the Switch mixture-of-experts feed-forward with its layer norm, when <see cref="EncoderConfig.Experts"/> &gt; 0.</summary>
    public SwitchFeedForward? Experts { get; }
    /// <summary>ReZero's residual gate α (starts at 0), or null.</summary>
    public Tensor? ReZeroAlpha { get; }
    private readonly NormPlacement _norm;
    private readonly Dropout _dropout;

    /// <summary>Creates weight set <paramref name="weightSet"/>.</summary>
    public EncoderLayer(EncoderConfig c, int weightSet, Rng rng)
    {
        _norm = c.Norm;
        Attention = RegisterModule("attention", new AttentionBlock(c, weightSet, rng));
        if (c.Experts > 0) Experts = RegisterModule("moe", new SwitchFeedForward(c, rng));
        else
        {
            Intermediate = RegisterModule("intermediate", new DenseOnly(c.HiddenSize, c.IntermediateSize, rng));
            Output = RegisterModule("output", new DenseNorm(c.IntermediateSize, c.HiddenSize, c.Norm == NormPlacement.ReZero ? 0 : c.HiddenSize, c.LayerNormEps, rng));
        }
        if (c.Norm == NormPlacement.ReZero) ReZeroAlpha = RegisterParameter("rezero_alpha", Tensor.Zeros(1));
        _dropout = RegisterModule("dropout", new Dropout(c.HiddenDropout, rng.Fork()));
    }

    /// <summary>[b, n, H] → [b, n, H].</summary>
    public Tensor Forward(Tensor x, EncoderInputs inputs, IntTensor? rotaryPositions)
    {
        Tensor Attend(Tensor h) => _dropout.Forward(Attention.Output.Dense.Forward(Attention.Self.Forward(h, inputs, rotaryPositions)));
        // Experts route the tokens the keys cover (all of them, except in MPNet's two streams); padding is not routed.
        var tokenMask = inputs.KeyMask is { } m && m.Dim(1) == x.Dim(1) ? m : null;
        Tensor FeedForward(Tensor h) => _dropout.Forward(Experts is not null
            ? Experts.Forward(h, tokenMask)
            : Output!.Dense.Forward(Intermediate!.Dense.Forward(h).Gelu()));
        var feedForwardNorm = Experts is not null ? Experts.Norm : Output!.Norm;
        switch (_norm)
        {
            case NormPlacement.Post:                                                      // BERT
                var a = Attention.Output.Norm!.Forward(Attend(x), x);                      // LN(attn(x) + x)
                return feedForwardNorm!.Forward(FeedForward(a), a);                        // LN(ff(a) + a)
            case NormPlacement.Pre:
                var b = x + Attend(Attention.Output.Norm!.Forward(x));                     // x + attn(LN(x))
                return b + FeedForward(feedForwardNorm!.Forward(b));                       // b + ff(LN(b))
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
