namespace Jianwei.Data.Tests;

public class SchemaTests
{
    [Theory]
    [InlineData("83.70%", 0.837)]
    [InlineData("1,234.5", 1234.5)]
    [InlineData("¥12,000", 12000)]
    [InlineData("(123)", -123)]
    [InlineData("-4.5e3", -4500)]
    [InlineData("12000元", 12000)]
    [InlineData(" 7 ", 7)]
    [InlineData("$1,000,000.25", 1000000.25)]
    [InlineData("-¥12", -12)]
    [InlineData("５０", double.NaN)]   // full-width digits are not a number here (kept as text)
    [InlineData("1,2", double.NaN)]    // not a thousands grouping
    [InlineData("12,34,567", double.NaN)]
    [InlineData("abc", double.NaN)]
    [InlineData("", double.NaN)]
    public void NumbersAsBankExportsWriteThem(string text, double expected)
    {
        bool ok = ValueParser.TryParseNumber(text, out double v);
        if (double.IsNaN(expected)) Assert.False(ok, $"'{text}' parsed as {v}");
        else { Assert.True(ok, $"'{text}' did not parse"); Assert.Equal(expected, v, 9); }
    }

    [Fact]
    public void MissingMarkersBooleansAndDates()
    {
        var p = new ValueParser();
        foreach (var m in new[] { "", " ", "NA", "N/A", "null", "NULL", "NaN", "-", "--", "无", "空", "暂无" }) Assert.True(p.IsMissing(m), m);
        Assert.False(p.IsMissing("0"));
        Assert.False(new ValueParser(["?"]).IsMissing("NA"));
        Assert.True(ValueParser.TryParseBoolean("是", out bool t) && t);
        Assert.True(ValueParser.TryParseBoolean("No", out bool f) && !f);
        Assert.True(ValueParser.TryParseDate("2023年5月1日", out var d) && d == new DateTime(2023, 5, 1));
        Assert.True(ValueParser.TryParseDate("2023-05-01 13:45:00", out _));
        Assert.False(ValueParser.TryParseDate("20230501x", out _));
    }

    private static RawTable Table(string[] header, params string[][] rows) =>
        new("t.csv", header, rows.ToList(), Enumerable.Range(2, rows.Length).Select(i => (long)i).ToList());

    [Fact]
    public void InfersTypesAndRoles()
    {
        var rows = Enumerable.Range(0, 40).Select(i => new[]
        {
            $"L{i:D4}", (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture) + "%", i % 2 == 0 ? "是" : "否", i % 3 == 0 ? "A" : "B",
            $"第{i}号公司经营范围包括软件开发和技术咨询服务", $"2023-01-{1 + i % 28:D2}", (i % 2).ToString(), i % 5 == 0 ? "NA" : "x", "", i < 30 ? "0" : "1",
        }).ToArray();
        var s = SchemaInference.Infer(Table(["loan_id", "growth", "flag", "grade", "profile", "date", "dummy", "mostly", "empty", "label"], rows));
        string Show(string n) { var c = s.Find(n)!; return $"{c.Role} {c.Type}"; }
        Assert.Equal("Identifier Categorical", Show("loan_id"));
        Assert.Equal("Feature Numeric", Show("growth"));
        Assert.Equal("Feature Boolean", Show("flag"));
        Assert.Equal("Feature Categorical", Show("grade"));
        Assert.Equal("Feature Text", Show("profile"));
        Assert.Equal("Feature DateTime", Show("date"));
        Assert.Equal("Feature Boolean", Show("dummy"));
        Assert.Equal("Feature Categorical", Show("mostly"));
        Assert.Equal("Ignore Categorical", Show("empty"));
        Assert.Equal("Label Categorical", Show("label"));   // found by name
        Assert.Equal("1", s.PositiveClass);
    }

    [Fact]
    public void LabelProblemsAreClearErrors()
    {
        var t = Table(["a", "y"], ["1", "0"], ["2", "0"]);
        var e = Assert.Throws<DataFormatException>(() => SchemaInference.Infer(t, "target"));
        Assert.Equal("target", e.Column);
        Assert.Contains("label column is missing", e.Message);
        e = Assert.Throws<DataFormatException>(() => SchemaInference.Infer(t, "y"));
        Assert.Contains("single class ('0')", e.Message);
        e = Assert.Throws<DataFormatException>(() => SchemaInference.Infer(Table(["y"], ["0"], ["1"]), "y", positiveClass: "bad"));
        Assert.Contains("positive class 'bad' does not occur", e.Message);
    }

