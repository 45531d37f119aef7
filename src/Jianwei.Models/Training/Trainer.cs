using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;
using Jianwei.Tensors.Serialization;

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
/// The training loop shared by pretraining and fine-tuning: AdamW, gradient accumulation, clipping,
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
public sealed class Trainer(ITrainingTask task, TrainerOptions options)
{
    private const string LatestFile = "latest.json", TrainLog = "train_log.csv", EvalLog = "eval_log.csv";

    /// <summary>Runs until the last step, the budget, or cancellation (which checkpoints first).</summary>
    public TrainingResult Run(CancellationToken cancel = default)
    {
        var model = task.Model;
        var decay = model.NamedParameters().Where(p => p.Parameter.Rank >= 2 && p.Parameter.RequiresGrad).Select(p => p.Parameter).ToList();
        var noDecay = model.NamedParameters().Where(p => p.Parameter.Rank < 2 && p.Parameter.RequiresGrad).Select(p => p.Parameter).ToList();
        var optimizer = new AdamW([new ParamGroup(decay, options.LearningRate, options.WeightDecay), new ParamGroup(noDecay, options.LearningRate, 0f)]);
        var log = new List<TrainingLogRow>();
        var evaluations = new List<EvaluationRow>();

        int step = 0, totalSteps = options.MaxSteps;
        bool calibrated = options.TimeBudget is null;
        double secondsBefore = 0;
        long tokens = 0;
        if (options.OutputDirectory is not null && options.Resume && TryLoadCheckpoint(options.OutputDirectory, model, optimizer) is { } state)
        {
            (step, totalSteps, calibrated, secondsBefore, tokens) = state;
            log.AddRange(ReadTrainLog(options.OutputDirectory, step));
            evaluations.AddRange(ReadEvalLog(options.OutputDirectory, step));
            RewriteLogs(options.OutputDirectory, log, evaluations);   // drops rows written after the checkpoint
        }
        else if (options.OutputDirectory is not null) RewriteLogs(options.OutputDirectory, log, evaluations);

        var clock = options.Clock ?? TimeProvider.System;
        long started = clock.GetTimestamp();
        double Seconds() => secondsBefore + clock.GetElapsedTime(started).TotalSeconds;
        var bar = options.Progress is null ? null : new ProgressBar(options.Progress, options.Label);
        double lossSum = 0; int lossCount = 0; long tokensAtLog = tokens; double secondsAtLog = Seconds();
        int calibrationFrom = step;
        double calibrationStart = Seconds();
        var stepTimes = new List<double>();   // seconds at the end of each step since calibrationFrom, while calibrating
        bool interrupted = false;
        model.Train();

        while (step < totalSteps)
        {
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            float multiplier = LearningRateSchedules.WarmupLinear(step, options.WarmupSteps, totalSteps);
            foreach (var g in optimizer.Groups) g.LearningRate = options.LearningRate * multiplier;
            double stepLoss = 0;
            for (int micro = 0; micro < options.GradientAccumulation; micro++)
            {
                long counter = (long)step * options.GradientAccumulation + micro;
                model.ReseedRandom(Rng.Mix(options.Seed ^ 0xD50F, (ulong)counter));
                using var scope = new TensorScope();
                var result = task.Step(counter, new Rng(Rng.Mix(options.Seed, (ulong)counter)));
                var loss = options.GradientAccumulation == 1 ? result.Loss : result.Loss * (1f / options.GradientAccumulation);
                stepLoss += result.Loss.Item() / options.GradientAccumulation;
                loss.Backward();
                tokens += result.Tokens;
            }
            if (!double.IsFinite(stepLoss))
                throw new InvalidOperationException($"training diverged: loss {stepLoss} at step {step + 1} (lower the learning rate, or check the data).");
            if (options.ClipNorm > 0) GradientClipping.ClipGradNorm(model.TrainableParameters(), options.ClipNorm);
            optimizer.Step();
            optimizer.ZeroGrad();
            step++;
            lossSum += stepLoss; lossCount++;

            // Budgeted runs: after CalibrationSteps, fix the step count to what the remaining budget allows
            // at the pace of the recent steps (the first ones only warm up: JIT, buffer pools). Until warm-up
            // ends the estimate is refreshed every step — the learning rate there depends on the step alone,
            // so a later total changes nothing already done — then it is frozen (and checkpointed).
            if (!calibrated)
            {
                stepTimes.Add(Seconds());
                if (step - calibrationFrom >= options.CalibrationSteps)
                {
                    int done = step - calibrationFrom, half = done / 2;                       // pace over the later half
                    double perStep = (stepTimes[done - 1] - (half > 0 ? stepTimes[half - 1] : calibrationStart)) / (done - half);
                    double remaining = options.TimeBudget!.Value.TotalSeconds - Seconds();
                    totalSteps = Math.Clamp(step + (int)(remaining / Math.Max(1e-9, perStep)), step, options.MaxSteps);
                    calibrated = step >= Math.Max(calibrationFrom + options.CalibrationSteps, options.WarmupSteps);
                }
            }
            if (step % options.LogEvery == 0 || step == totalSteps)
            {
                double now = Seconds();
                var row = new TrainingLogRow(step, lossSum / lossCount, optimizer.Groups[0].LearningRate, (tokens - tokensAtLog) / Math.Max(1e-9, now - secondsAtLog), now);
                log.Add(row);
                AppendTrainLog(row);
                bar?.Update(step, totalSteps, TimeSpan.FromSeconds(now),
                    string.Create(CultureInfo.InvariantCulture, $"loss {row.Loss:F4} lr {row.LearningRate:E2} {row.TokensPerSecond:F0} tok/s"));
                lossSum = 0; lossCount = 0; tokensAtLog = tokens; secondsAtLog = now;
            }
            if (options.EvaluateEvery > 0 && step % options.EvaluateEvery == 0 && step < totalSteps) evaluations.Add(Evaluate(step, Seconds()));
            if (options.OutputDirectory is not null && options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0 && step < totalSteps)
                SaveCheckpoint(options.OutputDirectory, model, optimizer, step, totalSteps, calibrated, Seconds(), tokens);
        }
        bar?.Finish();
        if (!interrupted && (evaluations.Count == 0 || evaluations[^1].Step != step)) evaluations.Add(Evaluate(step, Seconds()));
        if (options.OutputDirectory is not null) SaveCheckpoint(options.OutputDirectory, model, optimizer, step, totalSteps, calibrated, Seconds(), tokens);
        return new TrainingResult(step, totalSteps, interrupted, Seconds(), tokens, log, evaluations);

        EvaluationRow Evaluate(int atStep, double seconds)
        {
            bool wasTraining = model.IsTraining;
            model.Eval();
            try
            {
                using var scope = new TensorScope();
                var row = new EvaluationRow(atStep, seconds, task.Evaluate());
                AppendEvalLog(row);
                return row;
            }
            finally { model.Train(wasTraining); }
        }
    }

