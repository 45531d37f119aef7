using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Bundles;
using Jianwei.Models.Features;
using Jianwei.Models.Learners;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests.Features;

/// <summary>
/// The naive Bayes–scaled text features (NBSVM's, Wang and Manning 2012): each term's TF-IDF times its
/// log-count ratio, worked out by hand; numbers untouched; the ratios saved and checked on load.
/// </summary>
public class NaiveBayesFeaturesTests
{
    private static readonly TableSchema Schema = new()
    {
        Columns =
        [
            new("income", ColumnRole.Feature, ColumnType.Numeric), new("review", ColumnRole.Feature, ColumnType.Text),
            new("y", ColumnRole.Label, ColumnType.Categorical),
        ],
        Label = "y", PositiveClass = "1",
    };

    private static RawTable Table(params string[][] rows) =>
        new("t.csv", ["income", "review", "y"], rows.ToList(), Enumerable.Range(2, rows.Length).Select(i => (long)i).ToList());

    // Terms in two or more rows: bad (rows 2, 3), food (0, 2), good (0, 1, 4), price (1, 3); every bigram is in one row only.
    private static readonly RawTable Reviews = Table(
        ["10", "good food", "1"], ["20", "good price", "1"], ["30", "bad food", "0"], ["40", "bad price", "0"], ["50", "good good", "1"]);
    private static readonly int[] Labels = [1, 1, 0, 0, 1];
    private static readonly int[] All = [0, 1, 2, 3, 4];

    [Fact]
    public void ScalesEachTermsTfidfByItsLogCountRatioAndLeavesNumbersAlone()
    {
        var plain = LinearFeatures.Fit(Reviews, Schema, All);
        var scaled = LinearFeatures.FitNaiveBayes(Reviews, Schema, All, Labels);
        string[] terms = ["review:bad", "review:food", "review:good", "review:price"];
        Assert.Equal(terms, plain.ColumnNames()[2..]);
        Assert.Equal(terms, scaled.ColumnNames()[2..]);   // word 1–3-grams, but no bigram or trigram is in two rows

        // Rows containing each term, plus one: positives p = (1, 2, 4, 2), Σ 9; negatives q = (3, 2, 1, 2), Σ 8.
        double[] ratio = [Math.Log(1.0 / 9 / (3.0 / 8)), Math.Log(2.0 / 9 / (2.0 / 8)), Math.Log(4.0 / 9 / (1.0 / 8)), Math.Log(2.0 / 9 / (2.0 / 8))];
        var x = plain.Transform(Reviews, All);
        var xs = scaled.Transform(Reviews, All);
        for (int i = 0; i < All.Length; i++)
        {
            var row = x.Row(i).ToDictionary(e => e.Column, e => e.Value);
            var rowScaled = xs.Row(i).ToDictionary(e => e.Column, e => e.Value);
            Assert.Equal(row.Keys.Order(), rowScaled.Keys.Order());
            foreach (var (column, value) in row)
                Assert.Equal(column < 2 ? value : value * ratio[column - 2], rowScaled[column], 6);
        }
    }

    [Fact]
    public void RatiosAreSavedAndChecked()
    {
        var scaled = LinearFeatures.FitNaiveBayes(Reviews, Schema, All, Labels);
        var json = scaled.ToJson();
        var back = LinearFeatures.FromJson(JsonFields.Of(JsonNode.Parse(json.ToJsonString())!.AsObject(), "tabular.json", "linear_features"));
        Assert.Equal(scaled.Transform(Reviews, All).Values, back.Transform(Reviews, All).Values);

        json["text"]![0]!["naive_bayes_ratio"]!.AsArray().RemoveAt(0);
        var e = Assert.Throws<ModelFormatException>(() => LinearFeatures.FromJson(JsonFields.Of(JsonNode.Parse(json.ToJsonString())!.AsObject(), "tabular.json", "linear_features")));
        Assert.Contains("naive_bayes_ratio", e.Message);
    }

    [Fact]
    public void TheNaiveBayesMemberNeedsText()
    {
        Assert.Equal("the table has no text column", TabularModel.CannotRead(TabularLearner.NaiveBayesLogistic, Schema with { Columns = Schema.Columns.Where(c => c.Type != ColumnType.Text).ToArray() }));
        Assert.Null(TabularModel.CannotRead(TabularLearner.NaiveBayesLogistic, Schema));
    }
}
