using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using static Jianwei.Tensors.Tests.GradCheck;

namespace Jianwei.Models.Tests.Transformers;

/// <summary>
/// The Switch mixture-of-experts feed-forward: routing on hand-worked probabilities, each kept token's
/// output against its expert applied alone, the load-balancing loss by hand and by finite differences.
/// </summary>
public class SwitchFeedForwardTests
{
    private static readonly EncoderConfig Config = new()
    {
        VocabSize = 40, HiddenSize = 8, Layers = 2, Heads = 2, IntermediateSize = 12, MaxPositions = 32, HiddenDropout = 0f,
        Experts = 3, ExpertCapacityFactor = 1f, LoadBalancingWeight = 0.5f,
    };

    [Fact]
    public void EachTokenGoesToItsArgMaxExpertUntilTheExpertIsFull()
    {
        // 6 tokens, 2 experts, factor 1: capacity ⌈1·5/2⌉ = 3 over the 5 routed tokens (token 4 is padding).
        float[] probs = [0.9f, 0.1f, 0.6f, 0.4f, 0.3f, 0.7f, 0.8f, 0.2f, 0.55f, 0.45f, 0.51f, 0.49f];
        float[] mask = [1, 1, 1, 1, 0, 1];
        var r = SwitchRouting.Route(probs, 6, 2, 1f, mask);
        Assert.Equal([0, 0, 1, 0, -1, 0], r.Expert);
        Assert.Equal(3, r.Capacity);
        Assert.Equal(5, r.Routed);
        Assert.Equal([0, 1, 3], r.Kept[0]);   // token 5 chose expert 0 too, after it was full: dropped
        Assert.Equal([2], r.Kept[1]);
        Assert.Equal([4f / 5, 1f / 5], r.Fractions(2));   // counted before capacity drops tokens
        // Every routed token appears in at most one expert, every expert within capacity.
        var all = r.Kept.SelectMany(k => k).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(r.Kept, k => Assert.True(k.Length <= r.Capacity));
        // Unbounded capacity keeps every routed token.
        Assert.Equal([0, 1, 3, 5], SwitchRouting.Route(probs, 6, 2, float.PositiveInfinity, mask).Kept[0]);
    }

