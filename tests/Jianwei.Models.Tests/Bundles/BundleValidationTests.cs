using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Bundles;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests.Bundles;

/// <summary>A balanced (LR + XGBoost) and a tiny multimodal bundle, trained once for the tampering tests.</summary>
public sealed class TrainedBundles : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("jianwei-bundles").FullName;
    public string Data => Path.Combine(Root, "companies.csv");
    public string Balanced => Path.Combine(Root, "balanced");
    public string Multimodal => Path.Combine(Root, "multimodal");
    public string LightGbm => Path.Combine(Root, "lightgbm");

    public TrainedBundles()
    {
        SmeDataset.WriteCsv(Data, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 11, Labeled: 600, Unlabeled: 0)).Labeled, withLabel: true);
        var table = RawTable.Load(Data);
        var schema = SchemaInference.Infer(table, "default", "1");
        using (var b = ModelBundle.Train(table, schema, Data, new BundleTrainingOptions { Preset = Preset.Balanced })) b.Save(Balanced);
        using (var l = ModelBundle.Train(table, schema, Data, new BundleTrainingOptions { Learner = TabularLearner.LightGbm })) l.Save(LightGbm);
        var tiny = new MultimodalLearnerOptions
        {
            Encoder = new() { HiddenSize = 16, Layers = 1, Heads = 2, IntermediateSize = 32, MaxPositions = 128 },
            TextBudget = 12, VocabularySize = 600, PretrainBudget = TimeSpan.FromSeconds(1), FineTune = new() { MaxEpochs = 1, Patience = 1 },
        };
        using (var m = ModelBundle.Train(table, schema, Data, new BundleTrainingOptions { Learner = TabularLearner.Multimodal, Multimodal = tiny })) m.Save(Multimodal);
    }

    /// <summary>
    /// A copy of a bundle to tamper with. Unless <paramref name="keepDigests"/>, the manifest's SHA-256
    /// digests are removed — as an older bundle has none, or a tamperer who edits consistently would —
    /// so that the checks behind them are what is tested.
    /// </summary>
    public string Copy(string bundle, bool keepDigests = false)
    {
        var to = Path.Combine(Root, $"copy-{Guid.NewGuid():N}");
        foreach (var file in Directory.GetFiles(bundle, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(bundle, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        if (!keepDigests)
        {
            var manifest = Path.Combine(to, "manifest.json");
            var json = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
            // LightGBM's files keep theirs: a bundle is refused without them (see LightGbmBundleLoadsOnlyWithItsDigestChecked).
            var kept = json["sha256"]!.AsObject().Where(kv => kv.Key.EndsWith(BoostingLearner.LightGbmFile, StringComparison.Ordinal)).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value!.DeepClone())).ToList();
            json.Remove("sha256");
            if (kept.Count > 0) json["sha256"] = new JsonObject(kept);
            File.WriteAllText(manifest, json.ToJsonString());
        }
        return to;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// Every tampered bundle is refused at load with one <see cref="ModelFormatException"/> that names the
/// file and the field — never a null reference, a native crash or a model that scores NaN.
/// </summary>
public sealed class BundleValidationTests(TrainedBundles bundles) : IClassFixture<TrainedBundles>
{
    private static void EditJson(string file, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(file))!;
        edit(node);
        File.WriteAllText(file, node.ToJsonString());
    }

    /// <summary>Loads a copy with <paramref name="file"/> tampered; returns the refusal's message, asserting it names <paramref name="named"/> (default: that file).</summary>
    private string Refusal(string bundle, string file, Action<string> tamper, string? named = null)
    {
        var copy = bundles.Copy(bundle);
        tamper(Path.Combine(copy, file));
        var e = Assert.Throws<ModelFormatException>(() => ModelBundle.Load(copy));
        Assert.StartsWith(Path.Combine(copy, named ?? file), e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    private void Case(string bundle, string file, string expected, Action<JsonNode> edit) =>
        Assert.Contains(expected, Refusal(bundle, file, path => EditJson(path, edit)));

    private void CaseText(string bundle, string file, string expected, Func<string, string> edit) =>
        Assert.Contains(expected, Refusal(bundle, file, path => File.WriteAllText(path, edit(File.ReadAllText(path)))));

    [Fact]
    public void TheUntouchedBundlesLoadAndScore()
    {
        var table = RawTable.Load(bundles.Data);
        foreach (var dir in new[] { bundles.Balanced, bundles.Multimodal })
        {
            using var b = ModelBundle.Load(dir);
            Assert.All(b.Score(table), p => Assert.InRange(p, 0, 1));
            Assert.Equal(["0", "1"], b.Schema.LabelClasses);
        }
    }

    [Fact]
    public void AFileChangedAfterTrainingIsRefusedEvenWhenEveryValueIsPlausible()
    {
        var copy = bundles.Copy(bundles.Balanced, keepDigests: true);
        var tabular = Path.Combine(copy, "tabular.json");
        var json = JsonNode.Parse(File.ReadAllText(tabular))!;
        json["logistic"]!["weights"]![0] = json["logistic"]!["weights"]![0]!.GetValue<double>() + 0.5;   // a finite, in-range, wrong weight
        File.WriteAllText(tabular, json.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => ModelBundle.Load(copy));
        Assert.Equal($"{tabular}: changed since the bundle was written (its SHA-256 differs from the manifest's): a damaged or edited file is never scored with; restore it or retrain.", e.Message);
        // Without digests (bundles written before they were recorded) the same file loads: every value is in range.
        var manifest = Path.Combine(copy, "manifest.json");
        var m = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        m.Remove("sha256");
        File.WriteAllText(manifest, m.ToJsonString());
        ModelBundle.Load(copy).Dispose();
    }

    [Fact]
    public void TheManifestsFieldsAreChecked()
    {
        var b = bundles.Balanced;
        Case(b, "manifest.json", "threshold: missing", j => j.AsObject().Remove("threshold"));
        Case(b, "manifest.json", "threshold: 2 is outside [0, 1]", j => j["threshold"] = 2);
        Case(b, "manifest.json", "threshold: expected a finite number, got \"0.5\"", j => j["threshold"] = "0.5");
        Case(b, "manifest.json", "created: missing", j => j.AsObject().Remove("created"));
        Case(b, "manifest.json", "created: 'yesterday' is not a date", j => j["created"] = "yesterday");
        Case(b, "manifest.json", "format_version: expected a whole number, got \"1\"", j => j["format_version"] = "1");
        Case(b, "manifest.json", "format: this is not a Jianwei model bundle", j => j.AsObject().Remove("format"));
        Case(b, "manifest.json", "schema: missing", j => j.AsObject().Remove("schema"));
        Case(b, "manifest.json", "schema: columns[0] has no name", j => j["schema"]!["columns"]![0] = null);
        Case(b, "manifest.json", "schema.positiveClass: missing", j => j["schema"]!.AsObject().Remove("positiveClass"));
        Case(b, "manifest.json", "metrics.roc_auc: expected a finite number", j => j["metrics"]!["roc_auc"] = "high");
        Case(b, "manifest.json", "the model reads column 'debt_ratio' as numeric, but the schema has it as a categorical feature",
            j => j["schema"]!["columns"]!.AsArray().First(c => c!["name"]!.GetValue<string>() == "debt_ratio")!["type"] = "Categorical");
        CaseText(b, "manifest.json", "not valid JSON", _ => "");
        CaseText(b, "manifest.json", "not valid JSON", t => t[..(t.Length / 2)]);
    }

    [Fact]
    public void TheTabularModelsPartsAreCheckedAndMustFitTogether()
    {
        var b = bundles.Balanced;
        Case(b, "tabular.json", "learner: 'Wizard' is not one of", j => j["learner"] = "Wizard");
        Case(b, "tabular.json", "logistic: missing (the Stack learner needs it)", j => j.AsObject().Remove("logistic"));
        Case(b, "tabular.json", "multimodal: present, but the Stack learner has no such part", j => j["multimodal"] = "multimodal");
        Case(b, "tabular.json", "logistic.weights[0]: expected a finite number, got \"NaN\"", j => j["logistic"]!["weights"]![0] = "NaN");
        Case(b, "tabular.json", "logistic.weights[0]: 1E+308 is outside [-3.4e38, 3.4e38] (beyond float32", j => j["logistic"]!["weights"]![0] = 1e308);
        Case(b, "tabular.json", "logistic.intercept", j => j["logistic"]!["intercept"] = null);
        Case(b, "tabular.json", "logistic.weights: expected", j => j["logistic"]!["weights"]!.AsArray().RemoveAt(0));
        Case(b, "tabular.json", "is outside [0, 4]", j => j["linear_features"]!["columns"] = 5);
        Case(b, "tabular.json", "linear_features.numeric[0].std: 0 is outside", j => j["linear_features"]!["numeric"]![0]!["std"] = 0);
        Case(b, "tabular.json", "is used twice", j => j["linear_features"]!["numeric"]![1]!["column"] = j["linear_features"]!["numeric"]![0]!["column"]!.GetValue<int>());
        Case(b, "tabular.json", "appears twice", j => { var terms = j["linear_features"]!["text"]![0]!["terms"]!; terms[1] = terms[0]!.GetValue<string>(); });
        Case(b, "tabular.json", "idf: expected", j => j["linear_features"]!["text"]![0]!["idf"]!.AsArray().RemoveAt(0));
        Case(b, "tabular.json", "stacker.weights: expected 2 elements, got 3", j => j["stacker"]!["weights"]!.AsArray().Add(1.0));
        Case(b, "tabular.json", "tree_features.vocabularies.industry: a category appears twice", j => { var v = j["tree_features"]!["vocabularies"]!["industry"]!; v[1] = v[0]!.GetValue<string>(); });
        CaseText(b, "tabular.json", "Duplicate property", t => t.Replace("{\"format_version\":1,", "{\"format_version\":1,\"format_version\":1,"));
        // Features and trees that no longer agree: refused against the trees' own feature list.
        Assert.Contains("xgboost.json: learner.feature_names: the trees' ", Refusal(b, "tabular.json", path => EditJson(path, j => j["tree_features"]!["columns"]!.AsArray().RemoveAt(0)), named: "xgboost.json"));
        Assert.Contains("xgboost.json: learner.gradient_booster.model.trees[0].left_children[0]",
            Refusal(b, "xgboost.json", path => File.WriteAllText(path, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(path), "\"left_children\":\\[[0-9]+", "\"left_children\":[1000000"))));
        Assert.Contains("the file is missing", Refusal(b, "xgboost.json", File.Delete));
    }

    [Fact]
    public void TheMultimodalFilesAreCheckedBeforeAnythingIsAllocated()
    {
        var b = bundles.Multimodal;
        Case(b, "multimodal/config.json", "vocab_size: 999, but vocab.txt holds", j => j["vocab_size"] = 999);
        Case(b, "multimodal/config.json", "describes a model of at least", j => { j["hidden_size"] = 65_536; j["num_attention_heads"] = 1; j["intermediate_size"] = 1_000_000; });
        Case(b, "multimodal/config.json", "num_hidden_layers must be between 1 and 1024", j => j["num_hidden_layers"] = 100_000);
        Case(b, "multimodal/config.json", "a field has the wrong type", j => j["hidden_size"] = "wide");
        Case(b, "multimodal/config.json", "max_position_embeddings", j => j["max_position_embeddings"] = 4);
        CaseText(b, "multimodal/vocab.txt", "the vocabulary is empty", _ => "");
        CaseText(b, "multimodal/vocab.txt", "has no '[UNK]' token", t => t.Replace("[UNK]\n", "[UNX]\n"));
        Case(b, "multimodal/multimodal_data.json", "text_columns[0].budget: 0 is outside [1, 100000]", j => j["text_columns"]![0]!["budget"] = 0);
        Case(b, "multimodal/multimodal_data.json", "features.numeric[0].quantiles[1]: the quantiles must not decrease",
            j => { var q = j["features"]!["numeric"]![0]!["quantiles"]!; q[1] = q[0]!.GetValue<double>() - 1; });
        Case(b, "multimodal/multimodal_data.json", "text_columns[0].truncation: 'Middle' is not one of", j => j["text_columns"]![0]!["truncation"] = "Middle");
        // The weights: truncated, non-finite, or with a metadata value out of range.
        Assert.Contains("model.safetensors: ", Refusal(b, "multimodal/model.safetensors", path => File.WriteAllBytes(path, File.ReadAllBytes(path)[..^100])));
        Assert.Contains("weights must be finite", Refusal(b, "multimodal/model.safetensors", path =>
        {
            var bytes = File.ReadAllBytes(path);
            long header = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)(8 + header + 4)), float.NaN);   // the second value of the first tensor
            File.WriteAllBytes(path, bytes);
        }));
        Assert.Contains("__metadata__.head_layers", Refusal(b, "multimodal/model.safetensors", path =>
        {
            var text = Encoding.Latin1.GetString(File.ReadAllBytes(path));
            File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text.Replace("\"head_layers\":\"1\"", "\"head_layers\":\"9\"")));
        }));
    }

    [Fact]
    public void LightGbmBundleLoadsOnlyWithItsDigestChecked()
    {
        using (var ok = ModelBundle.Load(bundles.LightGbm)) Assert.Equal(["lightgbm"], ok.Model.Learners.Select(l => l.Name));
        // Without its digest LightGBM would read an unchecked file: refused, naming the field.
        var bare = bundles.Copy(bundles.LightGbm, keepDigests: true);
        EditJson(Path.Combine(bare, "manifest.json"), n => n.AsObject().Remove("sha256"));
        var e = Assert.Throws<ModelFormatException>(() => ModelBundle.Load(bare));
        Assert.Contains("sha256: records no digest of lightgbm.txt", e.Message);
        // With them, an edited model file is refused before LightGBM sees it.
        var copy = bundles.Copy(bundles.LightGbm, keepDigests: true);
        var file = Path.Combine(copy, BoostingLearner.LightGbmFile);
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(file, bytes);
        e = Assert.Throws<ModelFormatException>(() => ModelBundle.Load(copy));
        Assert.Contains("changed since the bundle was written", e.Message);
    }
}
