namespace Jianwei.Tensors.Nn;

/// <summary>
/// Base of every model part: named parameters and buffers (dot-separated, as in PyTorch and Hugging Face:
/// <c>encoder.layer.0.attention.self.query.weight</c>), child modules, train/eval mode, freezing.
/// Subclasses register what they own in their constructor and define their own Forward.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = new();
    private readonly List<(string Name, Tensor Tensor)> _buffers = new();
    private readonly List<(string Name, Module Module)> _children = new();

    /// <summary>True in training mode (dropout active, batch norm uses batch statistics).</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Registers a trainable tensor under <paramref name="name"/>.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        TensorScope.Forget(tensor);
        tensor.RequiresGrad = true;
        tensor.Name ??= name;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a non-trainable tensor that is saved with the model (running statistics).</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        CheckName(name);
        TensorScope.Forget(tensor);
        _buffers.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a child module; its names get <paramref name="name"/> and a dot as prefix.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"Invalid member name '{name}': names are non-empty and dot-free (dots join levels).");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"'{name}' is registered twice in {GetType().Name}.");
    }

    /// <summary>Every parameter with its full dotted name, depth-first in registration order.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (n, t) in _parameters) yield return (prefix + n, t);
        foreach (var (n, m) in _children)
            foreach (var p in m.NamedParameters(prefix + n + ".")) yield return p;
    }

    /// <summary>Every buffer with its full dotted name.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, t) in _buffers) yield return (prefix + n, t);
        foreach (var (n, m) in _children)
            foreach (var b in m.NamedBuffers(prefix + n + ".")) yield return b;
    }

    /// <summary>Child modules with their dotted names (this module excluded).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        foreach (var (n, m) in _children)
        {
            yield return (prefix + n, m);
            foreach (var c in m.NamedModules(prefix + n + ".")) yield return c;
        }
    }

    /// <summary>All parameters.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Parameters that currently require gradients.</summary>
    public IEnumerable<Tensor> TrainableParameters() => Parameters().Where(p => p.RequiresGrad);

    /// <summary>Number of scalar parameters (all, or only trainable ones).</summary>
    public long ParameterCount(bool trainableOnly = false) => (trainableOnly ? TrainableParameters() : Parameters()).Sum(p => (long)p.Length);

    /// <summary>Training mode for this module and all children.</summary>
    public void Train(bool training = true)
    {
        IsTraining = training;
        foreach (var (_, m) in _children) m.Train(training);
    }

    /// <summary>Evaluation mode for this module and all children.</summary>
    public void Eval() => Train(false);

    /// <summary>Stops gradients for every parameter (optionally only names starting with <paramref name="prefix"/>).</summary>
    public void Freeze(string prefix = "") => SetRequiresGrad(prefix, false);

    /// <summary>Re-enables gradients (optionally only for names starting with <paramref name="prefix"/>).</summary>
    public void Unfreeze(string prefix = "") => SetRequiresGrad(prefix, true);

    private void SetRequiresGrad(string prefix, bool value)
    {
        foreach (var (name, p) in NamedParameters())
            if (name.StartsWith(prefix, StringComparison.Ordinal)) { p.RequiresGrad = value; if (!value) p.Grad = null; }
    }

    /// <summary>
    /// Restarts every random stream in this module tree (dropout masks, random features) from
    /// <paramref name="seed"/> mixed with each module's position. A trainer calls it with a seed derived
    /// from the step number, so a run resumed at step k draws exactly what the uninterrupted run drew.
    /// </summary>
    public void ReseedRandom(ulong seed)
    {
        OnReseed(seed);
        ulong index = 0;
        foreach (var (_, m) in NamedModules()) m.OnReseed(Rng.Mix(seed, ++index));
    }

    /// <summary>Override in modules that own a random stream: restart it from <paramref name="seed"/>.</summary>
    protected virtual void OnReseed(ulong seed) { }

    /// <summary>
    /// Keras's <c>add_loss</c>: a term this module adds to the training objective during a training-mode
    /// forward pass (a mixture-of-experts layer's load-balancing loss, say); ignored in evaluation mode.
    /// Training loops add <see cref="TakeAddedLosses"/> to the loss they minimize.
    /// </summary>
    protected void AddLoss(Tensor loss)
    {
        if (IsTraining) (_addedLosses ??= new()).Add(loss);
    }

    private List<Tensor>? _addedLosses;

    /// <summary>
    /// The sum of the terms added by this module and its children since the last call (null when none),
    /// which are then forgotten. Call it once before a step's forward passes (dropping anything a pass
    /// outside the step left) and once after them.
    /// </summary>
    public Tensor? TakeAddedLosses()
    {
        Tensor? total = null;
        foreach (var m in NamedModules().Select(c => c.Module).Prepend(this))
        {
            if (m._addedLosses is not { Count: > 0 } added) continue;
            foreach (var loss in added) total = total is null ? loss : total + loss;
            added.Clear();
        }
        return total;
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    /// <summary>Parameters and buffers by name (the tensors themselves, not copies).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (n, t) in NamedParameters()) d[n] = t;
        foreach (var (n, t) in NamedBuffers()) d[n] = t;
        return d;
    }

    /// <summary>A copy of every parameter's and buffer's values (to restore the best epoch, say).</summary>
    public Dictionary<string, float[]> CopyState() => StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

    /// <summary>Puts back values taken with <see cref="CopyState"/>.</summary>
    public void RestoreState(IReadOnlyDictionary<string, float[]> state)
    {
        foreach (var (name, tensor) in StateDict()) state[name].CopyTo(tensor.Data);
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into parameters and buffers of the same name.
    /// Every problem is collected first — missing names, unexpected names (when strict), shape
    /// mismatches — and reported together in one exception; nothing is copied if any is found.
    /// Returns the names that were loaded.
    /// </summary>
    public IReadOnlyList<string> LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var misShaped = own.Where(kv => state.TryGetValue(kv.Key, out var s) && !ShapeUtil.SameShape(s.Shape, kv.Value.Shape))
                           .Select(kv => $"{kv.Key}: model {ShapeUtil.Format(kv.Value.Shape)}, file {ShapeUtil.Format(state[kv.Key].Shape)}").ToList();
        var problems = new List<string>();
        if (misShaped.Count > 0) problems.Add("shape mismatches:\n  " + string.Join("\n  ", misShaped));
        if (strict && missing.Count > 0) problems.Add("missing:\n  " + string.Join("\n  ", missing));
        if (strict && unexpected.Count > 0) problems.Add("unexpected:\n  " + string.Join("\n  ", unexpected));
        if (problems.Count > 0)
            throw new StateDictException($"Cannot load state into {GetType().Name}:\n" + string.Join("\n", problems), missing, unexpected, misShaped);
        var loaded = new List<string>();
        foreach (var (name, t) in own)
            if (state.TryGetValue(name, out var src)) { src.Data.CopyTo(t.Data); loaded.Add(name); }
        return loaded;
    }
}

/// <summary>A state dict that does not fit a module: all missing, unexpected and mis-shaped names.</summary>
public sealed class StateDictException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    : Exception(message)
{
    /// <summary>Names the module has and the state lacks.</summary>
    public IReadOnlyList<string> Missing { get; } = missing;
    /// <summary>Names the state has and the module lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    /// <summary>"name: model [..], file [..]" for each shape disagreement.</summary>
    public IReadOnlyList<string> MisShaped { get; } = misShaped;
}
