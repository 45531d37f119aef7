using Jianwei.Data;
using Jianwei.Models.Experiments;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Transformers;

namespace Jianwei.Models.Tests.Multimodal;

[Collection("Serial")]   // compares runs bit for bit (see SerialCollection)
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
            EnsembleFolds = 2, EnsembleTrials = 3,
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
    public void ALearningCurveLabelsASampleOfEachFoldAndTheWholeFoldAtTheTop()
    {
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 8, Labeled: 400, Unlabeled: 0, Language: "en"));
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-curve-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "c.csv");
            SmeDataset.WriteCsv(path, ds.Labeled, withLabel: true);
            var table = RawTable.Load(path);
            var schema = SchemaInference.Infer(table, "default", "1");
            var log = new StringWriter();
            var options = new ComparisonOptions
            {
                Log = log, Folds = 2, PretrainSteps = 5, TextBudget = 12, Modes = ["lr", "multimodal", "multimodal-stack"],
                Encoder = new EncoderConfig { HiddenSize = 16, Layers = 1, Heads = 2, IntermediateSize = 32, MaxPositions = 128 },
                FineTune = new() { MaxEpochs = 1, Patience = 1 },
                LabelCounts = [100_000, 80],   // run smallest first; a count above a fold's 200 training rows keeps them all
            };
            var curve = Comparison.Run(table, schema, options);
            Assert.Equal(["lr", "multimodal", "multimodal-stack", "lr", "multimodal", "multimodal-stack"], curve.Select(r => r.Mode));
            Assert.All(curve.Take(3), r => Assert.InRange(r.Labels, 79, 81));   // stratified: each class's share to within a row
            Assert.All(curve.Skip(3), r => Assert.Equal(200, r.Labels));
            // The top of the curve is the comparison without one, to the last digit.
            var whole = Comparison.Run(table, schema, options with { LabelCounts = null, Log = null });
            Assert.Equal(whole.Select(r => r.Auc), curve.Skip(3).Select(r => r.Auc));
            Assert.NotEqual(curve[0].Auc, curve[3].Auc);
            // multimodal-stack reuses the multimodal model fine-tuned at its own count, never the other's.
            Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(log.ToString(), "multimodal-stack: fold ./2 reuses").Count);
            Assert.DoesNotMatch("multimodal: fold ./2 reuses", log.ToString());
            Assert.Throws<ArgumentException>(() => Comparison.Run(table, schema, options with { LabelCounts = [1] }));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TextModesAreTheMultimodalModelWithTheTableSetAside()
    {
        // The label is the sign of x; the note is drawn without looking at it.
        var rng = new Random(4);
        string[] words = ["orders", "steady", "late", "contract", "supplier", "export", "loan", "staff"];
        var rows = new List<string[]>();
        for (int i = 0; i < 240; i++)
        {
            double x = rng.NextDouble() * 2 - 1;
            string note = string.Join(' ', Enumerable.Range(0, 6).Select(_ => words[rng.Next(words.Length)]));
            rows.Add([x.ToString("F3", System.Globalization.CultureInfo.InvariantCulture), note, x > 0 ? "1" : "0"]);
        }
        var table = new RawTable("signs.csv", ["x", "note", "y"], rows, Enumerable.Range(2, rows.Count).Select(l => (long)l).ToList());
        var schema = new TableSchema
        {
            Columns = [new("x", ColumnRole.Feature, ColumnType.Numeric), new("note", ColumnRole.Feature, ColumnType.Text), new("y", ColumnRole.Label, ColumnType.Categorical)],
            Label = "y", PositiveClass = "1",
        };
        var options = new ComparisonOptions
        {
            Folds = 2, TextBudget = 8, FineTune = new MultimodalFineTuneOptions { MaxEpochs = 4, Patience = 2, LearningRate = 3e-3f },
            Encoder = new EncoderConfig { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 64 },
        };
        var read = Comparison.Run(table, schema, options with { Modes = ["multimodal-scratch", "text"] });
        var tableSetAside = schema with { Columns = [schema.Columns[0] with { Role = ColumnRole.Ignore }, .. schema.Columns.Skip(1)] };
        var reference = Comparison.Run(table, tableSetAside, options with { Modes = ["multimodal-scratch"] }).Single();
        double multimodal = read[0].Auc, text = read[1].Auc;
        Assert.True(multimodal > 0.8, $"the multimodal model reads x: ROC-AUC {multimodal:F3}");
        Assert.InRange(text, 0.3, 0.7);   // the texts say nothing of the label
        // Same model, head, fine-tuning and seeds as the multimodal model on the texts alone: the same scores.
        Assert.Equal(reference.Auc, text, 1e-9);
        Assert.Equal(reference.PrAuc, read[1].PrAuc, 1e-9);
    }

    [Fact]
    public void PretrainingForAStepCountRepeatsItsScoresAndLateFusionReusesTheTextModel()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-steps-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "c.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 9, Labeled: 240, Unlabeled: 0, Language: "en")).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var options = new ComparisonOptions
        {
            Folds = 2, PretrainSteps = 7, PretrainBudget = TimeSpan.FromMilliseconds(1), TextBudget = 10,
            Encoder = new EncoderConfig { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 128 },
            FineTune = new MultimodalFineTuneOptions { MaxEpochs = 2, Patience = 1 },
        };
        var first = new StringWriter();
        var a = Comparison.Run(table, SchemaInference.Infer(table, "default", "1"), options with { Log = first, Modes = ["text-pretrained", "late-fusion", "multimodal"] });
        var second = new StringWriter();
        var b = Comparison.Run(table, SchemaInference.Infer(table, "default", "1"), options with { Log = second, Modes = ["late-fusion", "multimodal", "text-pretrained"] });
        // The steps asked for, not what a millisecond allows (at least the 30 calibration steps), for both pretrainings.
        Assert.Contains("co-pretraining: 7 steps", first.ToString());
        Assert.Contains("text MLM: 7 steps", first.ToString());
        // Same scores again, whichever of text-pretrained and late fusion fine-tunes the text model the other reuses.
        Assert.Equal(a.ToDictionary(r => r.Mode, r => (r.Auc, r.PrAuc)), b.ToDictionary(r => r.Mode, r => (r.Auc, r.PrAuc)));
        Assert.Contains("late-fusion: fold 2/2 reuses the fine-tuned text-pretrained model", first.ToString());
        Assert.Contains("text-pretrained: fold 1/2 reuses the fine-tuned text-pretrained model", second.ToString());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void SelfTrainingReadsNoUnlabeledRowsLabelAndIsTheStackWithoutUnlabeledRows()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-self-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var ds = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 12, Labeled: 600, Unlabeled: 400, Language: "en"));
            SmeDataset.WriteCsv(Path.Combine(dir, "c.csv"), ds.Labeled, withLabel: true);
            var table = RawTable.Load(Path.Combine(dir, "c.csv"));
            var schema = SchemaInference.Infer(table, "default", "1");
            // The unlabeled rows carry a label column, all 1 in one copy and all 0 in the other: a mode
            // that read it would score differently.
            RawTable Unlabeled(string label)
            {
                SmeDataset.WriteCsv(Path.Combine(dir, $"u{label}.csv"), ds.Unlabeled, withLabel: false);
                var path = Path.Combine(dir, $"u{label}.csv");
                var text = File.ReadAllLines(path);
                File.WriteAllLines(path, text.Select((l, i) => i == 0 ? l + ",default" : l + "," + label));
                return RawTable.Load(path);
            }
            var options = new ComparisonOptions { Folds = 2, Modes = ["stack", "stack-selftrain"], LabelCounts = [150] };
            var ones = Comparison.Run(table, schema, options, Unlabeled("1"));
            var zeros = Comparison.Run(table, schema, options, Unlabeled("0"));
            Assert.Equal(ones.Select(r => r.Auc), zeros.Select(r => r.Auc));
            Assert.NotEqual(ones[0].Auc, ones[1].Auc);                                  // pseudo-labelled rows changed the stack
            // Nothing unlabeled (every training row labeled, no unlabeled table): self-training is the stack.
            var plain = Comparison.Run(table, schema, options with { LabelCounts = null });
            Assert.Equal(plain[0].Auc, plain[1].Auc);
        }
        finally { Directory.Delete(dir, true); }
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
        Assert.Equal((plain.Losses, encoder with { Attention = AttentionKind.Entmax, EntmaxAlpha = 1.5f }), Comparison.Variant("multimodal-entmax", encoder));
        Assert.Equal((plain.Losses, encoder with { Experts = 4 }), Comparison.Variant("multimodal-moe", encoder));
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
