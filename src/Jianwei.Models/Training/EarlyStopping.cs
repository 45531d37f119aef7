using System.Diagnostics;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Training;

/// <summary>Settings of <see cref="EarlyStopping.Run"/>.</summary>
public sealed record EarlyStoppingOptions
{
    /// <summary>Most epochs.</summary>
    public required int MaxEpochs { get; init; }
    /// <summary>Stop after this many epochs without a better validation score (default: never stop early).</summary>
    public int Patience { get; init; } = int.MaxValue;
    /// <summary>Lower scores are better (a loss); otherwise higher (ROC-AUC).</summary>
    public bool LowerIsBetter { get; init; }
    /// <summary>Wall-clock cap: no epoch starts that would end past it at the mean pace so far (the first always runs); null for none.</summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>
    /// Score the weights before the first epoch too, and keep them if no epoch beats them: for a start
    /// that is already a fitted model (the score is not on the curve, which holds epochs).
    /// </summary>
    public bool KeepStart { get; init; }
}

/// <summary>
/// The epoch loop every supervised learner shares (the multimodal transformer, late fusion, the
/// FT-Transformer, TabNet and its pretraining): train one epoch — the learner's own pass over its
/// batches — then score the validation rows; keep a copy of the weights whenever the score improves;
/// stop when patience runs out or the next epoch would overrun the time budget; put the best weights
/// back. Step-based self-supervised pretraining, with checkpoints and resume, is <see cref="Trainer"/>.
/// </summary>
public static class EarlyStopping
{
    /// <summary>
    /// Runs the loop on <paramref name="model"/>; each epoch's validation score is appended to
    /// <paramref name="curve"/> (cleared first). <paramref name="validationScope"/>, when given, wraps
    /// each validation and the copy of the weights it may take (an exponential moving average swapped
    /// in, for instance); <paramref name="onImproved"/> runs inside it after a better epoch. Returns the
    /// best score, the start's included with <see cref="EarlyStoppingOptions.KeepStart"/>.
    /// </summary>
    public static double Run(Module model, EarlyStoppingOptions options, List<double> curve, Action<int> trainEpoch, Func<double> validate,
                           Func<IDisposable?>? validationScope = null, Action? onImproved = null)
    {
        curve.Clear();
        double best = options.LowerIsBetter ? double.PositiveInfinity : double.NegativeInfinity;
        Dictionary<string, float[]>? bestState = null;
        int sinceBest = 0;
        if (options.KeepStart)
            using (validationScope?.Invoke())
            {
                best = validate(); bestState = model.CopyState();
                onImproved?.Invoke();
            }
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < options.MaxEpochs && sinceBest < options.Patience; epoch++)
        {
            if (epoch > 0 && options.TimeBudget is TimeSpan budget && clock.Elapsed + clock.Elapsed / epoch > budget) break;
            trainEpoch(epoch);
            using (validationScope?.Invoke())
            {
                double score = validate();
                curve.Add(score);
                if (options.LowerIsBetter ? score < best : score > best)
                {
                    best = score; sinceBest = 0; bestState = model.CopyState();
                    onImproved?.Invoke();
                }
                else sinceBest++;
            }
        }
        if (bestState is not null) model.RestoreState(bestState);
        return best;
    }
}
