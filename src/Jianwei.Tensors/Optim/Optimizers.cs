using System.Runtime.Intrinsics;

namespace Jianwei.Tensors.Optim;

/// <summary>SGD with momentum (PyTorch semantics: v = μv + g (+ wd·p); p −= lr·v, or lr·(g + μv) with Nesterov).</summary>
public sealed class Sgd(IEnumerable<ParamGroup> groups, float momentum = 0f, bool nesterov = false) : Optimizer(groups)
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public Sgd(IEnumerable<Tensor> parameters, float lr, float momentum = 0f, float weightDecay = 0f, bool nesterov = false)
        : this([new ParamGroup(parameters, lr, weightDecay)], momentum, nesterov) { }

    /// <inheritdoc/>
    protected override unsafe void Update(int group, int index, ParamGroup s, Span<float> param, ReadOnlySpan<float> grad)
    {
        float lr = s.LearningRate, wd = s.WeightDecay, mu = momentum;
        var v = mu != 0f ? State(group, index, "momentum_buffer", param.Length) : null;
        fixed (float* p = param, g = grad)
        {
            float* pp = p, gp = g;
            ForChunks(param.Length, (a, b) =>
            {
                for (int i = a; i < b; i++)
                {
                    float d = gp[i] + wd * pp[i];
                    if (v is not null)
                    {
                        v[i] = mu * v[i] + d;   // a zero buffer makes the first step v = d, as in PyTorch
                        d = nesterov ? d + mu * v[i] : v[i];
                    }
                    pp[i] -= lr * d;
                }
            });
        }
    }
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): decoupled weight decay p −= lr·wd·p, then the Adam step
/// p −= lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε), exactly as torch.optim.AdamW.
/// </summary>
public sealed class AdamW(IEnumerable<ParamGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f) : Optimizer(groups)
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float weightDecay = 0.01f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
        : this([new ParamGroup(parameters, lr, weightDecay)], beta1, beta2, eps) { }

    /// <inheritdoc/>
    protected override unsafe void Update(int group, int index, ParamGroup s, Span<float> param, ReadOnlySpan<float> grad)
    {
        var m = State(group, index, "exp_avg", param.Length);
        var v = State(group, index, "exp_avg_sq", param.Length);
        float lr = s.LearningRate, decay = 1f - lr * s.WeightDecay;
        float bc1 = 1f - MathF.Pow(beta1, StepCount), bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, StepCount));
        float stepSize = lr / bc1, b1 = beta1, b2 = beta2, e = eps;
        fixed (float* p = param, g = grad, pm = m, pv = v)
        {
            float* pp = p, gp = g, mp = pm, vp = pv;
            ForChunks(param.Length, (a, b) =>
            {
                int i = a;
                if (Vector512.IsHardwareAccelerated)
                {
                    var vb1 = Vector512.Create(b1); var vb1c = Vector512.Create(1f - b1);
                    var vb2 = Vector512.Create(b2); var vb2c = Vector512.Create(1f - b2);
                    var vdecay = Vector512.Create(decay); var vstep = Vector512.Create(stepSize);
                    var vinv = Vector512.Create(1f / bc2Sqrt); var veps = Vector512.Create(e);
                    for (; i <= b - 16; i += 16)
                    {
                        var gi = Vector512.Load(gp + i);
                        var mi = vb1 * Vector512.Load(mp + i) + vb1c * gi;
                        var vi = vb2 * Vector512.Load(vp + i) + vb2c * gi * gi;
                        mi.Store(mp + i); vi.Store(vp + i);
                        (Vector512.Load(pp + i) * vdecay - vstep * mi / (Vector512.Sqrt(vi) * vinv + veps)).Store(pp + i);
                    }
                }
                for (; i < b; i++)
                {
                    float gi = gp[i];
                    float mi = mp[i] = b1 * mp[i] + (1f - b1) * gi;
                    float vi = vp[i] = b2 * vp[i] + (1f - b2) * gi * gi;
                    pp[i] = pp[i] * decay - stepSize * mi / (MathF.Sqrt(vi) / bc2Sqrt + e);
                }
            });
        }
    }
}

/// <summary>
/// RAdam (Liu et al. 2020), as torch.optim.RAdam: Adam whose adaptive term is switched on only once
/// the variance of its estimate is tractable (ρₜ &gt; 5), and scaled by the rectification factor rₜ.
/// Weight decay is L2 (added to the gradient) unless <paramref name="decoupledWeightDecay"/>.
/// </summary>
public sealed class RAdam(IEnumerable<ParamGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, bool decoupledWeightDecay = false) : Optimizer(groups)
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public RAdam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float weightDecay = 0f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, bool decoupledWeightDecay = false)
        : this([new ParamGroup(parameters, lr, weightDecay)], beta1, beta2, eps, decoupledWeightDecay) { }

    /// <inheritdoc/>
    protected override unsafe void Update(int group, int index, ParamGroup s, Span<float> param, ReadOnlySpan<float> grad)
    {
        var m = State(group, index, "exp_avg", param.Length);
        var v = State(group, index, "exp_avg_sq", param.Length);
        int t = StepCount;
        float lr = s.LearningRate, wd = s.WeightDecay, b1 = beta1, b2 = beta2, e = eps;
        float bc1 = 1f - MathF.Pow(b1, t), bc2 = 1f - MathF.Pow(b2, t);
        double rhoInf = 2.0 / (1 - b2) - 1;
        double rhoT = rhoInf - 2.0 * t * Math.Pow(b2, t) / bc2;
        bool adaptive = rhoT > 5;
        float rect = adaptive ? (float)Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0f;
        float bc2Sqrt = MathF.Sqrt(bc2);
        bool decoupled = decoupledWeightDecay;
        fixed (float* p = param, g = grad)
        {
            float* pp = p, gp = g;
            ForChunks(param.Length, (a, b) =>
            {
                for (int i = a; i < b; i++)
                {
                    float gi = gp[i];
                    if (decoupled) pp[i] *= 1f - lr * wd; else gi += wd * pp[i];
                    float mi = m[i] = b1 * m[i] + (1f - b1) * gi;
                    float vi = v[i] = b2 * v[i] + (1f - b2) * gi * gi;
                    float mHat = mi / bc1;
                    pp[i] -= adaptive ? lr * mHat * rect * bc2Sqrt / (MathF.Sqrt(vi) + e) : lr * mHat;
                }
            });
        }
    }
}

