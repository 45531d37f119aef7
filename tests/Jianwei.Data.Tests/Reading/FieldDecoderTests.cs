using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Jianwei.Data.Tests;

public class FieldDecoderTests
{
    // One-, two-, three- and four-byte UTF-8 (the last as a surrogate pair in UTF-16).
    private static readonly Gen<string> Piece = Gen.Elements("a", "Z", "7", " ", "é", "ß", "中", "贷款", "，", "😀", "𠀀", "\uFFFD");

    [Fact]
    public void DecodesLikeTheRuntimeWhateverTheMixAndTheCache()
    {
        // Values are drawn from a small pool so the same column sees repeats (cache hits), mixed with
        // long values (the transcoding path); every decode must equal the string the bytes came from.
        var value = Piece.ListOf().Select(p => string.Concat(p));
        var rowsOfColumn = Gen.Choose(1, 12).SelectMany(poolSize =>
            value.ArrayOf(poolSize).SelectMany(pool => Gen.Choose(0, poolSize - 1).Select(k => pool[k]).ArrayOf()));
        Prop.ForAll(rowsOfColumn.ToArbitrary(), values =>
        {
            var decoder = new FieldDecoder();
            foreach (var v in values)
            {
                if (!decoder.TryDecode(3, Encoding.UTF8.GetBytes(v), out var back) || back != v) return false;
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void RepeatedShortValuesShareOneStringAndUniqueOnesTurnTheCacheOff()
    {
        var decoder = new FieldDecoder();
        string[] grades = ["A", "B", "制造业", "批发和零售业"];
        var first = new Dictionary<string, string>();
        for (int row = 0; row < 5000; row++)
        {
            var g = grades[row % grades.Length];
            Assert.True(decoder.TryDecode(0, Encoding.UTF8.GetBytes(g), out var s));
            Assert.Equal(g, s);
            if (!first.TryAdd(g, s)) Assert.Same(first[g], s);   // no new allocation once seen

            var id = $"C{row:D6}";                                  // unique per row, like an identifier
            Assert.True(decoder.TryDecode(1, Encoding.UTF8.GetBytes(id), out var idBack));
            Assert.Equal(id, idBack);
        }
        Assert.True(decoder.IsCaching(0));
        Assert.False(decoder.IsCaching(1));
    }

    [Fact]
    public void InvalidBytesFailAndAreNeverCached()
    {
        var decoder = new FieldDecoder();
        byte[] shortBad = [0xE4, 0xB8, 0x28];                                  // a three-byte lead cut short
        byte[] longBad = [.. Encoding.UTF8.GetBytes(new string('中', 20)), 0xFF];
        byte[] surrogate = [0xED, 0xA0, 0x80];                                 // U+D800 encoded: not UTF-8
        foreach (var bad in new[] { shortBad, longBad, surrogate, shortBad })
        {
            Assert.False(decoder.TryDecode(0, bad, out var s));
            Assert.Equal("", s);
        }
        Assert.True(decoder.TryDecode(0, "中"u8, out var ok));
        Assert.Equal("中", ok);
    }

    [Theory]
    [InlineData("industry")]
    [InlineData("profile")]
    public void TypedReaderNamesLineAndColumnOfUndecodableBytes(string column)
    {
        var schema = new TableSchema
        {
            Columns = [new("industry", ColumnRole.Feature, ColumnType.Categorical), new("profile", ColumnRole.Feature, ColumnType.Text)],
        };
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-decoder-{Guid.NewGuid():N}.csv");
        var good = Encoding.UTF8.GetBytes("industry,profile\n" + string.Concat(Enumerable.Repeat("制造业,一家生产汽车零部件的企业，成立于2015年\n", 100)));
        byte[] bad = column == "industry"
            ? [.. "制造"u8.ToArray(), 0xE4, 0xB8, .. ",正常的简介\n"u8.ToArray()]
            : [.. "制造业,一家"u8.ToArray(), 0xC3, 0x28, .. "企业\n"u8.ToArray()];
        File.WriteAllBytes(path, [.. good, .. bad]);
        try
        {
            using var r = new TypedRowReader(path, schema);
            for (int i = 0; i < 100; i++) Assert.True(r.Read());
            var e = Assert.Throws<DataFormatException>(() => r.Read());
            Assert.Equal(102, e.Line);
            Assert.Equal(column, e.Column);
            Assert.Contains("not valid in the file's encoding", e.Message);
        }
        finally { File.Delete(path); }
    }
}
