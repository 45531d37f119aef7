using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Tests.Transformers;

/// <summary>Each encoder option checked by a property it must have, not by running alone.</summary>
public class EncoderOptionTests
{
    private static readonly EncoderConfig Small = new()
    {
        VocabSize = 50, HiddenSize = 16, Layers = 4, Heads = 2, IntermediateSize = 32, MaxPositions = 32, HiddenDropout = 0f,
    };

    private static EncoderInputs Batch(int b = 2, int n = 9, ulong seed = 1, Tensor? keyMask = null)
    {
        var rng = new Rng(seed);
        return new EncoderInputs { Ids = new IntTensor(Enumerable.Range(0, b * n).Select(_ => 5 + rng.NextInt(45)).ToArray(), b, n), KeyMask = keyMask };
    }

    private static float MaxDiff(float[] a, float[] b) => a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();

    [Theory]
    [InlineData(LayerSharing.None, 4)]
    [InlineData(LayerSharing.All, 1)]
    [InlineData(LayerSharing.AdjacentPairs, 2)]
    [InlineData(LayerSharing.Alternating, 2)]
    public void SharingKeepsOneWeightSetPerGroup(LayerSharing sharing, int sets)
    {
        var model = new TransformerEncoder(Small with { Sharing = sharing }, new Rng(1));
        Assert.Equal(sets, model.Encoder.Layer.Count);
        long perLayer = model.Encoder.Layer[0].ParameterCount();
        long embeddingsAndPooler = model.ParameterCount() - sets * perLayer;
        Assert.Equal(new TransformerEncoder(Small, new Rng(1)).ParameterCount() - 4 * perLayer, embeddingsAndPooler);
        // Shared weights receive the gradient of every layer that uses them.
        model.Forward(Batch()).SumAll().Backward();
        Assert.All(model.NamedParameters().Where(p => !p.Name.StartsWith("pooler.", StringComparison.Ordinal)), p => Assert.NotNull(p.Parameter.Grad));
    }

    [Fact]
    public void ReZeroStartsAsTheIdentityAndLearnsItsGate()
    {
        var model = new TransformerEncoder(Small with { Norm = NormPlacement.ReZero }, new Rng(2));
        var inputs = Batch();
        var hidden = model.Forward(inputs);
        Assert.Equal(model.Embed(inputs).ToArray(), hidden.ToArray());   // α = 0: every block passes x through
        Assert.DoesNotContain(model.NamedParameters(), p => p.Name.StartsWith("encoder.", StringComparison.Ordinal) && p.Name.Contains("LayerNorm"));
        hidden.Pow(2f).SumAll().Backward();
        Assert.All(model.Encoder.Layer.Items, layer => Assert.NotEqual(0f, layer.ReZeroAlpha!.Grad!.Item()));
    }

    [Fact]
    public void PreLayerNormEndsWithAFinalNorm()
    {
        var model = new TransformerEncoder(Small with { Norm = NormPlacement.Pre }, new Rng(3));
        Assert.Contains(model.NamedParameters(), p => p.Name == "encoder.final_layer_norm.weight");
        var h = model.Forward(Batch()).ToArray();
        // Each token's final vector is layer-normed: mean 0, variance 1 over H (γ = 1, β = 0).
        for (int t = 0; t < h.Length / 16; t++)
        {
            var row = h.AsSpan(t * 16, 16).ToArray();
            Assert.Equal(0.0, row.Average(), 4);
            Assert.Equal(1.0, row.Select(x => (double)x * x).Average(), 3);
        }
    }

