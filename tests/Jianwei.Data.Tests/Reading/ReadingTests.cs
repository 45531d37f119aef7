using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Jianwei.Data.Tests;

public class ReadingTests
{
    private static string Temp(string ext = ".csv") => Path.Combine(Path.GetTempPath(), $"jianwei-data-{Guid.NewGuid():N}{ext}");

    private static RawTable LoadText(string content, ReadOptions? options = null, string ext = ".csv", Encoding? encoding = null)
    {
        var path = Temp(ext);
        try
        {
            File.WriteAllBytes(path, (encoding ?? new UTF8Encoding(false)).GetPreamble().Concat((encoding ?? new UTF8Encoding(false)).GetBytes(content)).ToArray());
            return RawTable.Load(path, options);
        }
        finally { File.Delete(path); }
    }

    private static DataFormatException Fails(string content, ReadOptions? options = null, string ext = ".csv")
    {
        var path = Temp(ext);
        try
        {
            File.WriteAllText(path, content, new UTF8Encoding(false));
            var e = Assert.Throws<DataFormatException>(() => RawTable.Load(path, options));
            Assert.StartsWith(path, e.Message);   // every message names the file
            return e;
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Rfc4180QuotingEmbeddedNewlinesAndQuotes()
    {
        var t = LoadText("id,text,amount\n1,\"多行\n文本, with \"\"quotes\"\"\",12\n2,plain,3\n");
        Assert.Equal(["id", "text", "amount"], t.Header);
        Assert.Equal(2, t.RowCount);
        Assert.Equal("多行\n文本, with \"quotes\"", t.Rows[0][1]);
        Assert.Equal(4, t.Lines[1]);   // the second row starts on line 4 (the first spans lines 2-3)
    }

    [Theory]
    [InlineData(";")]
    [InlineData("\t")]
    [InlineData("|")]
    [InlineData(",")]
    public void DelimiterIsSniffed(string d)
    {
        var t = LoadText($"a{d}b{d}c\n1{d}2{d}3\n4{d}5{d}6\n");
        Assert.Equal(["a", "b", "c"], t.Header);
        Assert.Equal(["4", "5", "6"], t.Rows[1]);
    }

    [Fact]
    public void TsvAndJsonLines()
    {
        Assert.Equal(["x y", "2"], LoadText("a\tb\nx y\t2\n", ext: ".tsv").Rows[0]);
        var j = LoadText("{\"id\": 1, \"name\": \"小微\", \"ok\": true, \"v\": null}\n\n{\"id\": 2, \"name\": \"b\"}\n", ext: ".jsonl");
        Assert.Equal(["id", "name", "ok", "v"], j.Header);
        Assert.Equal(["1", "小微", "true", ""], j.Rows[0]);
        Assert.Equal(["2", "b", "", ""], j.Rows[1]);
        Assert.Equal(3, j.Lines[1]);
    }

    [Fact]
    public void EncodingsAreDetected()
    {
        const string content = "公司,金额\n小微企业贷款,12\n";
        Assert.Equal("小微企业贷款", LoadText(content, encoding: new UTF8Encoding(true)).Rows[0][0]);        // UTF-8 with BOM
        Assert.Equal("小微企业贷款", LoadText(content, encoding: Encoding.Unicode).Rows[0][0]);              // UTF-16 LE with BOM
        var gb = EncodingDetector.Gb18030;
        var path = Temp();
        try
        {
            File.WriteAllBytes(path, gb.GetBytes(content));
            Assert.Equal(54936, EncodingDetector.Detect(path).CodePage);
            var t = RawTable.Load(path);
            Assert.Equal("小微企业贷款", t.Rows[0][0]);
            Assert.Equal("金额", t.Header[1]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RaggedRowNamesFileAndLine()
    {
        var e = Fails("a,b,c\n1,2,3\n4,5\n");
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void UnterminatedQuoteNamesTheLine()
    {
        var e = Fails("a,b\n1,2\n3,\"never closed\n5,6\n");
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void UndecodableBytesNameLineAndColumn()
    {
        var path = Temp();
        try
        {
            var good = Encoding.UTF8.GetBytes("名称,金额\n" + string.Concat(Enumerable.Repeat("中文文本,1\n", 5000)));   // 64 KB+ of valid UTF-8 first
            File.WriteAllBytes(path, [.. good, .. "bad"u8.ToArray(), 0xC3, 0x28, .. ",2\n"u8.ToArray()]);
            var e = Assert.Throws<DataFormatException>(() => RawTable.Load(path));
            Assert.Equal(5002, e.Line);
            Assert.Equal("名称", e.Column);
            var skipped = RawTable.Load(path, new ReadOptions { SkipBadRows = true });
            Assert.Equal(5000, skipped.RowCount);
            Assert.Equal(5002, Assert.Single(skipped.SkippedRows).Line);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void EmptyFileAndBadHeaders()
    {
        var path = Temp();
        File.WriteAllBytes(path, []);
        try { Assert.Contains("the file is empty", Assert.Throws<DataFormatException>(() => RawTable.Load(path)).Message); }
        finally { File.Delete(path); }
        var dup = Fails("a,b,a\n1,2,3\n");
        Assert.Equal("a", dup.Column);
        Assert.Contains("columns 1 and 3", dup.Message);
        var empty = Fails("a,,c\n1,2,3\n");
        Assert.Equal("#2", empty.Column);
    }

    [Fact]
    public void SkipBadRowsReportsWhichLines()
    {
        var t = LoadText("a,b\n1,2\n3\n4,5\n6,7,8\n9,10\n", new ReadOptions { SkipBadRows = true });
        Assert.Equal(["1", "4", "9"], t.Rows.Select(r => r[0]));
        Assert.Equal([3L, 5L], t.SkippedRows.Select(s => s.Line));
    }

    [Fact]
    public void StreamingReadsRowByRow()
    {
        var path = Temp();
        try
        {
            using (var w = new StreamWriter(path))
            {
                w.WriteLine("id,v");
                for (int i = 0; i < 200_000; i++) w.WriteLine($"{i},{i * 2}");
            }
            long sum = 0; int rows = 0;
            using (var reader = TableReader.Open(path))
                while (reader.Read()) { sum += long.Parse(reader.Current[1]); rows++; }
            Assert.Equal(200_000, rows);
            Assert.Equal(2L * 199_999 * 200_000 / 2, sum);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AnyTableRoundTripsThroughCsv()
    {
        // Property: fields with commas, quotes, newlines, CJK and spaces survive writing and reading.
        var field = Gen.Elements("", "a", "小微", ",", "\"", "\n", "x y", "ab\"c", " lead", "83.70%", "企业,贷款").ListOf().Select(parts => string.Concat(parts));
        var table = field.ArrayOf().Where(r => r.Length == 3).ArrayOf();
        Prop.ForAll(table.ToArbitrary(), rows =>
        {
            var path = Temp();
            try
            {
                var sb = new StringBuilder("c1,c2,c3\n");
                foreach (var r in rows) sb.Append(string.Join(",", r.Select(CsvFormat.Field))).Append('\n');
                File.WriteAllText(path, sb.ToString());
                var back = RawTable.Load(path, new ReadOptions { Delimiter = ',' });
                // An all-empty row is written as ",," (a row of empty fields), which reads back the same.
                return back.RowCount == rows.Length && back.Rows.Zip(rows).All(p => p.First.SequenceEqual(p.Second));
            }
            finally { File.Delete(path); }
        }).QuickCheckThrowOnFailure();
    }
}