    // Expected roles of every shared dataset, written down by reading the files.
    public static TheoryData<string, string, string, string> SharedExpectations => new()
    {
        { "modeldata_lending_club.csv", "Class", "bad", "funded_amnt=Feature Numeric; term=Feature Categorical; int_rate=Feature Numeric; sub_grade=Feature Categorical; addr_state=Feature Categorical; verification_status=Feature Categorical; annual_inc=Feature Numeric; emp_length=Feature Categorical; revol_util=Feature Numeric; Class=Label Categorical" },
        { "modeldata_credit_data.csv", "Status", "bad", "Status=Label Categorical; Seniority=Feature Numeric; Home=Feature Categorical; Time=Feature Numeric; Marital=Feature Categorical; Records=Feature Boolean; Job=Feature Categorical; Income=Feature Numeric; Price=Feature Numeric" },
        { "caret_GermanCredit.csv", "Class", "Bad", "Duration=Feature Numeric; Amount=Feature Numeric; Telephone=Feature Boolean; ForeignWorker=Feature Boolean; Class=Label Categorical; CheckingAccountStatus.lt.0=Feature Boolean" },
        // great/other: no name marks the positive class, so the rarer one is guessed (users pass --positive great, as the anchors do)
        { "modeldata_small_fine_foods.csv", "score", "other", "product=Identifier Categorical; review=Feature Text; score=Label Categorical; split=Feature Categorical" },
        { "zh_ChnSentiCorp_htl_all.csv", "label", "1", "label=Label Categorical; review=Feature Text" },
        { "zh_waimai_10k.csv", "label", "1", "label=Label Categorical; review=Feature Text" },
    };

    [SharedTheory, MemberData(nameof(SharedExpectations))]
    public void InfersTheSharedDatasets(string file, string label, string positive, string expected)
    {
        var table = RawTable.Load(SharedData.Path_("datasets", file));
        var schema = SchemaInference.Infer(table, label);
        Assert.Equal(positive, schema.PositiveClass);
        foreach (var item in expected.Split("; "))
        {
            var (name, roleType) = (item[..item.IndexOf('=')], item[(item.IndexOf('=') + 1)..]);
            var col = schema.Find(name);
            Assert.NotNull(col);
            Assert.Equal(roleType, $"{col!.Role} {col.Type}");
        }
    }

    [Fact]
    public void SchemaFileRoundTripsAndChecksScoringHeaders()
    {
        var schema = new TableSchema
        {
            Columns = [new("id", ColumnRole.Identifier, ColumnType.Categorical), new("income", ColumnRole.Feature, ColumnType.Numeric), new("y", ColumnRole.Label, ColumnType.Categorical)],
            Label = "y", PositiveClass = "bad",
        };
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-schema-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, schema.ToJson());
            Assert.Contains("\"role\": \"Identifier\"", File.ReadAllText(path));
            var back = TableSchema.Load(path);
            Assert.Equal(schema.Columns, back.Columns);
            Assert.Equal("bad", back.PositiveClass);
            back.CheckHeader(["id", "income"], "new.csv", needLabel: false);
            var e = Assert.Throws<DataFormatException>(() => back.CheckHeader(["id", "y"], "new.csv", needLabel: true));
            Assert.Equal("income", e.Column);
            Assert.Contains("numeric feature", e.Message);
            File.WriteAllText(path, "{\"columns\": [{\"name\": \"a\", \"role\": \"Sideways\", \"type\": \"Numeric\"}]}");
            Assert.Contains(path, Assert.Throws<DataFormatException>(() => TableSchema.Load(path)).Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void StatisticsByHand()
    {
        var t = Table(["v", "c", "txt"], ["1", "a", "abcd"], ["2", "a", "ab"], ["NA", "b", ""], ["4", "a", "abcdef"], ["3", "NA", "ab"]);
        var schema = new TableSchema { Columns = [new("v", ColumnRole.Feature, ColumnType.Numeric), new("c", ColumnRole.Feature, ColumnType.Categorical), new("txt", ColumnRole.Feature, ColumnType.Text)] };
        var stats = ColumnStatistics.Compute(t, schema);
        Assert.Equal(0.2, stats[0].MissingRate, 9);
        Assert.Equal([1, 1.15, 1.75, 2.5, 3.25, 3.85, 4], stats[0].Quantiles!, new DoubleTolerance(1e-9));
        Assert.Equal(2.5, stats[0].Mean!.Value, 9);
        Assert.Equal(("a", 3), stats[1].TopValues[0]);
        Assert.Equal(2, stats[1].Distinct);
        Assert.Equal(3.5, stats[2].Mean!.Value, 9);   // lengths 4, 2, 6, 2
    }

    private sealed class DoubleTolerance(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(double obj) => 0;
    }
}
