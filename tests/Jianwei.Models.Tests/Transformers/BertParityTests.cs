using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Serialization;
using Xunit.Abstractions;

namespace Jianwei.Models.Tests.Transformers;

/// <summary>
/// The encoder against PyTorch on ../shared/fixtures/tiny-bert (a Hugging Face BertForMaskedLM).
/// Tolerance rule: for every tensor, max |ours − torch| ≤ 1e-4 · max(max |torch|, 1e-3): relative to
/// the tensor's own scale, so near-zero elements do not demand impossible float32 precision while
/// large ones are held to 1e-4. The 1e-3 floor covers gradients that are exactly zero in exact
/// arithmetic (attention key biases: softmax ignores a shift shared by all keys), where both sides
/// hold only round-off (~1e-8); they are then held to 1e-7 absolute.
/// </summary>
public class BertParityTests(ITestOutputHelper output)
{
    private const float RelTol = 1e-4f;

    private static string Dir => SharedData.Path_("fixtures", "tiny-bert");

    private static BertForMaskedLM LoadModel()
    {
        var model = new BertForMaskedLM(BertCheckpoint.ReadConfig(Dir), new Rng(0));
        var report = BertCheckpoint.LoadInto(model, Dir);
        Assert.Empty(report.Initialized);
        model.Eval();
        return model;
    }

    private void AssertClose(string name, Tensor expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = MathF.Max(MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(expected.Data)), 1e-3f);
        float maxDiff = 0f;
        for (int i = 0; i < actual.Length; i++) maxDiff = MathF.Max(maxDiff, MathF.Abs(actual[i] - expected.Data[i]));
        bool ok = maxDiff <= RelTol * scale;
        output.WriteLine($"TENSOR {(ok ? "OK" : "MISMATCH")} {name} maxdiff {maxDiff:E2} (scale {scale:E2})");
        Assert.True(ok, $"{name}: maxdiff {maxDiff:E3} exceeds {RelTol}·{scale:E3}");
    }

    [SharedFact]
    public void ForwardOutputsLossesAndEveryGradientMatchPyTorch()
    {
        var model = LoadModel();
        var io = SafetensorsFile.Load(Path.Combine(Dir, "io.safetensors"));
        var inputs = new EncoderInputs { Ids = io.GetIntTensor("input_ids"), TokenTypes = io.GetIntTensor("token_type_ids"), KeyMask = io.GetTensor("attention_mask") };
        var labels = io.GetIntTensor("labels");

        var hidden = model.Bert.Forward(inputs);
        var pooled = model.Bert.Pool(hidden);
        var logits = model.MlmLogits(hidden);
        var mlmLoss = Tensor.CrossEntropy(logits.Reshape(-1, logits.Dim(-1)), labels.Reshape(-1));
        var loss = mlmLoss + pooled.MeanAll() * 0.5f;

        AssertClose("last_hidden_state", io.GetTensor("last_hidden_state"), hidden.Data);
        AssertClose("pooler_output", io.GetTensor("pooler_output"), pooled.Data);
        AssertClose("mlm_logits", io.GetTensor("mlm_logits"), logits.Data);
        AssertClose("mlm_loss", io.GetTensor("mlm_loss"), mlmLoss.Data);
        AssertClose("loss", io.GetTensor("loss"), loss.Data);

        loss.Backward();
        var grads = SafetensorsFile.Load(Path.Combine(Dir, "grads.safetensors"));
        var parameters = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Assert.Equal(grads.Entries.Keys.OrderBy(k => k), parameters.Keys.OrderBy(k => k));
        foreach (var name in grads.Entries.Keys)
            AssertClose("grad " + name, grads.GetTensor(name), parameters[name].Grad!.Data);
    }

    [SharedFact]
    public void SavedCheckpointIsTheSameHuggingFaceLayout()
    {
        var model = LoadModel();
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-bert-{Guid.NewGuid():N}");
        try
        {
            BertCheckpoint.Save(dir, BertCheckpoint.ReadConfig(Dir), model);
            var reloaded = SafetensorsFile.Load(Path.Combine(dir, BertCheckpoint.WeightsFile)).ToStateDict();
            var original = SafetensorsFile.Load(Path.Combine(Dir, "model.safetensors")).ToStateDict();
            Assert.Equal(original.Keys.OrderBy(k => k), reloaded.Keys.OrderBy(k => k));
            foreach (var (k, v) in original) Assert.Equal(v.ToArray(), reloaded[k].ToArray());
            // A plain BERT's config carries no Jianwei keys and reads back equal.
            var text = File.ReadAllText(Path.Combine(dir, BertCheckpoint.ConfigFile));
            Assert.DoesNotContain("jianwei", text);
            Assert.Equal(BertCheckpoint.ReadConfig(Dir), BertCheckpoint.ReadConfig(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [SharedFact]
    public void BareEncoderLoadsTheMaskedLmCheckpointAndAgrees()
    {
        var full = LoadModel();
        var encoder = new TransformerEncoder(BertCheckpoint.ReadConfig(Dir), new Rng(1));
        var report = BertCheckpoint.LoadInto(encoder, Dir);
        Assert.Contains(report.Ignored, n => n.StartsWith("cls.", StringComparison.Ordinal));
        encoder.Eval();
        var io = SafetensorsFile.Load(Path.Combine(Dir, "io.safetensors"));
        var inputs = new EncoderInputs { Ids = io.GetIntTensor("input_ids"), TokenTypes = io.GetIntTensor("token_type_ids"), KeyMask = io.GetTensor("attention_mask") };
        Assert.Equal(full.Bert.Forward(inputs).ToArray(), encoder.Forward(inputs).ToArray());
    }
}
