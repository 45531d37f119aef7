using System.Numerics.Tensors;

namespace Jianwei.Tensors.Optim;

/// <summary>
/// An exponential moving average of parameters over training steps (Polyak averaging, as timm's
/// <c>ModelEma</c> or Keras's <c>use_ema</c>): after each optimizer step, a ← d·a + (1 − d)·θ. The
/// average starts at zero and is divided by 1 − dᵗ when read, so after t steps it weighs the steps'
/// parameters (1 − d)·d^(t−k) / (1 − dᵗ) — always summing to one, with no pull towards the starting
/// weights. Evaluate or keep the average by swapping it into the parameters with <see cref="Swap"/>.
/// </summary>
public sealed class WeightAverage
{
    private readonly Tensor[] _parameters;
    private readonly float[][] _sums;
    private readonly float _decay;
    private double _decayPower = 1;   // dᵗ, in double: it is compared with 1 after thousands of steps

    /// <summary>Averages <paramref name="parameters"/> with <paramref name="decay"/> d in [0, 1) (0 keeps the latest weights).</summary>
    public WeightAverage(IEnumerable<Tensor> parameters, float decay)
    {
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "the decay of a moving average is in [0, 1).");
        _parameters = parameters.ToArray();
        _sums = _parameters.Select(p => new float[p.Length]).ToArray();
        _decay = decay;
    }

    /// <summary>Steps folded in so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Folds the parameters' current values into the average (call after each optimizer step).</summary>
    public void Update()
    {
        for (int i = 0; i < _parameters.Length; i++)
            TensorPrimitives.Lerp(_sums[i], _parameters[i].Data, 1 - _decay, _sums[i]);   // a + (θ − a)(1 − d) = d·a + (1 − d)·θ
        _decayPower *= _decay;
        Steps++;
    }

    /// <summary>
    /// Puts the average into the parameters; disposing the result puts the training weights back
    /// exactly. Before the first <see cref="Update"/> there is nothing to average and nothing changes.
    /// </summary>
    public IDisposable Swap()
    {
        if (Steps == 0) return new Restore([]);
        var saved = _parameters.Select(p => p.Data.ToArray()).ToArray();
        float correction = (float)(1 / (1 - _decayPower));
        for (int i = 0; i < _parameters.Length; i++) TensorPrimitives.Multiply(_sums[i], correction, _parameters[i].Data);
        return new Restore(_parameters.Zip(saved).ToArray());
    }

    private sealed class Restore((Tensor Parameter, float[] Values)[] saved) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            foreach (var (p, values) in saved) values.CopyTo(p.Data);
            _done = true;
        }
    }
}