    // ---- checkpoints ------------------------------------------------------------------------

    private static string CheckpointRoot(string dir) => Path.Combine(dir, "checkpoints");

    private static void SaveCheckpoint(string dir, Module model, Optimizer optimizer, int step, int totalSteps, bool calibrated, double seconds, long tokens)
    {
        string name = $"step-{step}";
        string folder = Path.Combine(CheckpointRoot(dir), name);
        Directory.CreateDirectory(folder);
        SafetensorsWriter.Save(Path.Combine(folder, "model.safetensors"), model.StateDict());
        SafetensorsWriter.Save(Path.Combine(folder, "optimizer.safetensors"),
            optimizer.SaveState().Select(kv => KeyValuePair.Create(kv.Key, Tensor.Wrap(kv.Value, kv.Value.Length))));
        var state = new JsonObject
        {
            ["format"] = "jianwei-trainer-1", ["checkpoint"] = name, ["step"] = step, ["total_steps"] = totalSteps,
            ["calibrated"] = calibrated, ["seconds"] = seconds, ["tokens"] = tokens, ["saved_at"] = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.WriteAllText(Path.Combine(CheckpointRoot(dir), LatestFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        foreach (var old in Directory.GetDirectories(CheckpointRoot(dir), "step-*"))
            if (Path.GetFileName(old) != name) Directory.Delete(old, recursive: true);
    }

    /// <summary>
    /// The latest checkpoint's state, loaded into <paramref name="model"/> and <paramref name="optimizer"/>;
    /// null when there is none. A damaged one (truncated by a full disk, edited) is a
    /// <see cref="Serialization.ModelFormatException"/> naming the file and how to start over.
    /// </summary>
    private static (int Step, int TotalSteps, bool Calibrated, double Seconds, long Tokens)? TryLoadCheckpoint(string dir, Module model, Optimizer optimizer)
    {
        string latest = Path.Combine(CheckpointRoot(dir), LatestFile);
        if (!File.Exists(latest)) return null;
        string restart = $"delete {CheckpointRoot(dir)} to start over";
        try
        {
            var state = Serialization.JsonFields.Load(latest);
            string name = state.String("checkpoint");
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, @"^step-[0-9]+$")) throw state.Error("checkpoint", $"'{name}' is not a checkpoint folder name (step-N).");
            string folder = Path.Combine(CheckpointRoot(dir), name);
            foreach (var file in new[] { "model.safetensors", "optimizer.safetensors" })
            {
                string path = Path.Combine(folder, file);
                if (!File.Exists(path)) throw new Serialization.ModelFormatException(path, null, "the file is missing.");
                SafetensorsFile weights;
                try { weights = SafetensorsFile.Load(path); }
                catch (SafetensorsFormatException e) { throw new Serialization.ModelFormatException(path, null, e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message); }
                try
                {
                    if (file == "model.safetensors") model.LoadStateDict(weights.ToStateDict());
                    else optimizer.LoadState(weights.ToStateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
                }
                catch (Exception e) when (e is StateDictException or ArgumentException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new Serialization.ModelFormatException(path, null, $"does not fit this model and optimizer ({(e is StateDictException sd ? Serialization.ModelFormatException.Describe(sd) : e.Message)}).");
                }
            }
            return (state.Int("step", 0, int.MaxValue), state.Int("total_steps", 0, int.MaxValue), state.Bool("calibrated"),
                    state.Number("seconds", 0, double.MaxValue), (long)state.Number("tokens", 0, double.MaxValue));
        }
        catch (Serialization.ModelFormatException e)
        {
            throw new Serialization.ModelFormatException(e.File, e.Field, $"{e.Problem.TrimEnd('.')}: the checkpoint cannot be resumed; {restart}.", e);
        }
    }

    // ---- logs -------------------------------------------------------------------------------

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private void AppendTrainLog(TrainingLogRow r)
    {
        if (options.OutputDirectory is null) return;
        File.AppendAllText(Path.Combine(options.OutputDirectory, TrainLog), $"{r.Step},{F(r.Loss)},{F(r.LearningRate)},{F(r.TokensPerSecond)},{F(r.Seconds)}\n");
    }

    private void AppendEvalLog(EvaluationRow r)
    {
        if (options.OutputDirectory is null) return;
        string path = Path.Combine(options.OutputDirectory, EvalLog);
        var keys = r.Metrics.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        // One CSV per run needs one header: when the metric set differs, the header is rewritten.
        if (!File.Exists(path) || File.ReadLines(path).FirstOrDefault() != EvalHeader(keys))
        {
            var old = ReadEvalLog(options.OutputDirectory, int.MaxValue).Where(e => e.Step < r.Step).ToList();
            RewriteEvalLog(path, old.Append(r).ToList());
            return;
        }
        File.AppendAllText(path, EvalLine(r, keys) + "\n");
    }

    private static string EvalHeader(IEnumerable<string> keys) => "step,seconds," + string.Join(",", keys);
    private static string EvalLine(EvaluationRow r, IEnumerable<string> keys) =>
        $"{r.Step},{F(r.Seconds)}," + string.Join(",", keys.Select(k => r.Metrics.TryGetValue(k, out var v) ? F(v) : ""));

    private static void RewriteEvalLog(string path, IReadOnlyList<EvaluationRow> rows)
    {
        var keys = rows.SelectMany(r => r.Metrics.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder(EvalHeader(keys)).Append('\n');
        foreach (var r in rows) sb.Append(EvalLine(r, keys)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static void RewriteLogs(string dir, IReadOnlyList<TrainingLogRow> log, IReadOnlyList<EvaluationRow> evaluations)
    {
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder("step,loss,learning_rate,tokens_per_second,seconds\n");
        foreach (var r in log) sb.Append(CultureInfo.InvariantCulture, $"{r.Step},{F(r.Loss)},{F(r.LearningRate)},{F(r.TokensPerSecond)},{F(r.Seconds)}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, TrainLog), sb.ToString());
        RewriteEvalLog(Path.Combine(dir, EvalLog), evaluations);
    }

    private static IEnumerable<TrainingLogRow> ReadTrainLog(string dir, int upToStep)
    {
        string path = Path.Combine(dir, TrainLog);
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != 5 || !int.TryParse(f[0], CultureInfo.InvariantCulture, out int step) || step > upToStep) continue;
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            yield return new TrainingLogRow(step, D(1), D(2), D(3), D(4));
        }
    }

    private static List<EvaluationRow> ReadEvalLog(string dir, int upToStep)
    {
        string path = Path.Combine(dir, EvalLog);
        var rows = new List<EvaluationRow>();
        if (!File.Exists(path)) return rows;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return rows;
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != header.Length || !int.TryParse(f[0], CultureInfo.InvariantCulture, out int step) || step > upToStep) continue;
            var metrics = new Dictionary<string, double>();
            for (int i = 2; i < f.Length; i++)
                if (f[i].Length > 0) metrics[header[i]] = double.Parse(f[i], CultureInfo.InvariantCulture);
            rows.Add(new EvaluationRow(step, double.Parse(f[1], CultureInfo.InvariantCulture), metrics));
        }
        return rows;
    }
}
