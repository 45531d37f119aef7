using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary (see TransformerEncoder.cs).

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
        if (!_config.ExactAttention && inputs.AttentionMask is not null)
            throw new NotSupportedException($"{_config.Attention} attention cannot apply a structured attention mask (MPNet's two streams need softmax or entmax attention).");
        switch (_config.Attention)
        {
            case AttentionKind.Softmax:
                return Tensor.MultiHeadAttention(q, k, v, heads, inputs.KeyMask, 1f / MathF.Sqrt(_config.HeadSize), inputs.AttentionMask);
            case AttentionKind.Entmax:
                return Tensor.MultiHeadAttention(q, k, v, heads, inputs.KeyMask, 1f / MathF.Sqrt(_config.HeadSize), inputs.AttentionMask, _config.EntmaxAlpha);
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
