namespace Jianwei.Tensors.Nn;

/// <summary>y = x·Wᵀ + b, weight [out, in] (PyTorch layout), initialized U(−1/√in, 1/√in) like PyTorch.</summary>
public sealed class Linear : Module
{
    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }
    /// <summary>[out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Creates the layer with PyTorch's default initialization.</summary>
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true)
    {
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Tensor.Uniform(rng, -bound, bound, outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Tensor.Uniform(rng, -bound, bound, outFeatures));
    }

    /// <summary>Applies the map to the last axis of <paramref name="x"/>: [..., in] → [..., out].</summary>
    public Tensor Forward(Tensor x) => Tensor.Linear(x, Weight, Bias);
}

/// <summary>A lookup table [count, dim], initialized N(0, 1) like PyTorch.</summary>
public sealed class Embedding : Module
{
    /// <summary>[count, dim].</summary>
    public Tensor Weight { get; }

    /// <summary>Creates the table.</summary>
    public Embedding(int count, int dim, Rng rng, float std = 1f)
    {
        Weight = RegisterParameter("weight", Tensor.Normal(rng, 0f, std, count, dim));
    }

    /// <summary>[...ids] → [...ids, dim].</summary>
    public Tensor Forward(IntTensor ids) => Tensor.Embedding(Weight, ids);
}

/// <summary>Layer normalization over the last axis (γ = 1, β = 0 at start).</summary>
public sealed class LayerNorm : Module
{
    /// <summary>γ, named "weight" as in PyTorch.</summary>
    public Tensor Weight { get; }
    /// <summary>β, named "bias".</summary>
    public Tensor Bias { get; }
    /// <summary>Added to the variance.</summary>
    public float Eps { get; }

    /// <summary>Creates the layer.</summary>
    public LayerNorm(int dim, float eps = 1e-5f)
    {
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
        Bias = RegisterParameter("bias", Tensor.Zeros(dim));
    }

    /// <summary>Normalizes x.</summary>
    public Tensor Forward(Tensor x) => Tensor.LayerNorm(x, Weight, Bias, Eps);

    /// <summary>Normalizes x + residual, fused.</summary>
    public Tensor Forward(Tensor x, Tensor residual) => Tensor.AddLayerNorm(x, residual, Weight, Bias, Eps);
}

/// <summary>Batch normalization over [batch, features], with optional ghost batches (TabNet).</summary>
public sealed class BatchNorm : Module
{
    /// <summary>γ.</summary>
    public Tensor Weight { get; }
    /// <summary>β.</summary>
    public Tensor Bias { get; }
    /// <summary>Running mean (buffer).</summary>
    public Tensor RunningMean { get; }
    /// <summary>Running variance (buffer).</summary>
    public Tensor RunningVar { get; }
    /// <summary>Weight of a new batch in the running statistics.</summary>
    public float Momentum { get; }
    /// <summary>Added to the variance.</summary>
    public float Eps { get; }
    /// <summary>Rows per ghost batch in training (0: the whole batch).</summary>
    public int VirtualBatchSize { get; }

    /// <summary>Creates the layer.</summary>
    public BatchNorm(int features, float momentum = 0.1f, float eps = 1e-5f, int virtualBatchSize = 0)
    {
        Momentum = momentum; Eps = eps; VirtualBatchSize = virtualBatchSize;
        Weight = RegisterParameter("weight", Tensor.Ones(features));
        Bias = RegisterParameter("bias", Tensor.Zeros(features));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(features));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(features));
    }

    /// <summary>Normalizes x [batch, features].</summary>
    public Tensor Forward(Tensor x) => Tensor.BatchNorm(x, Weight, Bias, RunningMean, RunningVar, IsTraining, Momentum, Eps, VirtualBatchSize);
}

/// <summary>Inverted dropout, active only in training mode.</summary>
public sealed class Dropout(float p, Rng rng) : Module
{
    /// <summary>Drop probability, in [0, 1); settable so that training can schedule it.</summary>
    public float P
    {
        get;
        set => field = value is >= 0f and < 1f ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "dropout probability must be in [0, 1).");
    } = p;

    /// <summary>Applies dropout in training; identity in evaluation.</summary>
    public Tensor Forward(Tensor x) => Tensor.Dropout(x, P, IsTraining, rng);

    /// <inheritdoc/>
    protected override void OnReseed(ulong seed) => rng.Reseed(seed);
}
