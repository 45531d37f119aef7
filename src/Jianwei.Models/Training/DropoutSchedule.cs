using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Training;

/// <summary>How dropout rates change over training; each rate is its configured value times the schedule's factor.</summary>
public enum DropoutSchedule
{
    /// <summary>The configured rates throughout.</summary>
    Constant,
    /// <summary>
    /// Early dropout (Liu et al. 2023, "Dropout reduces underfitting"): the configured rates for the
    /// first N epochs, none after; for models that underfit.
    /// </summary>
    Early,
    /// <summary>Late dropout (same paper): none for the first N epochs, the configured rates after; for models that overfit.</summary>
    Late,
    /// <summary>
    /// Curriculum dropout (Morerio et al. 2017): rising from none to the configured rates over the first N
    /// epochs, then held. Linear, where the paper rises exponentially, so there is no second parameter.
    /// </summary>
    Curriculum,
}

/// <summary>Applies a <see cref="DropoutSchedule"/> to every <see cref="Dropout"/> of a module.</summary>
public sealed class DropoutScheduler
{
    private readonly (Dropout Layer, float Rate)[] _layers;
    private readonly DropoutSchedule _schedule;
    private readonly double _epochs;

    /// <summary>
    /// Takes <paramref name="model"/>'s dropout layers and their current rates as the configured ones;
    /// <paramref name="epochs"/> is the schedule's N (in epochs, may be fractional).
    /// </summary>
    public DropoutScheduler(Module model, DropoutSchedule schedule, double epochs)
    {
        if (schedule != DropoutSchedule.Constant && !(epochs > 0))
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"the {schedule} dropout schedule needs a positive number of epochs.");
        _layers = model.NamedModules().Select(m => m.Module).OfType<Dropout>().Select(d => (d, d.P)).ToArray();
        _schedule = schedule;
        _epochs = epochs;
    }

    /// <summary>The factor on every rate after <paramref name="progress"/> epochs of training (0 at the start).</summary>
    public static float Factor(DropoutSchedule schedule, double epochs, double progress) => schedule switch
    {
        DropoutSchedule.Constant => 1f,
        DropoutSchedule.Early => progress < epochs ? 1f : 0f,
        DropoutSchedule.Late => progress < epochs ? 0f : 1f,
        DropoutSchedule.Curriculum => (float)Math.Min(1.0, progress / epochs),
        _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, null),
    };

    /// <summary>Sets every layer's rate for <paramref name="progress"/> epochs of training.</summary>
    public void Apply(double progress)
    {
        float factor = Factor(_schedule, _epochs, progress);
        foreach (var (layer, rate) in _layers) layer.P = rate * factor;
    }

    /// <summary>Puts the configured rates back (what the model is saved and used with).</summary>
    public void Restore()
    {
        foreach (var (layer, rate) in _layers) layer.P = rate;
    }
}
