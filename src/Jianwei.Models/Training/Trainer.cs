using System.Globalization;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;

namespace Jianwei.Models.Training;

/// <summary>The loss of one micro-batch.</summary>
/// <param name="Loss">Scalar loss to minimize.</param>
/// <param name="Tokens">Tokens (or rows) it covered, for throughput.</param>
/// <param name="Parts">Named parts for the log, or null.</param>
public sealed record TrainingStepResult(Tensor Loss, int Tokens, IReadOnlyDictionary<string, double>? Parts = null);

/// <summary>What a <see cref="Trainer"/> trains: a model, a loss per micro-batch, an evaluation.</summary>
public interface ITrainingTask
{
    /// <summary>Everything trained and checkpointed.</summary>
    Module Model { get; }
    /// <summary>
    /// The loss of micro-batch number <paramref name="microBatch"/> (counted from 0 over the whole run).
    /// The batch must be a function of that number (and the task's seed) alone — which is what makes
    /// a resumed run identical to an uninterrupted one. <paramref name="rng"/> is seeded per micro-batch.
    /// </summary>
    TrainingStepResult Step(long microBatch, Rng rng);
    /// <summary>Held-out metrics (evaluation mode is set by the trainer).</summary>
    IReadOnlyDictionary<string, double> Evaluate();
}

/// <summary>Settings of a <see cref="Trainer"/> run.</summary>
public sealed record TrainerOptions
{
    /// <summary>Optimizer steps (each of <see cref="GradientAccumulation"/> micro-batches).</summary>
    public int MaxSteps { get; init; } = 1000;
    /// <summary>
    /// Wall-clock budget, or null. After <see cref="CalibrationSteps"/> steps the step count is fixed
    /// to what fits the budget (stored in checkpoints), so the learning-rate schedule decays to zero
    /// in time and a resumed run follows the same schedule.
    /// </summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>
    /// Steps run before the budget first sets the step count; the pace is measured over the later half
    /// of the steps so far (the first warm up), and refreshed every step until warm-up ends.
    /// </summary>
    public int CalibrationSteps { get; init; } = 10;
    /// <summary>Micro-batches per optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Peak AdamW learning rate.</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>AdamW weight decay (matrices only; biases, norms and gates are not decayed).</summary>
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>Linear warm-up steps, then linear decay to 0 at the last step.</summary>
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Global gradient-norm clip (0: none).</summary>
    public float ClipNorm { get; init; } = 1f;
    /// <summary>Evaluate every N steps (0: only at the end).</summary>
    public int EvaluateEvery { get; init; }
    /// <summary>Checkpoint every N steps (0: only at the end and on interruption); needs <see cref="OutputDirectory"/>.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Where checkpoints and logs go, or null for none.</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>Continue from the latest checkpoint in <see cref="OutputDirectory"/> when there is one.</summary>
    public bool Resume { get; init; } = true;
    /// <summary>Seed for masking, sampling and dropout streams.</summary>
    public ulong Seed { get; init; }
    /// <summary>Steps between log rows.</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Where the progress bar goes, or null for none.</summary>
    public TextWriter? Progress { get; init; }
    /// <summary>Label of the progress bar.</summary>
    public string Label { get; init; } = "train";
    /// <summary>The clock the time budget and the logs read (tests pass a manual one); null for the system's.</summary>
    public TimeProvider? Clock { get; init; }
}

/// <summary>One row of the training curve.</summary>
public sealed record TrainingLogRow(int Step, double Loss, double LearningRate, double TokensPerSecond, double Seconds);

/// <summary>One evaluation.</summary>
public sealed record EvaluationRow(int Step, double Seconds, IReadOnlyDictionary<string, double> Metrics);

/// <summary>How a run ended.</summary>
public sealed record TrainingResult(int Steps, int TotalSteps, bool Interrupted, double Seconds, long Tokens,
                                    IReadOnlyList<TrainingLogRow> Log, IReadOnlyList<EvaluationRow> Evaluations);

