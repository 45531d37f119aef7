using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Training;

/// <summary>
/// Checkpoints: <c>checkpoints/step-N/</c> holds the model's and the optimizer's safetensors;
/// <c>checkpoints/latest.json</c>, written last and atomically, names it, so a crash mid-checkpoint
/// leaves the previous one in force.
/// </summary>
public sealed partial class Trainer
{
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
    /// <see cref="ModelFormatException"/> naming the file and how to start over.
    /// </summary>
    private static (int Step, int TotalSteps, bool Calibrated, double Seconds, long Tokens)? TryLoadCheckpoint(string dir, Module model, Optimizer optimizer)
    {
        string latest = Path.Combine(CheckpointRoot(dir), LatestFile);
        if (!File.Exists(latest)) return null;
        string restart = $"delete {CheckpointRoot(dir)} to start over";
        try
        {
            var state = JsonFields.Load(latest);
            string name = state.String("checkpoint");
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, @"^step-[0-9]+$")) throw state.Error("checkpoint", $"'{name}' is not a checkpoint folder name (step-N).");
            string folder = Path.Combine(CheckpointRoot(dir), name);
            foreach (var file in new[] { "model.safetensors", "optimizer.safetensors" })
            {
                string path = Path.Combine(folder, file);
                if (!File.Exists(path)) throw new ModelFormatException(path, null, "the file is missing.");
                SafetensorsFile weights;
                try { weights = SafetensorsFile.Load(path); }
                catch (SafetensorsFormatException e) { throw new ModelFormatException(path, null, e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message); }
                try
                {
                    if (file == "model.safetensors") model.LoadStateDict(weights.ToStateDict());
                    else optimizer.LoadState(weights.ToStateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
                }
                catch (Exception e) when (e is StateDictException or ArgumentException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new ModelFormatException(path, null, $"does not fit this model and optimizer ({(e is StateDictException sd ? ModelFormatException.Describe(sd) : e.Message)}).");
                }
            }
            return (state.Int("step", 0, int.MaxValue), state.Int("total_steps", 0, int.MaxValue), state.Bool("calibrated"),
                    state.Number("seconds", 0, double.MaxValue), (long)state.Number("tokens", 0, double.MaxValue));
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException(e.File, e.Field, $"{e.Problem.TrimEnd('.')}: the checkpoint cannot be resumed; {restart}.", e);
        }
    }
}
