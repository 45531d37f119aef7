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
        var options = new ComparisonOptions
        {
            Folds = 2, PretrainBudget = TimeSpan.FromSeconds(3), TextBudget = 12,
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
        // The learners that read the table well beat chance even at this size.
        Assert.True(results.Single(r => r.Mode == "lr").Auc > 0.55);
        Assert.Contains("unknown mode", Assert.Throws<ArgumentException>(() => Comparison.Run(table, schema, options with { Modes = ["lr", "warp"] })).Message);
        Directory.Delete(dir, true);
    }
}