/// <summary>
/// The step loop of self-supervised pretraining (MLM, ELECTRA, MPNet and co-pretraining; supervised
/// epochs are <see cref="EarlyStopping"/>): AdamW, gradient accumulation, clipping,
/// warm-up then linear decay, evaluation every N steps, checkpoints every N steps and on cancellation
/// (Ctrl+C), exact resume, a progress bar with loss, tokens/s and ETA, and CSV logs of the curves.
/// <para>
/// Files under <see cref="TrainerOptions.OutputDirectory"/>: <c>checkpoints/step-N/</c> (model and
/// optimizer safetensors), <c>checkpoints/latest.json</c> (the trainer state; written last and
/// atomically, so a crash mid-checkpoint leaves the previous one in force), <c>train_log.csv</c>,
/// <c>eval_log.csv</c>.
/// </para>
/// Exactness rule: everything random in step k — the batch, masking, sampling, dropout — is seeded
/// from (seed, k), and the optimizer state is saved bit for bit, so resuming at step k reproduces the
/// uninterrupted run's losses exactly.
/// </summary>
public sealed partial class Trainer(ITrainingTask task, TrainerOptions options)
{
    private const string LatestFile = "latest.json", TrainLog = "train_log.csv", EvalLog = "eval_log.csv";

    /// <summary>Where a run stands: restored from a checkpoint or fresh, advanced step by step.</summary>
    private sealed class RunState
    {
        public int Step, TotalSteps;
        public bool Calibrated;
        public double SecondsBefore;   // seconds of the run before this process resumed it
        public long Tokens;
        public required Func<double> Seconds;
        // Calibration of a budgeted run: the seconds at the end of each step since CalibrationFrom.
        public int CalibrationFrom;
        public double CalibrationStart;
        public readonly List<double> StepTimes = [];
    }

    /// <summary>Runs until the last step, the budget, or cancellation (which checkpoints first).</summary>
    public TrainingResult Run(CancellationToken cancel = default)
    {
        var model = task.Model;
        var optimizer = CreateOptimizer(model);
        var log = new List<TrainingLogRow>();
        var evaluations = new List<EvaluationRow>();
        var clock = options.Clock ?? TimeProvider.System;
        var s = new RunState { TotalSteps = options.MaxSteps, Calibrated = options.TimeBudget is null, Seconds = null! };
        if (options.OutputDirectory is not null && options.Resume && TryLoadCheckpoint(options.OutputDirectory, model, optimizer) is { } saved)
        {
            (s.Step, s.TotalSteps, s.Calibrated, s.SecondsBefore, s.Tokens) = saved;
            log.AddRange(ReadTrainLog(options.OutputDirectory, s.Step));
            evaluations.AddRange(ReadEvalLog(options.OutputDirectory, s.Step));
            RewriteLogs(options.OutputDirectory, log, evaluations);   // drops rows written after the checkpoint
        }
        else if (options.OutputDirectory is not null) RewriteLogs(options.OutputDirectory, log, evaluations);
        long started = clock.GetTimestamp();
        s.Seconds = () => s.SecondsBefore + clock.GetElapsedTime(started).TotalSeconds;
        var bar = options.Progress is null ? null : new ProgressBar(options.Progress, options.Label);
        double lossSum = 0; int lossCount = 0; long tokensAtLog = s.Tokens; double secondsAtLog = s.Seconds();
        s.CalibrationFrom = s.Step;
        s.CalibrationStart = s.Seconds();
        bool interrupted = false;
        model.Train();

        while (s.Step < s.TotalSteps)
        {
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            double stepLoss = OptimizerStep(model, optimizer, s);
            lossSum += stepLoss; lossCount++;
            if (!s.Calibrated) Calibrate(s);
            if (s.Step % options.LogEvery == 0 || s.Step == s.TotalSteps)
            {
                double now = s.Seconds();
                var row = new TrainingLogRow(s.Step, lossSum / lossCount, optimizer.Groups[0].LearningRate, (s.Tokens - tokensAtLog) / Math.Max(1e-9, now - secondsAtLog), now);
                log.Add(row);
                AppendTrainLog(row);
                bar?.Update(s.Step, s.TotalSteps, TimeSpan.FromSeconds(now),
                    string.Create(CultureInfo.InvariantCulture, $"loss {row.Loss:F4} lr {row.LearningRate:E2} {row.TokensPerSecond:F0} tok/s"));
                lossSum = 0; lossCount = 0; tokensAtLog = s.Tokens; secondsAtLog = now;
            }
            if (options.EvaluateEvery > 0 && s.Step % options.EvaluateEvery == 0 && s.Step < s.TotalSteps) evaluations.Add(Evaluate(model, s.Step, s.Seconds()));
            if (options.OutputDirectory is not null && options.CheckpointEvery > 0 && s.Step % options.CheckpointEvery == 0 && s.Step < s.TotalSteps)
                SaveCheckpoint(options.OutputDirectory, model, optimizer, s.Step, s.TotalSteps, s.Calibrated, s.Seconds(), s.Tokens);
        }
        bar?.Finish();
        if (!interrupted && (evaluations.Count == 0 || evaluations[^1].Step != s.Step)) evaluations.Add(Evaluate(model, s.Step, s.Seconds()));
        if (options.OutputDirectory is not null) SaveCheckpoint(options.OutputDirectory, model, optimizer, s.Step, s.TotalSteps, s.Calibrated, s.Seconds(), s.Tokens);
        return new TrainingResult(s.Step, s.TotalSteps, interrupted, s.Seconds(), s.Tokens, log, evaluations);
    }

