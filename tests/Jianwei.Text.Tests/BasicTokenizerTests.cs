namespace Jianwei.Text.Tests;

public class BasicTokenizerTests
{
    private static readonly BasicTokenizer Basic = new();

    [Theory]
    [InlineData("Hello, World!", "hello|,|world|!")]
    [InlineData("Crème Brûlée", "creme|brulee")]
    [InlineData("借款人：张三（法人）", "借|款|人|：|张|三|（|法|人|）")]
    [InlineData("83.70%增长", "83|.|70|%|增|长")]
    [InlineData("a\u3000b", "a|b")]                 // ideographic space is whitespace (Zs)
    [InlineData("tab\tsep\r\nline", "tab|sep|line")]
    [InlineData("x\u2028y", "x|y")]                 // line separator: kept by cleaning, split by whitespace splitting
    [InlineData("ｶﾀｶﾅ カタカナ", "ｶﾀｶﾅ|カタカナ")]   // kana is not split per character (not a CJK ideograph block)
    public void Splits(string text, string expected) => Assert.Equal(expected, string.Join("|", Basic.Tokenize(text)));

    [Fact]
    public void HangulIsDecomposedByAccentStrippingAsInHuggingFace() =>
        // NFD turns syllables into conjoining jamo (letters, not marks), which are kept
        // (expected value printed by Python's unicodedata.normalize('NFD', '한국어')).
        Assert.Equal(["\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165"], Basic.Tokenize("한국어"));

    [Fact]
    public void CasePreservedWhenLowerCasingIsOff()
    {
        var cased = new BasicTokenizer(lowerCase: false);
        Assert.Equal(["Crème", "Brûlée"], cased.Tokenize("Crème Brûlée"));
    }

    [Fact]
    public void NeverSplitTokensSurviveWhole() =>
        Assert.Equal(["[CLS]", "loan", "[SEP]"], new BasicTokenizer(neverSplit: ["[CLS]", "[SEP]"]).Tokenize("[CLS] Loan [SEP]"));

    // Bad input: every case has a defined result and nothing throws.
    [Fact]
    public void NullAndEmptyGiveNothing()
    {
        Assert.Empty(Basic.Tokenize(null));
        Assert.Empty(Basic.Tokenize(""));
        Assert.Empty(Basic.Tokenize("   \t\n "));
    }

    [Fact]
    public void LoneSurrogatesAreDropped()
    {
        Assert.Equal(["ab"], Basic.Tokenize("a\uD800b"));         // lone high surrogate
        Assert.Equal(["ab"], Basic.Tokenize("a\uDC00b"));         // lone low surrogate
        Assert.Equal(["x"], Basic.Tokenize("x\uD83D"));           // truncated pair at the end
        Assert.Equal(["😀"], Basic.Tokenize("😀"));                // a real pair is kept (category So, not punctuation)
    }

    [Fact]
    public void ControlAndZeroWidthCharactersAreDropped()
    {
        Assert.Equal(["abc"], Basic.Tokenize("a\u0000b\u0007c"));
        Assert.Equal(["zerowidth"], Basic.Tokenize("zero\u200Bwidth"));   // U+200B is a format character
        Assert.Equal(["bom"], Basic.Tokenize("\uFEFFbom"));
        Assert.Equal(["rep"], Basic.Tokenize("re\uFFFDp"));
    }

    [Fact]
    public void AMegabyteWordIsOneWord()
    {
        var big = new string('x', 1 << 20);
        var words = Basic.Tokenize(big + " tail");
        Assert.Equal(2, words.Count);
        Assert.Equal(1 << 20, words[0].Length);
    }
}