    /// <summary>
    /// Layer k's output is what an encoder cut after layer k computes: the same weights with fewer
    /// layers is the independent reference (and, pre-LN, the same final norm on each).
    /// </summary>
    [Theory]
    [InlineData(NormPlacement.Post)]
    [InlineData(NormPlacement.Pre)]
    public void EncodeLayersReturnsWhatShallowerEncodersComputeLowestFirst(NormPlacement norm)
    {
        var deep = new TransformerEncoder(Small with { Norm = norm }, new Rng(9));
        deep.Eval();
        var inputs = Batch(keyMask: Tensor.FromArray([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 2, 9));
        var layers = deep.EncodeLayers(deep.Embed(inputs), inputs, 3);                  // layers 2, 3 and 4 of 4
        Assert.Equal(3, layers.Count);
        for (int depth = 2; depth <= 4; depth++)
        {
            var shallow = new TransformerEncoder(Small with { Norm = norm, Layers = depth }, new Rng(10));
            shallow.RestoreState(deep.CopyState());                                          // its names are a subset of the deep one's
            shallow.Eval();
            Assert.Equal(shallow.Forward(inputs).ToArray(), layers[depth - 2].ToArray());
        }
        Assert.Equal(deep.Forward(inputs).ToArray(), layers[^1].ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => deep.EncodeLayers(deep.Embed(inputs), inputs, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => deep.EncodeLayers(deep.Embed(inputs), inputs, 0));
    }

    [Fact]
    public void RotaryEncoderSeesOnlyRelativePositions()
    {
        // Large initial weights, so attention is far from uniform and positions matter.
        var model = new TransformerEncoder(Small with { Positions = PositionEncoding.Rotary, InitializerRange = 0.3f }, new Rng(4));
        Assert.Null(model.Embeddings.Position);
        var ids = Batch().Ids;
        int b = ids.Dim(0), n = ids.Dim(1);
        var shifted = new IntTensor(TransformerEncoder.DefaultPositions(b, n).Values.Select(p => p + 7).ToArray(), b, n);
        var a = model.Forward(new EncoderInputs { Ids = ids }).ToArray();
        var c = model.Forward(new EncoderInputs { Ids = ids, Positions = shifted }).ToArray();
        Assert.True(MaxDiff(a, c) < 1e-4f, $"shift by 7 changed outputs by {MaxDiff(a, c)}");
        // …but the order of tokens matters.
        var reversed = new IntTensor(Enumerable.Range(0, b * n).Select(i => n - 1 - i % n).ToArray(), b, n);
        float reorder = MaxDiff(a, model.Forward(new EncoderInputs { Ids = ids, Positions = reversed }).ToArray());
        Assert.True(reorder > 1e-3f, $"reversed positions changed outputs by only {reorder}");
    }

    [Fact]
    public void FactorizedEmbeddingsProjectToTheHiddenWidth()
    {
        var model = new TransformerEncoder(Small with { EmbeddingSize = 8 }, new Rng(5));
        Assert.Equal(new[] { 50, 8 }, model.Embeddings.Word.Weight.Shape.ToArray());
        Assert.NotNull(model.EmbeddingsProject);
        Assert.Equal(new[] { 2, 9, 16 }, model.Forward(Batch()).Shape.ToArray());
        var mlm = new BertForMaskedLM(Small with { EmbeddingSize = 8 }, new Rng(5));
        Assert.Equal(new[] { 2, 9, 50 }, mlm.MlmLogits(mlm.Bert.Forward(Batch())).Shape.ToArray());
    }

    [Theory]
    [InlineData(AttentionKind.Softmax, 0)]
    [InlineData(AttentionKind.Performer, 0)]
    [InlineData(AttentionKind.Linear, 0)]
    [InlineData(AttentionKind.Entmax, 0)]
    [InlineData(AttentionKind.Softmax, 3)]
    public void PaddingNeverChangesRealTokens(AttentionKind kind, int experts)
    {
        var model = new TransformerEncoder(Small with { Attention = kind, Experts = experts }, new Rng(6));
        model.Eval();
        var mask = Tensor.FromArray(Enumerable.Range(0, 18).Select(i => i % 9 < 6 ? 1f : 0f).ToArray(), 2, 9);
        var one = Batch(keyMask: mask);
        var ids = (int[])one.Ids.Values.Clone();
        for (int i = 0; i < ids.Length; i++) if (i % 9 >= 6) ids[i] = 7;   // other padding ids
        var two = new EncoderInputs { Ids = new IntTensor(ids, 2, 9), KeyMask = mask };
        var a = model.Forward(one).ToArray(); var c = model.Forward(two).ToArray();
        for (int t = 0; t < 18; t++)
            if (t % 9 < 6) Assert.True(MaxDiff(a[(t * 16)..(t * 16 + 16)], c[(t * 16)..(t * 16 + 16)]) < 1e-5f, $"token {t} changed");
    }

    [Fact]
    public void PerformerApproachesSoftmaxWithManyFeatures()
    {
        var inputs = Batch();
        var exact = new TransformerEncoder(Small, new Rng(7)); exact.Eval();
        float Gap(int features)
        {
            var approx = new TransformerEncoder(Small with { Attention = AttentionKind.Performer, PerformerFeatures = features }, new Rng(7));
            approx.Eval();
            return MaxDiff(exact.Forward(inputs).ToArray(), approx.Forward(inputs).ToArray());
        }
        float few = Gap(4), many = Gap(4096);
        Assert.True(many < few / 3 && many < 0.1f, $"4 features: {few}, 4096 features: {many}");
    }

    [Fact]
    public void PerformerRedrawsOnScheduleAndTheDrawsAreReproducible()
    {
        var config = Small with { Attention = AttentionKind.Performer, PerformerRedrawInterval = 2, Layers = 1 };
        var a = new TransformerEncoder(config, new Rng(8));
        var b = new TransformerEncoder(config, new Rng(9));   // other weights, same feature schedule
        var features = a.StateDict()["encoder.layer.0.attention.self.random_features"];
        var first = features.ToArray();
        a.Forward(Batch()); a.Forward(Batch());
        Assert.Equal(first, features.ToArray());              // two passes: not yet
        a.Forward(Batch());
        var second = features.ToArray();
        Assert.NotEqual(first, second);                       // third pass redraws
        for (int i = 0; i < 3; i++) b.Forward(Batch());
        Assert.Equal(second, b.StateDict()["encoder.layer.0.attention.self.random_features"].ToArray());
        a.Eval(); a.Forward(Batch()); a.Forward(Batch()); a.Forward(Batch());
        Assert.Equal(second, features.ToArray());             // evaluation never redraws
    }

    [Fact]
    public void ConfigRoundTripsWithEveryOptionAndNamesBadFields()
    {
        var config = Small with
        {
            Norm = NormPlacement.ReZero, Positions = PositionEncoding.Rotary, Sharing = LayerSharing.AdjacentPairs,
            Attention = AttentionKind.Performer, EmbeddingSize = 8, PerformerFeatures = 12, PerformerRedrawInterval = 50,
            Experts = 4, ExpertCapacityFactor = 1.5f, LoadBalancingWeight = 0.02f,
        };
        Assert.Equal(config, EncoderConfig.FromJson(config.ToJson()));
        var entmax = Small with { Attention = AttentionKind.Entmax, EntmaxAlpha = 1.25f };
        var back = EncoderConfig.FromJson(entmax.ToJson());
        Assert.Equal((AttentionKind.Entmax, 1.25f, 0), (back.Attention, back.EntmaxAlpha, back.Experts));
        Assert.False((Small with { Experts = 2 }).IsPlainBert);
        Assert.Contains("jianwei_entmax_alpha", Assert.Throws<FormatException>(() => EncoderConfig.FromJson("""{"jianwei_entmax_alpha": 3.0}""")).Message);
        Assert.Contains("jianwei_experts", Assert.Throws<FormatException>(() => EncoderConfig.FromJson("""{"jianwei_experts": 1}""")).Message);
        var bad = Assert.Throws<FormatException>(() => EncoderConfig.FromJson("""{"hidden_size": 30, "num_attention_heads": 4}""", "x/config.json"));
        Assert.Contains("x/config.json", bad.Message);
        Assert.Contains("num_attention_heads", bad.Message);
        Assert.Contains("jianwei_attention", Assert.Throws<FormatException>(() => EncoderConfig.FromJson("""{"jianwei_attention": "flash"}""")).Message);
    }

    [Fact]
    public void CheckpointWithOptionsRoundTripsThroughTheDirectoryLayout()
    {
        var config = Small with { Attention = AttentionKind.Entmax, Norm = NormPlacement.Pre, Sharing = LayerSharing.All, Experts = 2 };
        var model = new BertForMaskedLM(config, new Rng(10));
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-enc-{Guid.NewGuid():N}");
        try
        {
            BertCheckpoint.Save(dir, config, model);
            var again = new BertForMaskedLM(BertCheckpoint.ReadConfig(dir), new Rng(11));
            var report = BertCheckpoint.LoadInto(again, dir);
            Assert.Empty(report.Initialized);
            model.Eval(); again.Eval();
            Assert.Equal(model.Bert.Forward(Batch()).ToArray(), again.Bert.Forward(Batch()).ToArray());
            // A checkpoint that does not fit says which names are wrong.
            var other = new TransformerEncoder(Small, new Rng(12));
            var e = Assert.Throws<StateDictException>(() => BertCheckpoint.LoadInto(other, dir));
            Assert.Contains("encoder.layer.1", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
