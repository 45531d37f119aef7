namespace Jianwei.Text.Tests;

public class WordPieceTests
{
    private static readonly Vocabulary Vocab = new(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "re", "##pay", "##ing", "pay", "un", "##able", "😀", "##😀"]);

    [Theory]
    [InlineData("repaying", "re ##pay ##ing")]
    [InlineData("unable", "un ##able")]
    [InlineData("pay", "pay")]
    [InlineData("repayx", "[UNK]")]          // one uncoverable piece makes the whole word unknown
    [InlineData("😀😀", "😀 ##😀")]            // surrogate pairs are never split
    public void GreedyLongestMatch(string word, string expected)
    {
        var ids = new List<int>();
        new WordPiece(Vocab).Encode(word, ids);
        Assert.Equal(expected, string.Join(" ", ids.Select(i => Vocab[i])));
    }

    [Fact]
    public void WordsOverTheLimitAreUnknown()
    {
        var ids = new List<int>();
        var wp = new WordPiece(Vocab, maxCharsPerWord: 5);
        wp.Encode("repay", ids);                       // 5 code points: tokenized
        Assert.Equal(2, ids.Count);
        ids.Clear();
        wp.Encode("repayi", ids);                      // 6: unknown
        Assert.Equal(["[UNK]"], ids.Select(i => Vocab[i]));
        ids.Clear();
        new WordPiece(Vocab).Encode(new string('a', 1 << 20), ids);   // a 1 MB word: unknown, at once
        Assert.Equal(["[UNK]"], ids.Select(i => Vocab[i]));
    }

    [Fact]
    public void MissingUnknownTokenIsAClearError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new WordPiece(new Vocabulary(["a", "b"])));
        Assert.Contains("[UNK]", e.Message);
    }

    [Fact]
    public void VocabularyRoundTripsThroughVocabTxt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-vocab-{Guid.NewGuid():N}.txt");
        try
        {
            Vocab.Save(path);
            var back = Vocabulary.Load(path);
            Assert.Equal(Vocab.Tokens, back.Tokens);
            Assert.Equal(6, back.IdOf("##pay"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void InvalidUtf8VocabularyNamesTheLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-vocab-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllBytes(path, [.. "[PAD]\n[UNK]\n"u8.ToArray(), 0xFF, 0xFE, (byte)'\n']);
            var e = Assert.Throws<InvalidDataException>(() => Vocabulary.Load(path));
            Assert.Contains("line 3", e.Message);
        }
        finally { File.Delete(path); }
    }
}