/// <summary>
/// LAMB (You et al. 2020): the Adam direction plus decoupled weight decay, scaled per parameter
/// tensor by the trust ratio ‖p‖/‖update‖ (1 when either norm is zero).
/// </summary>
public sealed class Lamb(IEnumerable<ParamGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-6f) : Optimizer(groups)
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public Lamb(IEnumerable<Tensor> parameters, float lr = 1e-3f, float weightDecay = 0.01f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-6f)
        : this([new ParamGroup(parameters, lr, weightDecay)], beta1, beta2, eps) { }

    /// <inheritdoc/>
    protected override void Update(int group, int index, ParamGroup s, Span<float> param, ReadOnlySpan<float> grad)
    {
        var m = State(group, index, "exp_avg", param.Length);
        var v = State(group, index, "exp_avg_sq", param.Length);
        var update = new float[param.Length];
        int t = StepCount;
        float bc1 = 1f - MathF.Pow(beta1, t), bc2 = 1f - MathF.Pow(beta2, t);
        double pNorm = 0, uNorm = 0;
        for (int i = 0; i < param.Length; i++)
        {
            float gi = grad[i];
            m[i] = beta1 * m[i] + (1f - beta1) * gi;
            v[i] = beta2 * v[i] + (1f - beta2) * gi * gi;
            float u = (m[i] / bc1) / (MathF.Sqrt(v[i] / bc2) + eps) + s.WeightDecay * param[i];
            update[i] = u;
            pNorm += (double)param[i] * param[i];
            uNorm += (double)u * u;
        }
        float trust = pNorm > 0 && uNorm > 0 ? (float)(Math.Sqrt(pNorm) / Math.Sqrt(uNorm)) : 1f;
        for (int i = 0; i < param.Length; i++) param[i] -= s.LearningRate * trust * update[i];
    }
}

/// <summary>
/// Lookahead (Zhang et al. 2019) around any optimizer: every k inner steps the slow weights move
/// α of the way to the fast weights, and the fast weights restart from there. With RAdam inside,
/// this is "Ranger".
/// </summary>
public sealed class Lookahead : Optimizer
{
    private readonly Optimizer _inner;
    private readonly int _k;
    private readonly float _alpha;
    private readonly float[][][] _slow;

    /// <summary>Wraps <paramref name="inner"/>; slow weights start at the current parameters.</summary>
    public Lookahead(Optimizer inner, int k = 6, float alpha = 0.5f) : base(inner.Groups)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1.");
        _inner = inner; _k = k; _alpha = alpha;
        _slow = inner.Groups.Select(g => g.Parameters.Select(p => p.Data.ToArray()).ToArray()).ToArray();
    }

    /// <summary>Ranger: Lookahead(RAdam) with the usual settings (k = 6, α = 0.5).</summary>
    public static Lookahead Ranger(IEnumerable<Tensor> parameters, float lr = 1e-3f, float weightDecay = 0f, int k = 6, float alpha = 0.5f)
        => new(new RAdam(parameters, lr, weightDecay), k, alpha);

    /// <summary>The wrapped optimizer.</summary>
    public Optimizer Inner => _inner;

    /// <inheritdoc/>
    protected override void Update(int group, int index, ParamGroup settings, Span<float> param, ReadOnlySpan<float> grad) { }

    /// <inheritdoc/>
    protected override void AfterStep()
    {
        _inner.Step();
        if (StepCount % _k != 0) return;
        for (int g = 0; g < _slow.Length; g++)
            for (int i = 0; i < _slow[g].Length; i++)
            {
                var fast = Groups[g].Parameters[i].Data; var slow = _slow[g][i];
                for (int j = 0; j < slow.Length; j++)
                {
                    slow[j] += _alpha * (fast[j] - slow[j]);
                    fast[j] = slow[j];
                }
            }
    }

    /// <inheritdoc/>
    public override Dictionary<string, float[]> SaveState()
    {
        var d = _inner.SaveState().ToDictionary(kv => "inner." + kv.Key, kv => kv.Value);
        d["step"] = [StepCount];
        for (int g = 0; g < _slow.Length; g++)
            for (int i = 0; i < _slow[g].Length; i++) d[$"g{g}.p{i}.slow"] = (float[])_slow[g][i].Clone();
        return d;
    }

    /// <inheritdoc/>
    public override void LoadState(IReadOnlyDictionary<string, float[]> state)
    {
        _inner.LoadState(state.Where(kv => kv.Key.StartsWith("inner.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value));
        StepCount = (int)state["step"][0];
        for (int g = 0; g < _slow.Length; g++)
            for (int i = 0; i < _slow[g].Length; i++) state[$"g{g}.p{i}.slow"].CopyTo(_slow[g][i], 0);
    }
}