    /// <summary>AdamW over the trainable parameters: matrices decayed, biases, norms and gates not.</summary>
    private AdamW CreateOptimizer(Module model)
    {
        var decay = model.NamedParameters().Where(p => p.Parameter.Rank >= 2 && p.Parameter.RequiresGrad).Select(p => p.Parameter).ToList();
        var noDecay = model.NamedParameters().Where(p => p.Parameter.Rank < 2 && p.Parameter.RequiresGrad).Select(p => p.Parameter).ToList();
        return new AdamW([new ParamGroup(decay, options.LearningRate, options.WeightDecay), new ParamGroup(noDecay, options.LearningRate, 0f)]);
    }

    /// <summary>
    /// One optimizer step: the scheduled learning rate, <see cref="TrainerOptions.GradientAccumulation"/>
    /// micro-batches (each seeded from its number), clipping; returns the step's loss.
    /// </summary>
    private double OptimizerStep(Module model, AdamW optimizer, RunState s)
    {
        float multiplier = LearningRateSchedules.WarmupLinear(s.Step, options.WarmupSteps, s.TotalSteps);
        foreach (var g in optimizer.Groups) g.LearningRate = options.LearningRate * multiplier;
        double stepLoss = 0;
        for (int micro = 0; micro < options.GradientAccumulation; micro++)
        {
            long counter = (long)s.Step * options.GradientAccumulation + micro;
            model.ReseedRandom(Rng.Mix(options.Seed ^ 0xD50F, (ulong)counter));
            using var scope = new TensorScope();
            model.TakeAddedLosses();                                                       // nothing left from a pass outside the step
            var result = task.Step(counter, new Rng(Rng.Mix(options.Seed, (ulong)counter)));
            var objective = model.TakeAddedLosses() is { } added ? result.Loss + added : result.Loss;   // + load balancing of experts
            var loss = options.GradientAccumulation == 1 ? objective : objective * (1f / options.GradientAccumulation);
            stepLoss += objective.Item() / options.GradientAccumulation;
            loss.Backward();
            s.Tokens += result.Tokens;
        }
        if (!double.IsFinite(stepLoss))
            throw new InvalidOperationException($"training diverged: loss {stepLoss} at step {s.Step + 1} (lower the learning rate, or check the data).");
        if (options.ClipNorm > 0) GradientClipping.ClipGradNorm(model.TrainableParameters(), options.ClipNorm);
        optimizer.Step();
        optimizer.ZeroGrad();
        s.Step++;
        return stepLoss;
    }

    /// <summary>
    /// Budgeted runs: after CalibrationSteps, fix the step count to what the remaining budget allows
    /// at the pace of the recent steps (the first ones only warm up: JIT, buffer pools). Until warm-up
    /// ends the estimate is refreshed every step — the learning rate there depends on the step alone,
    /// so a later total changes nothing already done — then it is frozen (and checkpointed).
    /// </summary>
    private void Calibrate(RunState s)
    {
        s.StepTimes.Add(s.Seconds());
        if (s.Step - s.CalibrationFrom < options.CalibrationSteps) return;
        int done = s.Step - s.CalibrationFrom, half = done / 2;                       // pace over the later half
        double perStep = (s.StepTimes[done - 1] - (half > 0 ? s.StepTimes[half - 1] : s.CalibrationStart)) / (done - half);
        double remaining = options.TimeBudget!.Value.TotalSeconds - s.Seconds();
        s.TotalSteps = Math.Clamp(s.Step + (int)(remaining / Math.Max(1e-9, perStep)), s.Step, options.MaxSteps);
        s.Calibrated = s.Step >= Math.Max(s.CalibrationFrom + options.CalibrationSteps, options.WarmupSteps);
    }

    /// <summary>The task's held-out metrics at <paramref name="step"/>, in evaluation mode, logged.</summary>
    private EvaluationRow Evaluate(Module model, int step, double seconds)
    {
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using var scope = new TensorScope();
            var row = new EvaluationRow(step, seconds, task.Evaluate());
            AppendEvalLog(row);
            return row;
        }
        finally { model.Train(wasTraining); }
    }
}
