using System.Text.Json;
using Jianwei.Tensors.Serialization;
using Xunit.Abstractions;

namespace Jianwei.Tensors.Tests;

/// <summary>
/// The engine against PyTorch on ../shared/fixtures/tiny-bert. Tolerance rule: for every tensor,
/// max |ours − torch| ≤ 1e-4 · max(max |torch|, 1e-3): relative to the tensor's own scale, so
/// near-zero elements do not demand impossible float32 precision while large ones are held to 1e-4.
/// The 1e-3 floor covers gradients that are exactly zero in exact arithmetic (attention key biases:
/// softmax ignores a shift shared by all keys), where both sides hold only round-off (~1e-8); they
/// are then held to 1e-7 absolute.
/// </summary>
public class TinyBertParityTests(ITestOutputHelper output)
{
    private const float RelTol = 1e-4f;

    private static string Dir => SharedData.Path_("fixtures", "tiny-bert");

    private static BertForMaskedLM LoadModel()
    {
        using var cfg = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "config.json")));
        var r = cfg.RootElement;
        var c = new TinyBertConfig(r.GetProperty("vocab_size").GetInt32(), r.GetProperty("hidden_size").GetInt32(),
            r.GetProperty("num_hidden_layers").GetInt32(), r.GetProperty("num_attention_heads").GetInt32(),
            r.GetProperty("intermediate_size").GetInt32(), r.GetProperty("max_position_embeddings").GetInt32(),
            r.GetProperty("type_vocab_size").GetInt32(), (float)r.GetProperty("layer_norm_eps").GetDouble());
        var model = new BertForMaskedLM(c, new Rng(0));
        model.LoadStateDict(SafetensorsFile.Load(Path.Combine(Dir, "model.safetensors")).ToStateDict());
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
        var ids = io.GetIntTensor("input_ids");
        var types = io.GetIntTensor("token_type_ids");
        var labels = io.GetIntTensor("labels");
        var mask = io.GetTensor("attention_mask");

        var (hidden, pooled) = model.Bert.Forward(ids, types, mask);
        var logits = model.MlmLogits(hidden);
        int vocab = logits.Dim(-1);
        var mlmLoss = Tensor.CrossEntropy(logits.Reshape(-1, vocab), labels.Reshape(-1));
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
    public void StateDictRoundTripsThroughSafetensors()
    {
        var model = LoadModel();
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-tinybert-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsWriter.Save(path, model.StateDict());
            var reloaded = SafetensorsFile.Load(path).ToStateDict();
            var original = SafetensorsFile.Load(Path.Combine(Dir, "model.safetensors")).ToStateDict();
            Assert.Equal(original.Keys.OrderBy(k => k), reloaded.Keys.OrderBy(k => k));
            foreach (var (k, v) in original) Assert.Equal(v.ToArray(), reloaded[k].ToArray());
        }
        finally { File.Delete(path); }
    }
}
