using System.Text;

namespace Jianwei.Data.Tests;

/// <summary>Input that is accepted but wrong, or that a native library must never see: the data layer's rules.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jianwei-hostile-data").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("1e39")]
    [InlineData("-1e308")]
    [InlineData("3.5e38")]
    [InlineData("1,000,000,000,000,000,000,000,000,000,000,000,000,000")]
    public void NumbersBeyondFloat32AreRefusedNotInfinite(string text)
    {
        Assert.True(ValueParser.TryParseNumber(text, out double d) && double.IsFinite(d));   // a number, so schema inference keeps the column numeric
        Assert.True(double.IsNaN(ValueParser.ToNumber(text, ColumnType.Numeric)));           // but never a value a model computes with
        Assert.Contains("outside the range of numbers Jianwei computes with", ValueParser.Problem(text, ColumnType.Numeric));
    }

    [Fact]
    public void TheLargestFloat32StillParses()
    {
        Assert.Equal(3.4e38, ValueParser.ToNumber("3.4e38", ColumnType.Numeric));
        Assert.Equal(-3.4e38, ValueParser.ToNumber("-3.4e38", ColumnType.Numeric));
        Assert.Equal("'abc' is not a numeric value.", ValueParser.Problem("abc", ColumnType.Numeric));
    }

    [Fact]
    public void TheTypedReaderRefusesAnOutOfRangeCellWithItsLineAndColumn()
    {
        var path = Path.Combine(_dir, "big.csv");
        File.WriteAllText(path, "id,income\n1,12.5\n2,1e39\n");
        var schema = new TableSchema { Columns = [new("id", ColumnRole.Identifier, ColumnType.Categorical), new("income", ColumnRole.Feature, ColumnType.Numeric)] };
        using var reader = new TypedRowReader(path, schema);
        Assert.True(reader.Read());
        var e = Assert.Throws<DataFormatException>(() => reader.Read());
        Assert.Equal((3L, "income"), (e.Line!.Value, e.Column!));
        Assert.Contains("'1e39' is outside the range", e.Message);
    }

    [Fact]
    public void ChineseThatStartsAfterTheFirstMegabyteIsStillGb18030()
    {
        // 1.5 MB of ASCII rows, then GB18030 text: detection from the start alone would say UTF-8 and fail there.
        var path = Path.Combine(_dir, "late.csv");
        var ascii = new StringBuilder("id,note\n");
        for (int i = 0; ascii.Length < 1_500_000; i++) ascii.Append(i).Append(",plain ascii text\n");
        var bytes = Encoding.ASCII.GetBytes(ascii.ToString()).Concat(EncodingDetector.Gb18030.GetBytes("999999,小微企业贷款违约\n")).ToArray();
        File.WriteAllBytes(path, bytes);
        Assert.Equal(54936, EncodingDetector.Detect(path).CodePage);
        Assert.Equal("小微企业贷款违约", RawTable.Load(path).Rows[^1][1]);
        // Valid UTF-8 stays UTF-8: 1.5 MB of ASCII (so the whole file is read), then 1.5 MB of Chinese whose
        // three-byte characters straddle the 1 MB read blocks.
        var chinese = new StringBuilder(ascii.ToString());
        for (int i = 0; chinese.Length < 2_300_000; i++) chinese.Append(i).Append(",小微企业贷款违约风险\n");
        File.WriteAllText(path, chinese.ToString(), new UTF8Encoding(false));
        Assert.True(new FileInfo(path).Length > 3_000_000);
        Assert.Equal(Encoding.UTF8.CodePage, EncodingDetector.Detect(path).CodePage);
        Assert.Equal("小微企业贷款违约风险", RawTable.Load(path).Rows[^1][1]);
    }

    [Fact]
    public void ANamedEncodingIsUsedStrictlyAndTheMessageSaysHowToChangeIt()
    {
        var path = Path.Combine(_dir, "gbk.csv");
        File.WriteAllBytes(path, EncodingDetector.Gb18030.GetBytes("公司,金额\n小微企业,12\n"));
        var strictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var e = Assert.Throws<DataFormatException>(() => RawTable.Load(path, new ReadOptions { Encoding = strictUtf8 }));
        Assert.Contains("--encoding", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void ADirectoryIsNotADataFile()
    {
        var e = Assert.Throws<DataFormatException>(() => RawTable.Load(_dir));
        Assert.Contains("is a directory, not a data file", e.Message);
    }

    [Fact]
    public void ASchemaWithHolesIsAnErrorNamingTheFile()
    {
        foreach (var json in new[] { "{\"columns\": null}", "{\"columns\": [null]}", "{\"columns\": [{\"role\": \"Feature\", \"type\": \"Numeric\"}]}", "{\"columns\": [], \"missingMarkers\": null}" })
            Assert.StartsWith("s.json:", Assert.Throws<DataFormatException>(() => TableSchema.FromJson(json, "s.json")).Message);
    }

    [Fact]
    public void SchemaInferenceRecordsTheLabelsClasses()
    {
        var table = new RawTable("t.csv", ["x", "y"], [["1", "b"], ["2", "a"], ["3", "c"], ["4", ""]], [2, 3, 4, 5]);
        var schema = SchemaInference.Infer(table, "y", "c");
        Assert.Equal(["a", "b", "c"], schema.LabelClasses);
        Assert.Equal(["a", "b", "c"], TableSchema.FromJson(schema.ToJson(), "t.json").LabelClasses);
    }
}
