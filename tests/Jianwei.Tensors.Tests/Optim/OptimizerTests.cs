using Jianwei.Tensors.Optim;

namespace Jianwei.Tensors.Tests;

/// <summary>
/// Optimizers against hand-computed first steps and against trajectories printed by PyTorch 1.13
/// (8 steps on L = Σ wᵢpᵢ² + Σ pᵢ, w = [1, 2, 3], p₀ = [1, −2, 0.5], lr 0.1, weight decay 0.01).
/// </summary>
[Collection("Serial")]
public class OptimizerTests
{
    private static readonly float[] W = [1f, 2f, 3f];

    private static Tensor Run(Func<Tensor, Optimizer> make, int steps = 8)
    {
        var p = Tensor.FromArray([1f, -2f, 0.5f], 3).AsParameter("p");
        var opt = make(p);
        var w = Tensor.FromArray(W, 3);
        for (int s = 0; s < steps; s++)
        {
            opt.ZeroGrad();
            var loss = (p * p * w).SumAll() + p.SumAll();
            loss.Backward();
            opt.Step();
        }
        return p;
    }

    private static void AssertClose(float[] expected, Tensor actual, float tol = 2e-5f)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual.Data[i]) <= tol, $"element {i}: expected {expected[i]}, got {actual.Data[i]}");
    }

    [Fact]
    public void AdamW_MatchesPyTorch() =>
        AssertClose([0.21371884644031525f, -1.202109456062317f, -0.22216284275054932f], Run(p => new AdamW([p], lr: 0.1f, weightDecay: 0.01f)));

    [Fact]
    public void RAdam_MatchesPyTorch() =>
        AssertClose([-0.2076646238565445f, 0.19841238856315613f, -0.46160081028938293f], Run(p => new RAdam([p], lr: 0.1f, weightDecay: 0.01f)));

    [Fact]
    public void SgdNesterov_MatchesPyTorch() =>
        AssertClose([-0.7590466737747192f, -0.42769142985343933f, -0.16766677796840668f], Run(p => new Sgd([p], lr: 0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: true)));

    [Fact]
    public void AdamW_FirstStepByHand()
    {
        // Step 1: m̂ = g, v̂ = g², so p ← p·(1 − lr·wd) − lr·g/(|g| + ε) = p(1 − 0.001) − 0.1·sign(g).
        var p = Run(p => new AdamW([p], lr: 0.1f, weightDecay: 0.01f), steps: 1);
        // g = 2wp + 1 = [3, −7, 4]
        AssertClose([1f * 0.999f - 0.1f, -2f * 0.999f + 0.1f, 0.5f * 0.999f - 0.1f], p, 1e-6f);
    }

    [Fact]
    public void Lamb_FirstStepByHand()
    {
        // Step 1: r = sign(g) + wd·p (ε negligible); p ← p − lr·(‖p‖/‖r‖)·r.
        var p = Run(q => new Lamb([q], lr: 0.1f, weightDecay: 0.01f), steps: 1);
        float[] p0 = [1f, -2f, 0.5f], sg = [1f, -1f, 1f];
        var r = p0.Select((v, i) => sg[i] + 0.01f * v).ToArray();
        float trust = MathF.Sqrt(p0.Sum(v => v * v)) / MathF.Sqrt(r.Sum(v => v * v));
        AssertClose(p0.Select((v, i) => v - 0.1f * trust * r[i]).ToArray(), p, 1e-5f);
    }

    [Fact]
    public void Lookahead_SyncsSlowWeightsEveryKSteps()
    {
        // With SGD (no momentum) inside, k = 2, α = 0.5, on L = Σ p (g = 1): fast moves −lr per step;
        // after 2 steps fast = p0 − 2lr, slow = p0 + 0.5·(−2lr) = p0 − lr, and fast is reset to slow.
        var p = Tensor.FromArray([1f, 2f], 2).AsParameter();
        var la = new Lookahead(new Sgd([p], lr: 0.1f), k: 2, alpha: 0.5f);
        for (int s = 0; s < 2; s++) { la.ZeroGrad(); p.SumAll().Backward(); la.Step(); }
        AssertClose([0.9f, 1.9f], p, 1e-6f);
        la.ZeroGrad(); p.SumAll().Backward(); la.Step();
        AssertClose([0.8f, 1.8f], p, 1e-6f);   // mid-cycle: plain inner step
    }

    [Fact]
    public void Ranger_ConvergesOnAQuadratic()
    {
        var p = Run(q => Lookahead.Ranger([q], lr: 0.1f), steps: 300);
        // minimum of w·p² + p at p = −1/(2w)
        AssertClose(W.Select(w => -1f / (2 * w)).ToArray(), p, 0.02f);
    }

    [Fact]
    public void ParameterGroupsHaveTheirOwnLearningRates()
    {
        var a = Tensor.FromArray([1f], 1).AsParameter(); var b = Tensor.FromArray([1f], 1).AsParameter();
        var opt = new Sgd([new ParamGroup([a], 0.1f), new ParamGroup([b], 0.01f)]);
        (a.SumAll() + b.SumAll()).Backward();
        opt.Step();
        Assert.Equal(0.9f, a.Data[0], 6);
        Assert.Equal(0.99f, b.Data[0], 6);
    }

    [Fact]
    public void ClipGradNorm_ScalesToTheMaximum()
    {
        var a = Tensor.FromArray([3f, 0f], 2).AsParameter(); var b = Tensor.FromArray([0f], 1).AsParameter();
        a.Grad = Tensor.FromArray([3f, 0f], 2); b.Grad = Tensor.FromArray([4f], 1);
        float norm = GradientClipping.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, a.Grad.Data[0], 5);
        Assert.Equal(0.8f, b.Grad.Data[0], 5);
    }

    [Fact]
    public void Schedules_WarmupThenDecay()
    {
        Assert.Equal(0.5f, LearningRateSchedules.WarmupLinear(5, 10, 110));
        Assert.Equal(1f, LearningRateSchedules.WarmupLinear(10, 10, 110));
        Assert.Equal(0.5f, LearningRateSchedules.WarmupLinear(60, 10, 110));
        Assert.Equal(0f, LearningRateSchedules.WarmupLinear(200, 10, 110));
        Assert.Equal(0.5f, LearningRateSchedules.WarmupCosine(60, 10, 110), 5);
        Assert.Equal(1f, LearningRateSchedules.WarmupCosine(10, 10, 110), 5);
        Assert.Equal(0f, LearningRateSchedules.WarmupCosine(110, 10, 110), 5);
    }

    [Fact]
    public void SavedStateResumesExactly()
    {
        // 6 steps straight equal 3 steps, save, fresh optimizer + load, 3 more steps — bit for bit.
        var straight = Run(p => Lookahead.Ranger([p], lr: 0.05f), steps: 6).ToArray();

        var p = Tensor.FromArray([1f, -2f, 0.5f], 3).AsParameter();
        var w = Tensor.FromArray(W, 3);
        void Steps(Optimizer o, int n)
        {
            for (int s = 0; s < n; s++) { o.ZeroGrad(); ((p * p * w).SumAll() + p.SumAll()).Backward(); o.Step(); }
        }
        var first = Lookahead.Ranger([p], lr: 0.05f);
        Steps(first, 3);
        var state = first.SaveState();
        var second = Lookahead.Ranger([p], lr: 0.05f);
        second.LoadState(state);
        Steps(second, 3);
        Assert.Equal(straight, p.ToArray());
    }
}
