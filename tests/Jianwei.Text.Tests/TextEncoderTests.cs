namespace Jianwei.Text.Tests;

public class TextEncoderTests
{
    private static readonly Vocabulary Vocab = new(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[C:profile]", "[C:jobs]",
        "a", "b", "c", "d", "e", "f", "g", "h", "公", "司", "催", "收"]);

    private static TextEncoder Encoder(params TextColumn[] cols) => new(new BertTokenizer(Vocab), cols);

    private static string Show(EncodedRow r) => string.Join(" ", r.InputIds.Select(i => Vocab[i]));

    [Fact]
    public void LaysColumnsOutWithTagsSeparatorsAndColumnIds()
    {
        var enc = Encoder(new TextColumn("profile", 10), new TextColumn("jobs", 10));
        var row = enc.Encode(["a b", "催收"]);
        Assert.Equal("[CLS] [C:profile] a b [SEP] [C:jobs] 催 收 [SEP]", Show(row));
        Assert.Equal([0, 1, 1, 1, 1, 2, 2, 2, 2], row.ColumnIds);
        Assert.Equal([-1, -1, 0, 1, -1, -1, 2, 3, -1], row.WordIds);   // words numbered across the row
    }

    [Theory]
    [InlineData(Truncation.Head, "a b c d")]
    [InlineData(Truncation.Tail, "e f g h")]
    [InlineData(Truncation.HeadTail, "a f g h")]   // a quarter from the head, the rest from the tail
    public void TruncatesToTheBudget(Truncation how, string kept)
    {
        var enc = Encoder(new TextColumn("profile", 4, how));
        Assert.Equal($"[CLS] [C:profile] {kept} [SEP]", Show(enc.Encode(["a b c d e f g h"])));
        Assert.Equal(1 + 1 + 4 + 1, enc.MaxLength);
    }

    [Fact]
    public void TheFullTextKeepsEveryPieceWithTheSameWordIds()
    {
        var enc = Encoder(new TextColumn("profile", 3), new TextColumn("jobs", 1, Truncation.Tail));
        var (row, full) = enc.EncodeWithFullText(["a b c d e", "公司 催收"]);
        Assert.Equal(enc.Encode(["a b c d e", "公司 催收"]), row, EncodedRowComparer);
        Assert.Equal("[CLS] [C:profile] a b c [SEP] [C:jobs] 收 [SEP]", Show(row));
        Assert.Equal("[CLS] [C:profile] a b c d e [SEP] [C:jobs] 公 司 催 收 [SEP]", Show(full));
        Assert.Equal([-1, -1, 0, 1, 2, 3, 4, -1, -1, 5, 6, 7, 8, -1], full.WordIds);
        Assert.Equal([-1, -1, 0, 1, 2, -1, -1, 8, -1], row.WordIds);                  // 收 is word 8 in both
    }

    private static readonly IEqualityComparer<EncodedRow> EncodedRowComparer = EqualityComparer<EncodedRow>.Create(
        (a, b) => a!.InputIds.SequenceEqual(b!.InputIds) && a.ColumnIds.SequenceEqual(b.ColumnIds) && a.WordIds.SequenceEqual(b.WordIds));

    [Fact]
    public void MissingTextsAndUntaggedColumnsAreFine()
    {
        var enc = Encoder(new TextColumn("other", 3));   // no [C:other] in the vocabulary: no tag
        Assert.Equal("[CLS] [SEP]", Show(enc.Encode([null])));
        Assert.Equal("[CLS] a [UNK] [SEP]", Show(enc.Encode(["a zz"])));
    }

    [Fact]
    public void WindowsCoverALongTextWithOverlap()
    {
        var enc = Encoder(new TextColumn("profile", 4));
        var windows = enc.Windows("a b c d e f g", column: 0, window: 4, stride: 3);
        Assert.Equal(["[CLS] [C:profile] a b c d [SEP]", "[CLS] [C:profile] d e f g [SEP]"], windows.Select(Show));
        Assert.Single(enc.Windows("", 0, 4, 3));
    }

    [Fact]
    public void WrongNumberOfTextsIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Encoder(new TextColumn("profile", 4)).Encode(["a", "b"]));
        Assert.Contains("Expected 1 texts", e.Message);
    }
}
