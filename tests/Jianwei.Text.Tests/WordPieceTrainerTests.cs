namespace Jianwei.Text.Tests;

public class WordPieceTrainerTests
{
    private static readonly string[] Corpus =
    [
        "The borrower is repaying the loan", "Repaying loans on time", "repayment schedule delayed",
        "loan repayment overdue", "paying wages late", "公司拖欠工资", "拖欠货款", "公司招聘催收专员",
        "repaying repaying repaying", null!, "",
    ];

    [Fact]
    public void SpecialTokensComeFirstInOrder()
    {
        var v = WordPieceTrainer.Train(Corpus, new(VocabularySize: 60, MinFrequency: 1, SpecialTokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[C:profile]"]));
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[C:profile]"], v.Tokens.Take(6));
    }

    [Fact]
    public void EverySeenChineseCharacterIsPresentEvenWhenRare()
    {
        var v = WordPieceTrainer.Train(Corpus, new(VocabularySize: 20, MinFrequency: 5));
        foreach (var c in "公司拖欠工资货款招聘催收专员") Assert.True(v.Contains(c.ToString()), $"'{c}' missing");
        Assert.False(v.Contains("w"));   // a Latin letter seen fewer than 5 times at word start is left out
    }

    [Fact]
    public void FrequentPairsAreMergedAndTheResultTokenizesTheCorpus()
    {
        var v = WordPieceTrainer.Train(Corpus, new(VocabularySize: 80, MinFrequency: 2));
        Assert.Contains("repaying", v.Tokens);
        Assert.True(v.Count <= 80);
        var tok = new BertTokenizer(v);
        Assert.Equal(["repaying"], tok.Tokenize("Repaying").Tokens);
        Assert.DoesNotContain("[UNK]", tok.Tokenize("loan repayment").Tokens);
    }

    [Fact]
    public void TrainingIsDeterministic()
    {
        var a = WordPieceTrainer.Train(Corpus, new(VocabularySize: 70, MinFrequency: 1));
        var b = WordPieceTrainer.Train(Corpus.Reverse(), new(VocabularySize: 70, MinFrequency: 1));
        Assert.Equal(a.Tokens, b.Tokens);   // the order of the texts does not matter
    }

    [Fact]
    public void ChineseWordsOptionAddsFrequentWordsAndShortensSequences()
    {
        var seg = ChineseSegmenter.Load(["公司 100", "拖欠 50", "工资 50", "货款 20", "招聘 30", "催收 10", "专员 10"], "tiny");
        string[] texts = ["公司拖欠工资", "拖欠货款", "公司招聘催收专员", "公司拖欠工资"];
        var v = WordPieceTrainer.Train(texts, new(VocabularySize: 200, MinFrequency: 2, Segmenter: seg, ChineseWords: 10));
        Assert.True(v.Contains("公司") && v.Contains("拖欠") && v.Contains("工资"));
        Assert.False(v.Contains("货款"));   // seen once: below the minimum frequency
        var words = new BertTokenizer(v, segmenter: seg, wordUnits: true).Tokenize("公司拖欠工资");
        Assert.Equal(["公司", "拖欠", "工资"], words.Tokens);
        Assert.Throws<ArgumentException>(() => WordPieceTrainer.Train(texts, new(ChineseWords: 5)));
    }

    [Fact]
    public void TokenizerGivesDefinedResultsForBadInput()
    {
        var tok = new BertTokenizer(WordPieceTrainer.Train(Corpus, new(VocabularySize: 60, MinFrequency: 1)));
        Assert.Empty(tok.Tokenize(null).Ids);
        Assert.Empty(tok.Tokenize("").Ids);
        Assert.Empty(tok.Tokenize("\u200B\u0000\uD800").Ids);
        Assert.Equal(["[UNK]"], tok.Tokenize(new string('q', 1 << 20)).Tokens);
    }

    [Fact]
    public void AllCjkOptionCoversTheBasicBlock()
    {
        var v = WordPieceTrainer.Train(["abc"], new(VocabularySize: 10, MinFrequency: 1, IncludeAllCjk: true));
        Assert.True(v.Contains("\u4E00") && v.Contains("\u9FFF"));
    }
}
