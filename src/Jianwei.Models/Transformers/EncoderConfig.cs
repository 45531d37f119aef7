using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jianwei.Models.Transformers;

/// <summary>Where the layer norms sit in a block.</summary>
public enum NormPlacement
{
    /// <summary>BERT: x ← LN(x + f(x)) after each sublayer.</summary>
    Post,
    /// <summary>x ← x + f(LN(x)), with one final LN after the last block: stabler for deep or fast training.</summary>
    Pre,
    /// <summary>ReZero (Bachlechner et al. 2020): x ← x + α·f(x), α a learned scalar per block starting at 0; no layer norm.</summary>
    ReZero,
}

/// <summary>How token positions enter the model.</summary>
public enum PositionEncoding
{
    /// <summary>Learned absolute position embeddings added to the token embeddings (BERT).</summary>
    Absolute,
    /// <summary>Rotary embeddings (RoFormer): queries and keys rotated by position, no position table.</summary>
    Rotary,
}

/// <summary>Cross-layer parameter sharing.</summary>
public enum LayerSharing
{
    /// <summary>Every layer has its own weights.</summary>
    None,
    /// <summary>One set of weights used by every layer (ALBERT).</summary>
    All,
    /// <summary>Layers 2k and 2k+1 share weights: half as many weight sets as layers.</summary>
    AdjacentPairs,
    /// <summary>Two weight sets used alternately, A B A B … (the "cycle" scheme of Takase and Kiyono 2021).</summary>
    Alternating,
}

/// <summary>The attention mechanism of every layer.</summary>
public enum AttentionKind
{
    /// <summary>Exact softmax attention, quadratic in length; supports structured masks.</summary>
    Softmax,
    /// <summary>Performer FAVOR+: positive orthogonal random features approximating softmax, linear in length.</summary>
    Performer,
    /// <summary>Linear attention with the elu(x)+1 feature map (Katharopoulos et al. 2020), linear in length.</summary>
    Linear,
    /// <summary>
    /// Exact attention with α-entmax in place of softmax (Correia et al. 2019): keys scoring below a
    /// per-query threshold get exactly zero weight; α is <see cref="EncoderConfig.EntmaxAlpha"/>. Supports structured masks.
    /// </summary>
    Entmax,
}