    [Fact]
    public void AKeptTokenGetsItsExpertScaledByTheRouterAndADroppedTokenGetsZero()
    {
        var layer = new SwitchFeedForward(Config with { ExpertCapacityFactor = 0.5f }, new Rng(3));
        var x = Tensor.Uniform(new Rng(4), -2f, 2f, 2, 5, 8);                                  // [b, n, H]
        var y = layer.Forward(x, null).ToArray();
        var routing = layer.LastRouting!;
        Assert.Equal(2, routing.Capacity);                                                      // ⌈0.5·10/3⌉
        var flat = x.ToArray();
        var kept = new bool[10];
        for (int e = 0; e < 3; e++)
            foreach (int t in routing.Kept[e])
            {
                kept[t] = true;
                var token = Tensor.FromArray(flat[(t * 8)..(t * 8 + 8)], 1, 8);
                var logits = Tensor.Linear(token, layer.Router.Weight, null).ToArray();
                float p = MathF.Exp(logits[e]) / logits.Sum(MathF.Exp);                          // the router's softmax, by hand
                var w = layer.Experts[e];
                var expected = Tensor.Linear(Tensor.Linear(token, w.In.Weight, w.In.Bias).Gelu(), w.Out.Weight, w.Out.Bias).ToArray();
                for (int j = 0; j < 8; j++) Assert.Equal(p * expected[j], y[t * 8 + j], 5);
            }
        Assert.True(kept.Count(k => !k) >= 4);                                                  // 3 experts × capacity 2 < 10 tokens: some dropped
        for (int t = 0; t < 10; t++)
            if (!kept[t]) Assert.All(y[(t * 8)..(t * 8 + 8)], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void InEvaluationEveryTokenIsProcessedAndARowDoesNotDependOnItsBatch()
    {
        var layer = new SwitchFeedForward(Config with { ExpertCapacityFactor = 0.25f }, new Rng(5));
        layer.Eval();
        var x = Tensor.Uniform(new Rng(6), -2f, 2f, 3, 4, 8);
        var all = layer.Forward(x, null).ToArray();
        Assert.Equal(12, layer.LastRouting!.Kept.Sum(k => k.Length));
        var alone = layer.Forward(x.Slice(0, 1, 1), null).ToArray();                           // row 1 on its own
        for (int i = 0; i < alone.Length; i++) Assert.Equal(alone[i], all[32 + i], 6);
        Assert.Null(layer.TakeAddedLosses());                                                   // no load-balancing loss outside training
    }

    [Fact]
    public void LoadBalancingLossIsOneWhenUniformAndMatchesItsFormulaOtherwise()
    {
        // Uniform: fᵢ = Pᵢ = 1/E → E·Σ 1/E² = 1.
        var uniform = Tensor.FromArray(Enumerable.Repeat(0.25f, 16).ToArray(), 4, 4);
        var spread = new SwitchRouting([0, 1, 2, 3], [[0], [1], [2], [3]], 1, 4);
        Assert.Equal(1f, SwitchFeedForward.LoadBalancingLoss(uniform, spread).Item(), 6);
        // By hand: 3 tokens, 2 experts, arg-max 0, 0, 1 → f = (2/3, 1/3); P = mean of the rows.
        var probs = Tensor.FromArray([0.7f, 0.3f, 0.6f, 0.4f, 0.2f, 0.8f], 3, 2);
        var routing = SwitchRouting.Route(probs.Data, 3, 2, 1f, default);
        float p0 = (0.7f + 0.6f + 0.2f) / 3, p1 = (0.3f + 0.4f + 0.8f) / 3;
        Assert.Equal(2 * (2f / 3 * p0 + 1f / 3 * p1), SwitchFeedForward.LoadBalancingLoss(probs, routing).Item(), 6);
        // Its gradient reaches the router's probabilities only through Pᵢ: ∂L/∂p[t, i] = E·fᵢ/T.
        Check(x => SwitchFeedForward.LoadBalancingLoss(x[0], routing), [probs], h: 1e-3f);
    }

    [Fact]
    public void LayerGradientsMatchFiniteDifferencesIncludingTheRouterThroughBothTerms()
    {
        // Routing is piecewise constant; away from ties a small step keeps it, so the layer is smooth there.
        var layer = new SwitchFeedForward(Config with { ExpertCapacityFactor = 2f }, new Rng(7));
        var x = Tensor.Uniform(new Rng(8), -1.5f, 1.5f, 1, 6, 8);
        Check(i => layer.Forward(i[0], null), [x], h: 1e-3f);
        Check(i =>
        {
            layer.TakeAddedLosses();
            var y = layer.Forward(x, null);
            return y.SumAll() * 0f + layer.TakeAddedLosses()!;                                    // the balancing term alone, through the router
        }, [layer.Router.Weight], h: 1e-3f);
        Check(_ => layer.Forward(x, null), [layer.Router.Weight, layer.Experts[0].In.Weight], h: 1e-3f);
    }

    [Fact]
    public void AnEncoderWithExpertsAddsItsBalancingLossInTrainingOnly()
    {
        var model = new TransformerEncoder(Config, new Rng(9));
        Assert.Contains(model.NamedParameters(), p => p.Name == "encoder.layer.1.moe.experts.2.wo.weight");
        Assert.Contains(model.NamedParameters(), p => p.Name == "encoder.layer.0.moe.router.weight");
        Assert.DoesNotContain(model.NamedParameters(), p => p.Name.Contains("intermediate", StringComparison.Ordinal));
        var mask = Tensor.FromArray([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], 2, 5);
        var inputs = new EncoderInputs { Ids = new IntTensor(Enumerable.Range(0, 10).Select(i => 3 + i * 3).ToArray(), 2, 5), KeyMask = mask };
        var hidden = model.Forward(inputs);
        Assert.Equal(7, model.Encoder.Layer[0].Experts!.LastRouting!.Routed);                   // padding is not routed
        var added = model.TakeAddedLosses()!;
        // Two layers, each w·E·Σ fᵢPᵢ with E·Σ fᵢPᵢ ≥ 1 (equality when balanced), so ≥ 2·0.5.
        Assert.True(added.Item() >= 1f - 1e-5f, $"{added.Item()}");
        Assert.Null(model.TakeAddedLosses());                                                   // taken once
        (hidden.SumAll() + added).Backward();
        Assert.All(model.NamedParameters().Where(p => p.Name.Contains("router", StringComparison.Ordinal)), p => Assert.NotNull(p.Parameter.Grad));
        model.Eval();
        model.Forward(inputs);
        Assert.Null(model.TakeAddedLosses());
    }
}
