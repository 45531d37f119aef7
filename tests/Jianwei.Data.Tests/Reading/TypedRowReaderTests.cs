namespace Jianwei.Data.Tests;

public class TypedRowReaderTests
{
    private static readonly TableSchema Schema = new()
    {
        Columns =
        [
            new("id", ColumnRole.Identifier, ColumnType.Categorical), new("capital", ColumnRole.Feature, ColumnType.Numeric),
            new("growth", ColumnRole.Feature, ColumnType.Numeric), new("flag", ColumnRole.Feature, ColumnType.Boolean),
            new("since", ColumnRole.Feature, ColumnType.DateTime), new("profile", ColumnRole.Feature, ColumnType.Text),
            new("y", ColumnRole.Label, ColumnType.Categorical), new("junk", ColumnRole.Ignore, ColumnType.Categorical),
        ],
        Label = "y", PositiveClass = "1",
    };

    private static string Write(string content, string ext = ".csv")
    {
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-typed-{Guid.NewGuid():N}{ext}");
        File.WriteAllText(path, content);
        return path;
    }

    [Theory]
    [InlineData(".csv")]
    [InlineData(".jsonl")]
    public void ParsesEveryTypeFromCsvAndJsonLines(string ext)
    {
        var path = ext == ".csv"
            ? Write("id,capital,growth,flag,since,profile,y,extra\nA1,\"¥1,200.5\",17.40%,是,2020-03-01,\"经营,良好\",1,x\nA2,NA,(3.5),0,,暂无,0,x\nA3,$12,-2.5e1%,no,2021年1月2日,text,0,x\n")
            : Write("{\"id\":\"A1\",\"capital\":\"¥1,200.5\",\"growth\":\"17.40%\",\"flag\":\"是\",\"since\":\"2020-03-01\",\"profile\":\"经营,良好\",\"y\":1}\n" +
                    "{\"id\":\"A2\",\"capital\":null,\"growth\":\"(3.5)\",\"flag\":0,\"since\":\"\",\"profile\":\"暂无\",\"y\":0}\n" +
                    "{\"id\":\"A3\",\"capital\":\"$12\",\"growth\":\"-2.5e1%\",\"flag\":\"no\",\"since\":\"2021年1月2日\",\"profile\":\"text\",\"y\":0}\n", ".jsonl");
        try
        {
            using var r = new TypedRowReader(path, Schema, needLabel: true);
            Assert.Equal(["id", "capital", "growth", "flag", "since", "profile", "y"], r.Columns.Select(c => c.Name));
            var rows = new List<(double[] N, string?[] S)>();
            while (r.Read()) rows.Add(((double[])r.Numbers.Clone(), (string?[])r.Strings.Clone()));
            Assert.Equal(3, rows.Count);
            // numbers: capital, growth, flag, since (days since 1970)
            Assert.Equal([1200.5, 0.174, 1, (new DateTime(2020, 3, 1) - DateTime.UnixEpoch).TotalDays], rows[0].N);
            Assert.Equal(new string?[] { "A1", "经营,良好", "1" }, rows[0].S.AsEnumerable());
            Assert.True(double.IsNaN(rows[1].N[0]) && double.IsNaN(rows[1].N[3]));
            Assert.Equal(-3.5, rows[1].N[1]);
            Assert.Equal(0, rows[1].N[2]);
            Assert.Null(rows[1].S[1]);   // 暂无 is a missing marker
            Assert.Equal([12, -0.25, 0], rows[2].N[..3]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ValuesOfTheWrongTypeNameLineAndColumn()
    {
        var path = Write("id,capital,growth,flag,since,profile,y\nA1,1,2,1,2020-01-01,t,1\nA2,lots,2,1,2020-01-01,t,0\n");
        try
        {
            using var r = new TypedRowReader(path, Schema, needLabel: true);
            Assert.True(r.Read());
            var e = Assert.Throws<DataFormatException>(() => r.Read());
            Assert.Equal(3, e.Line);
            Assert.Equal("capital", e.Column);
            Assert.Contains("'lots' is not a numeric value", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AMissingSchemaColumnIsAnErrorNamingIt()
    {
        var path = Write("id,capital,flag,since,profile\nA1,1,1,2020-01-01,t\n");
        try
        {
            var e = Assert.Throws<DataFormatException>(() => new TypedRowReader(path, Schema));
            Assert.Equal("growth", e.Column);
            Assert.Contains("numeric feature", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FastNumberPathGivesTheSameBitsAsDoubleParse()
    {
        var rng = new Random(5);
        var values = Enumerable.Range(0, 3000).Select(i => i switch
        {
            < 1000 => (rng.NextDouble() * 1e6).ToString("F" + rng.Next(0, 8), System.Globalization.CultureInfo.InvariantCulture),
            < 2000 => (-rng.NextDouble() * 100).ToString("F2", System.Globalization.CultureInfo.InvariantCulture),
            _ => rng.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + rng.Next(0, 1000).ToString("D3"),
        }).Concat(["0", "-0.5", "123456789012345", "1234567890123456", "0.1", "17.40", ".5", "5."]).ToList();
        // Grouped thousands ("1,234.5") must read as the ungrouped number; write them quoted.
        var grouped = new[] { "1,234.5", "12,345,678", "-1,000.25", "999" };
        var schema = new TableSchema { Columns = [new("v", ColumnRole.Feature, ColumnType.Numeric)] };
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-fast-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "v\n" + string.Join("\n", values.Concat(grouped.Select(g => $"\"{g}\""))) + "\n1,2\n");
        try
        {
            using var r = new TypedRowReader(path, schema);
            foreach (var text in values.Concat(grouped))
            {
                Assert.True(r.Read());
                Assert.Equal(double.Parse(text, System.Globalization.NumberStyles.Float | System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture), r.Numbers[0]);
            }
        }
        finally { File.Delete(path); }
    }
}