/// <summary>
/// Shape and options of a <see cref="TransformerEncoder"/>. Read from and written to Hugging Face's
/// BERT <c>config.json</c>; the options BERT lacks are stored under <c>jianwei_*</c> keys (and ALBERT's
/// <c>embedding_size</c>), which <c>transformers</c> keeps as plain attributes. A checkpoint with all
/// options at their BERT values loads in <c>transformers.BertModel</c> unchanged.
/// </summary>
public sealed record EncoderConfig
{
    /// <summary>Token vocabulary size.</summary>
    public int VocabSize { get; init; } = 21128;
    /// <summary>Width of the hidden states.</summary>
    public int HiddenSize { get; init; } = 256;
    /// <summary>Number of blocks applied (with sharing, more than the weight sets).</summary>
    public int Layers { get; init; } = 4;
    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Feed-forward width.</summary>
    public int IntermediateSize { get; init; } = 1024;
    /// <summary>Longest sequence (size of the position table).</summary>
    public int MaxPositions { get; init; } = 512;
    /// <summary>Token type (segment) vocabulary.</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>Layer-norm epsilon.</summary>
    public float LayerNormEps { get; init; } = 1e-12f;
    /// <summary>Dropout on embeddings and residual branches.</summary>
    public float HiddenDropout { get; init; } = 0.1f;
    /// <summary>
    /// Hugging Face's attention-probability dropout, kept for round trips; the fused attention kernels
    /// do not apply it (they never materialize probabilities as a separate tensor).
    /// </summary>
    public float AttentionDropout { get; init; } = 0.1f;
    /// <summary>Id of [PAD].</summary>
    public int PadTokenId { get; init; }
    /// <summary>Std of the normal initialization.</summary>
    public float InitializerRange { get; init; } = 0.02f;
    /// <summary>Embedding width; 0 means <see cref="HiddenSize"/>. Smaller values factorize the embeddings (ALBERT).</summary>
    public int EmbeddingSize { get; init; }
    /// <summary>Layer-norm placement.</summary>
    public NormPlacement Norm { get; init; } = NormPlacement.Post;
    /// <summary>Position encoding.</summary>
    public PositionEncoding Positions { get; init; } = PositionEncoding.Absolute;
    /// <summary>Cross-layer sharing.</summary>
    public LayerSharing Sharing { get; init; } = LayerSharing.None;
    /// <summary>Attention mechanism.</summary>
    public AttentionKind Attention { get; init; } = AttentionKind.Softmax;
    /// <summary>Performer random features per head; 0 means round(dh·ln dh) as in the paper's code.</summary>
    public int PerformerFeatures { get; init; }
    /// <summary>Training forward passes between redraws of the Performer features (0: never redraw).</summary>
    public int PerformerRedrawInterval { get; init; } = 1000;
    /// <summary>Base of the rotary frequencies.</summary>
    public float RotaryTheta { get; init; } = 10000f;
    /// <summary>Entmax attention's α in (1, 2]: 1.5 is the paper's choice, 2 is sparsemax.</summary>
    public float EntmaxAlpha { get; init; } = 1.5f;
    /// <summary>
    /// Experts in each feed-forward layer (Switch Transformer, Fedus et al. 2021): 0 keeps the dense
    /// feed-forward; E ≥ 2 gives E feed-forward experts with top-1 routing.
    /// </summary>
    public int Experts { get; init; }
    /// <summary>Switch capacity factor: each expert takes at most ⌈factor·tokens/E⌉ tokens per batch; the rest skip the layer (residual only).</summary>
    public float ExpertCapacityFactor { get; init; } = 1.25f;
    /// <summary>Weight of the Switch load-balancing loss (α in the paper: 0.01), added to the training objective.</summary>
    public float LoadBalancingWeight { get; init; } = 0.01f;

    /// <summary>True when attention is exact (softmax or entmax), so structured masks such as MPNet's two streams apply.</summary>
    public bool ExactAttention => Attention is AttentionKind.Softmax or AttentionKind.Entmax;

    /// <summary>Embedding width in effect.</summary>
    public int EffectiveEmbeddingSize => EmbeddingSize > 0 ? EmbeddingSize : HiddenSize;
    /// <summary>Width of one head.</summary>
    public int HeadSize => HiddenSize / Heads;
    /// <summary>Random features per head in effect.</summary>
    public int EffectivePerformerFeatures => PerformerFeatures > 0 ? PerformerFeatures : Math.Max(1, (int)Math.Round(HeadSize * Math.Log(HeadSize)));

    /// <summary>Number of distinct weight sets.</summary>
    public int WeightSets => Sharing switch
    {
        LayerSharing.All => 1,
        LayerSharing.AdjacentPairs => (Layers + 1) / 2,
        LayerSharing.Alternating => Math.Min(2, Layers),
        _ => Layers,
    };

    /// <summary>The weight set used by layer <paramref name="layer"/>.</summary>
    public int WeightSetOf(int layer) => Sharing switch
    {
        LayerSharing.All => 0,
        LayerSharing.AdjacentPairs => layer / 2,
        LayerSharing.Alternating => layer % 2,
        _ => layer,
    };

