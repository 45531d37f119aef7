using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Transformers;

/// <summary>What <see cref="BertCheckpoint.LoadInto"/> did with each tensor name.</summary>
/// <param name="Loaded">Names copied into the model.</param>
/// <param name="Ignored">Checkpoint names with no use here (tied decoder copies, next-sentence head, position_ids).</param>
/// <param name="Initialized">Model names the checkpoint lacks that keep their fresh initialization (pooler, MLM head).</param>
public sealed record CheckpointLoadReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Ignored, IReadOnlyList<string> Initialized);

/// <summary>
/// Hugging Face's directory layout for a BERT: <c>config.json</c>, <c>model.safetensors</c> and
/// optionally <c>vocab.txt</c>. Checkpoints written here load in Python with
/// <c>BertForMaskedLM.from_pretrained(dir)</c> when the configuration is plain BERT; checkpoints
/// converted from Hugging Face (BertModel, BertForMaskedLM or BertForPreTraining, old TensorFlow
/// gamma/beta names included) load into either <see cref="TransformerEncoder"/> or
/// <see cref="BertForMaskedLM"/>. Nothing in the directory is ever executed.
/// </summary>
public static class BertCheckpoint
{
    /// <summary>File names of the layout.</summary>
    public const string ConfigFile = "config.json", WeightsFile = "model.safetensors", VocabularyFile = "vocab.txt";

    /// <summary>Writes the configuration, the module's parameters and buffers, and the vocabulary if given; each file atomically.</summary>
    public static void Save(string directory, EncoderConfig config, Module model, Text.Vocabulary? vocabulary = null)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Save(Path.Combine(directory, WeightsFile), model.StateDict(), metadata: new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJson());
        vocabulary?.Save(Path.Combine(directory, VocabularyFile));
    }

    /// <summary>Reads <c>config.json</c> of a checkpoint directory.</summary>
    public static EncoderConfig ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: no {ConfigFile} (expected a Hugging Face BERT directory: config.json, model.safetensors, vocab.txt).", path);
        return EncoderConfig.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Copies a checkpoint's weights into <paramref name="model"/> (a <see cref="TransformerEncoder"/>, a
    /// <see cref="BertForMaskedLM"/>, or any module with the same names). Names are matched after
    /// removing or adding the "bert." prefix as the model needs. Throws <see cref="StateDictException"/>
    /// listing every mismatch when shapes disagree or encoder weights are missing or unknown.
    /// </summary>
    public static CheckpointLoadReport LoadInto(Module model, string directory)
    {
        string path = Path.Combine(directory, WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: no {WeightsFile}.", path);
        var source = SafetensorsFile.Load(path).ToStateDict();
        var own = model.StateDict();
        bool modelWrapped = own.Keys.Any(k => k.StartsWith("bert.", StringComparison.Ordinal));
        bool fileWrapped = source.Keys.Any(k => k.StartsWith("bert.", StringComparison.Ordinal));

        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var ignored = new List<string>();
        foreach (var (original, tensor) in source)
        {
            string name = original.Replace("LayerNorm.gamma", "LayerNorm.weight").Replace("LayerNorm.beta", "LayerNorm.bias");
            if (fileWrapped && !modelWrapped)
            {
                if (!name.StartsWith("bert.", StringComparison.Ordinal)) { ignored.Add(original); continue; }   // heads: no place in a bare encoder
                name = name["bert.".Length..];
            }
            else if (!fileWrapped && modelWrapped && !name.StartsWith("cls.", StringComparison.Ordinal))
                name = "bert." + name;
            if (name.EndsWith("position_ids", StringComparison.Ordinal) || name.StartsWith("cls.seq_relationship.", StringComparison.Ordinal)
                || name is "cls.predictions.decoder.weight" or "cls.predictions.decoder.bias")
            {
                ignored.Add(original);
                continue;
            }
            renamed[name] = tensor;
        }
        // Fresh heads are expected when the checkpoint had none: the pooler (BertForMaskedLM omits it),
        // the MLM head (BertModel omits it), Performer's random features (drawn, not learned).
        static bool MayStayFresh(string name) => name.StartsWith("pooler.", StringComparison.Ordinal) || name.StartsWith("bert.pooler.", StringComparison.Ordinal)
                                                 || name.StartsWith("cls.", StringComparison.Ordinal) || name.Contains("random_feature", StringComparison.Ordinal);
        var loaded = model.LoadStateDict(renamed, strict: false);
        var missing = own.Keys.Where(k => !renamed.ContainsKey(k)).ToList();
        var unexpected = renamed.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var hardMissing = missing.Where(k => !MayStayFresh(k)).ToList();
        if (hardMissing.Count > 0 || unexpected.Count > 0)
            throw new StateDictException($"{path} does not fit {model.GetType().Name}:"
                + (hardMissing.Count > 0 ? "\n  missing: " + string.Join(", ", hardMissing.Take(20)) + (hardMissing.Count > 20 ? $" … ({hardMissing.Count})" : "") : "")
                + (unexpected.Count > 0 ? "\n  unexpected: " + string.Join(", ", unexpected.Take(20)) + (unexpected.Count > 20 ? $" … ({unexpected.Count})" : "") : "")
                + "\n  (is config.json the one saved with these weights?)", hardMissing, unexpected, []);
        return new CheckpointLoadReport(loaded, ignored, missing);
    }
}
