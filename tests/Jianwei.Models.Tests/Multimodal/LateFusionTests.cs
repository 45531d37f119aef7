using System.Globalization;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Neural;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;

namespace Jianwei.Models.Tests.Multimodal;

public class LateFusionTests
{
    [Fact]
    public void JoinsATextModelAndATableModelTrainedApartAndBeatsEither()
    {
        // Default when x + [the note mentions a lawsuit] > 0.5: the table knows x, the note knows the
        // lawsuit, and only both together give the answer.
        var rng = new Random(11);
        string[] words = ["orders", "steady", "contract", "supplier", "export", "staff"];
        var rows = new List<string[]>();
        for (int i = 0; i < 600; i++)
        {
            double x = rng.NextDouble();
            bool lawsuit = rng.NextDouble() < 0.4;
            var note = Enumerable.Range(0, 5).Select(_ => words[rng.Next(words.Length)]).ToList();
            if (lawsuit) note.Insert(rng.Next(note.Count + 1), "lawsuit");
            rows.Add([x.ToString("F3", CultureInfo.InvariantCulture), string.Join(' ', note), x + (lawsuit ? 1 : 0) > 0.5 ? "1" : "0"]);
        }
        var table = new RawTable("fusion.csv", ["x", "note", "y"], rows, Enumerable.Range(2, rows.Count).Select(l => (long)l).ToList());
        var schema = new TableSchema
        {
            Columns = [new("x", ColumnRole.Feature, ColumnType.Numeric), new("note", ColumnRole.Feature, ColumnType.Text), new("y", ColumnRole.Label, ColumnType.Categorical)],
            Label = "y", PositiveClass = "1",
        };
        var y = rows.Select(r => r[2] == "1" ? 1 : 0).ToArray();
        int[] fit = [.. Enumerable.Range(0, 400)], valid = [.. Enumerable.Range(400, 100)], test = [.. Enumerable.Range(500, 100)];
        int[] Labels(int[] r) => r.Select(i => y[i]).ToArray();

        // The text model: the multimodal model on the table with x set aside.
        var textOnly = schema with { Columns = [schema.Columns[0] with { Role = ColumnRole.Ignore }, .. schema.Columns.Skip(1)] };
        var textData = MultimodalData.Fit(table, textOnly, fit, vocabularySize: 40, budgetPerColumn: 8);
        var encoder = new EncoderConfig { HiddenSize = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 64, VocabSize = textData.Vocabulary.Count };
        var text = new MultimodalTransformer(encoder, textData, new Rng(1));
        text.Fit(textData.Transform(table, fit), Labels(fit), textData.Transform(table, valid), Labels(valid),
                 new MultimodalFineTuneOptions { MaxEpochs = 6, Patience = 3, LearningRate = 3e-3f });
        // The table model: an FT-Transformer on x alone.
        var features = TokenFeatures.Fit(table, schema, fit);
        var ft = new FtTransformer(features.NumericCount, features.CategorySizes, new FtTransformerOptions { Dim = 16, Layers = 1, Heads = 2, MaxEpochs = 30, Patience = 5, Seed = 2 });
        ft.Fit(features.Transform(table, fit), Labels(fit), features.Transform(table, valid), Labels(valid));

        double textAuc = Metrics.RocAuc(text.PredictProbability(textData.Transform(table, test)), Labels(test));
        double tableAuc = Metrics.RocAuc(ft.PredictProbability(features.Transform(table, test)), Labels(test));
        var fused = new LateFusion(text, ft, new Rng(3));
        fused.Fit(textData.Transform(table, fit), features.Transform(table, fit), Labels(fit), textData.Transform(table, valid), features.Transform(table, valid),
                  Labels(valid), epochs: 4, learningRate: 1e-2f);
        double fusedAuc = Metrics.RocAuc(fused.PredictProbability(textData.Transform(table, test), features.Transform(table, test)), Labels(test));

        Assert.InRange(textAuc, 0.6, 0.9);    // each part sees half the answer
        Assert.InRange(tableAuc, 0.6, 0.9);
        Assert.True(fusedAuc > Math.Max(textAuc, tableAuc) + 0.05 && fusedAuc > 0.9,
                    $"joined ROC-AUC {fusedAuc:F3}; text alone {textAuc:F3}, table alone {tableAuc:F3}");
        Assert.Equal(4, fused.ValidationCurve.Count);

        // A text model that also reads cells is not a text model.
        var withCells = MultimodalData.Fit(table, schema, fit, vocabularySize: 40, budgetPerColumn: 8);
        var multimodal = new MultimodalTransformer(encoder with { VocabSize = withCells.Vocabulary.Count }, withCells, new Rng(1));
        Assert.Contains("texts only", Assert.Throws<ArgumentException>(() => new LateFusion(multimodal, ft, new Rng(3))).Message);
    }
}