    /// <summary>True when every option has its BERT value, so the checkpoint is a plain BERT.</summary>
    public bool IsPlainBert => EffectiveEmbeddingSize == HiddenSize && Norm == NormPlacement.Post && Positions == PositionEncoding.Absolute
                               && Sharing == LayerSharing.None && Attention == AttentionKind.Softmax && Experts == 0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when the configuration cannot work.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException("encoder config: " + message); }
        // Upper bounds far above any model this engine trains, so a tampered file cannot ask for an absurd allocation.
        Check(VocabSize is > 0 and <= 10_000_000, $"vocab_size must be between 1 and 10,000,000, got {VocabSize}.");
        Check(HiddenSize is > 0 and <= 65_536 && Heads is > 0 and <= 4096 && HiddenSize % Heads == 0, $"hidden_size {HiddenSize} must be a positive multiple of num_attention_heads {Heads} (at most 65,536).");
        Check(Layers is > 0 and <= 1024, $"num_hidden_layers must be between 1 and 1024, got {Layers}.");
        Check(IntermediateSize is > 0 and <= 1_048_576, $"intermediate_size must be between 1 and 1,048,576, got {IntermediateSize}.");
        Check(MaxPositions is > 0 and <= 1_048_576 && TypeVocabSize is > 0 and <= 1024, "max_position_embeddings (at most 1,048,576) and type_vocab_size (at most 1024) must be positive.");
        Check(EmbeddingSize is >= 0 and <= 65_536 && PerformerFeatures is >= 0 and <= 65_536, "embedding_size and jianwei_performer_features must be between 0 and 65,536.");
        Check(LayerNormEps > 0 && float.IsFinite(LayerNormEps) && float.IsFinite(RotaryTheta) && RotaryTheta > 0 && float.IsFinite(InitializerRange),
              "layer_norm_eps, jianwei_rotary_theta and initializer_range must be finite (the first two positive).");
        Check(AttentionDropout is >= 0f and < 1f, $"attention_probs_dropout_prob must be in [0, 1), got {AttentionDropout}.");
        Check(Positions != PositionEncoding.Rotary || HeadSize % 2 == 0, $"rotary positions need an even head size, got {HeadSize}.");
        Check(HiddenDropout is >= 0f and < 1f, $"hidden_dropout_prob must be in [0, 1), got {HiddenDropout}.");
        Check(EntmaxAlpha is > 1f and <= 2f, $"jianwei_entmax_alpha must be in (1, 2], got {EntmaxAlpha}.");
        Check(Experts == 0 || Experts is >= 2 and <= 1024, $"jianwei_experts must be 0 (dense) or between 2 and 1024, got {Experts}.");
        Check(ExpertCapacityFactor is > 0f and <= 64f, $"jianwei_expert_capacity must be in (0, 64], got {ExpertCapacityFactor}.");
        Check(LoadBalancingWeight is >= 0f and <= 100f, $"jianwei_load_balancing must be in [0, 100], got {LoadBalancingWeight}.");
    }

    /// <summary>The configuration as Hugging Face <c>config.json</c> text.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("BertForMaskedLM"),
            ["model_type"] = "bert",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = "gelu",
            ["max_position_embeddings"] = MaxPositions,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["hidden_dropout_prob"] = HiddenDropout,
            ["attention_probs_dropout_prob"] = AttentionDropout,
            ["pad_token_id"] = PadTokenId,
            ["initializer_range"] = InitializerRange,
            ["position_embedding_type"] = "absolute",
        };
        if (!IsPlainBert)
        {
            o["embedding_size"] = EffectiveEmbeddingSize;
            o["jianwei_norm"] = Norm.ToString().ToLowerInvariant();
            o["jianwei_positions"] = Positions.ToString().ToLowerInvariant();
            o["jianwei_sharing"] = Sharing.ToString().ToLowerInvariant();
            o["jianwei_attention"] = Attention.ToString().ToLowerInvariant();
            o["jianwei_performer_features"] = EffectivePerformerFeatures;
            o["jianwei_performer_redraw_interval"] = PerformerRedrawInterval;
            o["jianwei_rotary_theta"] = RotaryTheta;
            o["jianwei_entmax_alpha"] = EntmaxAlpha;
            o["jianwei_experts"] = Experts;
            o["jianwei_expert_capacity"] = ExpertCapacityFactor;
            o["jianwei_load_balancing"] = LoadBalancingWeight;
        }
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads a Hugging Face BERT <c>config.json</c> (with or without Jianwei's keys); <paramref name="source"/> names it in errors.</summary>
    public static EncoderConfig FromJson(string json, string source = "config.json")
    {
        try { return Parse(json, source); }
        catch (InvalidOperationException e) { throw new FormatException($"{source}: a field has the wrong type ({e.Message})."); }   // "hidden_size": "big"
    }

    private static EncoderConfig Parse(string json, string source)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new FormatException($"{source}: not valid JSON ({(e.LineNumber is long line ? $"line {line + 1}: " : "")}{e.Message.Split(" LineNumber")[0].TrimEnd('.', ' ')})."); }
        if (root is not JsonObject o) throw new FormatException($"{source}: expected a JSON object.");
        string modelType = o["model_type"]?.GetValue<string>() ?? "bert";
        if (modelType is not ("bert" or "roberta" or "electra"))
            throw new FormatException($"{source}: model_type '{modelType}' is not a BERT-layout encoder.");
        string act = o["hidden_act"]?.GetValue<string>() ?? "gelu";
        if (act != "gelu") throw new FormatException($"{source}: hidden_act '{act}' is not supported (only erf 'gelu').");
        string posType = o["position_embedding_type"]?.GetValue<string>() ?? "absolute";
        if (posType != "absolute") throw new FormatException($"{source}: position_embedding_type '{posType}' is not supported.");

        int Int(string key, int fallback) => o[key] is JsonNode n ? n.GetValue<int>() : fallback;
        float Float(string key, float fallback) => o[key] is JsonNode n ? (float)n.GetValue<double>() : fallback;
        T Enum<T>(string key, T fallback) where T : struct, System.Enum
        {
            if (o[key] is not JsonNode n) return fallback;
            string text = n.GetValue<string>().Replace("_", "");
            return System.Enum.TryParse<T>(text, ignoreCase: true, out var value)
                ? value
                : throw new FormatException($"{source}: {key} '{n.GetValue<string>()}' is not one of {string.Join(", ", System.Enum.GetNames<T>()).ToLowerInvariant()}.");
        }
        var d = new EncoderConfig();
        var config = new EncoderConfig
        {
            VocabSize = Int("vocab_size", d.VocabSize),
            HiddenSize = Int("hidden_size", d.HiddenSize),
            Layers = Int("num_hidden_layers", d.Layers),
            Heads = Int("num_attention_heads", d.Heads),
            IntermediateSize = Int("intermediate_size", d.IntermediateSize),
            MaxPositions = Int("max_position_embeddings", d.MaxPositions),
            TypeVocabSize = Int("type_vocab_size", d.TypeVocabSize),
            LayerNormEps = Float("layer_norm_eps", d.LayerNormEps),
            HiddenDropout = Float("hidden_dropout_prob", d.HiddenDropout),
            AttentionDropout = Float("attention_probs_dropout_prob", d.AttentionDropout),
            PadTokenId = Int("pad_token_id", d.PadTokenId),
            InitializerRange = Float("initializer_range", d.InitializerRange),
            EmbeddingSize = Int("embedding_size", 0),
            Norm = Enum("jianwei_norm", NormPlacement.Post),
            Positions = Enum("jianwei_positions", PositionEncoding.Absolute),
            Sharing = Enum("jianwei_sharing", LayerSharing.None),
            Attention = Enum("jianwei_attention", AttentionKind.Softmax),
            PerformerFeatures = Int("jianwei_performer_features", 0),
            PerformerRedrawInterval = Int("jianwei_performer_redraw_interval", d.PerformerRedrawInterval),
            RotaryTheta = Float("jianwei_rotary_theta", d.RotaryTheta),
            EntmaxAlpha = Float("jianwei_entmax_alpha", d.EntmaxAlpha),
            Experts = Int("jianwei_experts", 0),
            ExpertCapacityFactor = Float("jianwei_expert_capacity", d.ExpertCapacityFactor),
            LoadBalancingWeight = Float("jianwei_load_balancing", d.LoadBalancingWeight),
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"{source}: {e.Message}"); }
        return config;
    }
}
