using Jianwei.Data;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Transformers;

namespace Jianwei.Models.Tests.Multimodal;

public class ComparisonTests
{
    [Fact]
    public void EveryModeRunsOnTheSameFoldsAndUnknownModesAreRefused()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-cmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "c.csv");
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 8, Labeled: 400, Unlabeled: 100, Language: "en"));
        SmeDataset.WriteCsv(path, ds.Labeled, withLabel: true);
        SmeDataset.WriteCsv(Path.Combine(dir, "u.csv"), ds.Unlabeled, withLabel: false);
        var table = RawTable.Load(path);
        var schema = SchemaInference.Infer(table, "default", "1");
        var log = new StringWriter();
        var options = new ComparisonOptions
        {
            Log = log, Folds = 2, PretrainBudget = TimeSpan.FromSeconds(3), TextBudget = 12,
            Encoder = new EncoderConfig { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 128 },
        };
        var results = Comparison.Run(table, schema, options, RawTable.Load(Path.Combine(dir, "u.csv")));
        Assert.Equal(Comparison.Modes, results.Select(r => r.Mode));
        Assert.All(results, r =>
        {
            Assert.InRange(r.Auc, 0, 1);
            Assert.InRange(r.Accuracy, 0, 1);
            Assert.Equal(2, r.Folds);
        });
        // multimodal-stack stacks the very models multimodal fine-tuned, and its time counts theirs.
        Assert.Contains("multimodal-stack: fold 1/2 reuses the fine-tuned multimodal model", log.ToString());
        Assert.Contains("multimodal-stack: fold 2/2 reuses the fine-tuned multimodal model", log.ToString());
        Assert.True(results.Single(r => r.Mode == "multimodal-stack").Seconds >= results.Single(r => r.Mode == "multimodal").Seconds);
        // The learners that read the table well beat chance even at this size.
        Assert.True(results.Single(r => r.Mode == "lr").Auc > 0.55);
        Assert.Contains("unknown mode", Assert.Throws<ArgumentException>(() => Comparison.Run(table, schema, options with { Modes = ["lr", "warp"] })).Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void AblationsChangeOnlyWhatTheyNameAndRunOnRequest()
    {
        var encoder = new EncoderConfig { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 128 };
        var plain = Comparison.Variant("multimodal", encoder);
        var noCells = Comparison.Variant("multimodal-no-cells", encoder);
        var noMatching = Comparison.Variant("multimodal-no-matching", encoder);
        var performer = Comparison.Variant("multimodal-performer", encoder);
        Assert.Equal(plain.Losses with { CellWeight = 0 }, noCells.Losses);
        Assert.Equal(plain.Losses with { MatchingWeight = 0 }, noMatching.Losses);
        Assert.True(plain.Losses.CellWeight > 0 && plain.Losses.MatchingWeight > 0 && plain.Losses.TextWeight > 0);
        Assert.Equal(encoder, noCells.Encoder);
        Assert.Equal(encoder with { Attention = AttentionKind.Performer }, performer.Encoder);
        Assert.Equal(plain.Losses, performer.Losses);
        Assert.DoesNotContain(Comparison.Ablations, Comparison.Modes.Contains);   // never run unless named

        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-abl-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "c.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 8, Labeled: 300, Unlabeled: 0, Language: "en")).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var results = Comparison.Run(table, SchemaInference.Infer(table, "default", "1"), new ComparisonOptions
        {
            Folds = 2, PretrainBudget = TimeSpan.FromSeconds(2), TextBudget = 12, Encoder = encoder, Modes = ["multimodal-no-cells", "multimodal-performer"],
        });
        Assert.Equal(["multimodal-no-cells", "multimodal-performer"], results.Select(r => r.Mode));
        Assert.All(results, r => Assert.InRange(r.Auc, 0, 1));
        Directory.Delete(dir, true);
    }
}
