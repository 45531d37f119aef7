using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors.Optim;

/// <summary>Parameters that share a learning rate and weight decay (layer-wise decay uses one group per layer).</summary>
public sealed class ParamGroup
{
    /// <summary>Creates a group.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters, float learningRate, float weightDecay = 0f)
    {
        Parameters = parameters.ToArray();
        LearningRate = BaseLearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The tensors updated by this group.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }
    /// <summary>Current learning rate (schedules change it).</summary>
    public float LearningRate { get; set; }
    /// <summary>The learning rate schedules scale from.</summary>
    public float BaseLearningRate { get; set; }
    /// <summary>Weight decay coefficient.</summary>
    public float WeightDecay { get; set; }
}

/// <summary>
/// Base of the optimizers: groups, step counting, per-parameter state tensors (saved in checkpoints
/// so a resumed run continues exactly).
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<(int Group, int Index, string Slot), float[]> _state = new();

    /// <summary>Creates an optimizer over parameter groups.</summary>
    protected Optimizer(IEnumerable<ParamGroup> groups) => Groups = groups.ToArray();

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> Groups { get; }

    /// <summary>Number of completed steps.</summary>
    public int StepCount { get; protected set; }

    /// <summary>Applies one update from the current gradients; parameters without gradient are skipped.</summary>
    public void Step()
    {
        StepCount++;
        using (GradMode.NoGrad())
        {
            for (int g = 0; g < Groups.Count; g++)
            {
                var group = Groups[g];
                for (int i = 0; i < group.Parameters.Count; i++)
                {
                    var p = group.Parameters[i];
                    if (p.Grad is null) continue;
                    Update(g, i, group, p._data.AsSpan(0, p.Length), p.Grad._data.AsSpan(0, p.Length));
                }
            }
        }
        AfterStep();
    }

    /// <summary>Updates one parameter in place.</summary>
    protected abstract void Update(int group, int index, ParamGroup settings, Span<float> param, ReadOnlySpan<float> grad);

    /// <summary>Hook after all parameters were updated (Lookahead synchronizes here).</summary>
    protected virtual void AfterStep() { }

    /// <summary>Clears every gradient in every group.</summary>
    public void ZeroGrad()
    {
        foreach (var g in Groups) foreach (var p in g.Parameters) p.Grad = null;
    }

    /// <summary>A state slot of one parameter, created zeroed on first use.</summary>
    protected float[] State(int group, int index, string slot, int length)
    {
        if (!_state.TryGetValue((group, index, slot), out var s)) _state[(group, index, slot)] = s = new float[length];
        return s;
    }

    /// <summary>All state as named arrays ("g0.p3.exp_avg"), plus the step count, for checkpoints.</summary>
    public virtual Dictionary<string, float[]> SaveState()
    {
        var d = _state.ToDictionary(kv => $"g{kv.Key.Group}.p{kv.Key.Index}.{kv.Key.Slot}", kv => (float[])kv.Value.Clone());
        d["step"] = [StepCount];
        return d;
    }

    /// <summary>Restores what <see cref="SaveState"/> produced.</summary>
    public virtual void LoadState(IReadOnlyDictionary<string, float[]> state)
    {
        _state.Clear();
        foreach (var (key, value) in state)
        {
            if (key == "step") { StepCount = (int)value[0]; continue; }
            var parts = key.Split('.', 3);
            if (parts.Length != 3 || !parts[0].StartsWith('g') || !parts[1].StartsWith('p'))
                throw new FormatException($"Unknown optimizer state entry '{key}'.");
            _state[(int.Parse(parts[0][1..]), int.Parse(parts[1][1..]), parts[2])] = (float[])value.Clone();
        }
    }

    /// <summary>Runs a per-element update over large arrays on all cores (chunks are disjoint, so results do not depend on scheduling).</summary>
    protected static void ForChunks(int length, SpanAction body) => Parallelism.For(length, 1 << 15, (s, e) => body(s, e));

    /// <summary>Update body over [start, end).</summary>
    protected delegate void SpanAction(int start, int end);
}
