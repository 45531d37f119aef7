using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Bundles;
using Jianwei.Models.Features;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests.Features;

/// <summary>
/// Numbers in quantile bins (the binned logistic regression's view): edges at the training deciles with
/// ties merged, each value one-hot in its bin, a missing value in none; edges saved and checked on load.
/// </summary>
public class BinnedFeaturesTests
{
    private static readonly TableSchema Schema = new()
    {
        Columns =
        [
            new("income", ColumnRole.Feature, ColumnType.Numeric), new("owner", ColumnRole.Feature, ColumnType.Boolean),
            new("grade", ColumnRole.Feature, ColumnType.Categorical), new("y", ColumnRole.Label, ColumnType.Categorical),
        ],
        Label = "y", PositiveClass = "1",
    };

    // income 1 … 10 and a missing one; owner stays 0/1, standardized.
    private static readonly RawTable Table = new("t.csv", ["income", "owner", "grade", "y"],
        Enumerable.Range(1, 10).Select(i => new[] { i.ToString(), i % 2 == 0 ? "yes" : "no", i < 5 ? "A" : "B", (i % 2).ToString() })
            .Append(["NA", "no", "A", "0"]).ToList(),
        Enumerable.Range(2, 11).Select(i => (long)i).ToList());

    [Fact]
    public void CutsNumbersAtTrainingQuantilesIntoOneHotBins()
    {
        var all = Enumerable.Range(0, 11).ToArray();
        var f = LinearFeatures.FitBinned(Table, Schema, all, bins: 4);
        // Ten present values 1 … 10: the values at ranks 10·k/4 = 2, 5, 7 are 3, 6, 8.
        var names = f.ColumnNames();
        Assert.Equal(["income < 3", "income in [3, 6)", "income in [6, 8)", "income ≥ 8", "income (missing)", "owner", "owner (missing)"], names[..7]);
        var x = f.Transform(Table, all);
        int[] expectedBin = [0, 0, 1, 1, 1, 2, 2, 3, 3, 3];
        for (int i = 0; i < 10; i++)
        {
            var incomeColumns = x.Row(i).Where(e => e.Column < 5).ToList();
            Assert.Equal([(expectedBin[i], 1f)], incomeColumns);
        }
        Assert.Equal([(4, 1f)], x.Row(10).Where(e => e.Column < 5));   // missing: its indicator alone
        // Unseen values beyond the training range fall in the outer bins.
        var wider = new RawTable("u.csv", Table.Header, [["-50", "no", "A", "0"], ["1e9", "no", "A", "0"]], [2, 3]);
        var outer = f.Transform(wider, [0, 1]);
        Assert.Equal(0, outer.Row(0).First().Column);
        Assert.Equal(3, outer.Row(1).First().Column);

        // A column with one value has no edge: one bin, which every row is in.
        var constant = new RawTable("c.csv", Table.Header, Enumerable.Range(0, 5).Select(_ => new[] { "7", "no", "A", "0" }).ToList(), [2, 3, 4, 5, 6]);
        Assert.Equal("income", LinearFeatures.FitBinned(constant, Schema, [0, 1, 2, 3, 4]).ColumnNames()[0]);
    }

    [Fact]
    public void EdgesAreSavedAndChecked()
    {
        var all = Enumerable.Range(0, 11).ToArray();
        var f = LinearFeatures.FitBinned(Table, Schema, all);
        JsonObject Json() => JsonNode.Parse(f.ToJson().ToJsonString())!.AsObject();
        LinearFeatures Load(JsonObject json) => LinearFeatures.FromJson(JsonFields.Of(JsonNode.Parse(json.ToJsonString())!.AsObject(), "tabular.json", "linear_features"));
        var back = Load(Json());
        Assert.Equal(f.Transform(Table, all).ColumnIndex, back.Transform(Table, all).ColumnIndex);
        Assert.Equal(f.ColumnNames(), back.ColumnNames());

        var unordered = Json();
        unordered["numeric"]![0]!["bin_edges"]![1] = -1.0;
        var e = Assert.Throws<ModelFormatException>(() => Load(unordered));
        Assert.Contains("bin_edges: edge 1 (-1) is not above the one before", e.Message);
        var overlapping = Json();
        overlapping["numeric"]![0]!["missing_column"] = 3;   // a bin's column
        e = Assert.Throws<ModelFormatException>(() => Load(overlapping));
        Assert.Contains("column 3 is used twice", e.Message);
    }

    [Fact]
    public void TheBinnedMemberNeedsANumber()
    {
        Assert.Null(TabularModel.CannotRead(TabularLearner.BinnedLogistic, Schema));
        var categoriesOnly = Schema with { Columns = Schema.Columns.Where(c => c.Type == ColumnType.Categorical).ToArray() };
        Assert.Equal("the table has no numeric column", TabularModel.CannotRead(TabularLearner.BinnedLogistic, categoriesOnly));
    }
}
