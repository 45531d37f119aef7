using Jianwei.Data;
using Jianwei.Models.Features;

namespace Jianwei.Models.Tests;

public class TreeFeaturesTests
{
    private static readonly TableSchema Schema = new()
    {
        Columns =
        [
            new("id", ColumnRole.Identifier, ColumnType.Categorical), new("income", ColumnRole.Feature, ColumnType.Numeric),
            new("grade", ColumnRole.Feature, ColumnType.Categorical), new("owner", ColumnRole.Feature, ColumnType.Boolean),
            new("since", ColumnRole.Feature, ColumnType.DateTime), new("profile", ColumnRole.Feature, ColumnType.Text),
            new("y", ColumnRole.Label, ColumnType.Categorical),
        ],
        Label = "y", PositiveClass = "1",
    };

    private static RawTable Table(params string[][] rows) =>
        new("t.csv", ["id", "income", "grade", "owner", "since", "profile", "y"], rows.ToList(), Enumerable.Range(2, rows.Length).Select(i => (long)i).ToList());

    [Fact]
    public void EncodesForTreesWithVocabulariesFromTrainingRowsOnly()
    {
        var t = Table(
            ["a", "1,200", "A", "yes", "2020-01-01", "text", "0"],
            ["b", "NA", "B", "no", "", "text", "1"],
            ["c", "300", "A", "1", "2021-01-01", "text", "0"],
            ["d", "50%", "Z", "0", "2022-01-01", "text", "1"]);   // Z appears only outside training
        var f = TreeFeatures.Fit(t, Schema, [0, 1, 2]);
        Assert.Equal(["income", "grade", "owner", "since"], f.Names);   // no identifier, label or text
        Assert.Equal([false, true, false, false], f.Categorical);
        var m = f.Transform(t, [0, 1, 3]);
        Assert.Equal(1200f, m.Values[0]);
        Assert.Equal(CategoricalVocabulary.UnknownId + 1, m.Values[1]);                // A: most frequent → id 2
        Assert.Equal(1f, m.Values[2]);
        Assert.Equal((float)(new DateTime(2020, 1, 1) - DateTime.UnixEpoch).TotalDays, m.Values[3]);
        Assert.True(float.IsNaN(m.Values[4]) && float.IsNaN(m.Values[7]));             // missing income and date
        Assert.Equal(CategoricalVocabulary.UnknownId, m.Values[9]);                    // unseen Z: unknown, no crash
        Assert.Equal(0.5f, m.Values[8]);
    }

    [Fact]
    public void UnparsableValuesNameLineAndColumn()
    {
        var t = Table(["a", "100", "A", "yes", "2020-01-01", "x", "0"], ["b", "lots", "A", "no", "2020-01-01", "x", "1"]);
        var f = TreeFeatures.Fit(t, Schema, [0]);
        var e = Assert.Throws<DataFormatException>(() => f.Transform(t, [0, 1]));
        Assert.Equal(3, e.Line);
        Assert.Equal("income", e.Column);
    }
}
