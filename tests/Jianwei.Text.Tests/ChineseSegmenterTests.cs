namespace Jianwei.Text.Tests;

/// <summary>
/// Segmentation with ../shared/datasets/jieba_dict.txt. Expected splits were written by hand and
/// checked against jieba 0.42 (Debian python3-jieba) with the same dictionary and HMM off.
/// </summary>
public class ChineseSegmenterTests
{
    private static readonly Lazy<ChineseSegmenter> Segmenter = new(() => ChineseSegmenter.Load(SharedData.Path_("datasets", "jieba_dict.txt")));

    public static TheoryData<string, string> Sentences => new()
    {
        { "我来到北京清华大学", "我|来到|北京|清华大学" },
        { "小微企业贷款违约风险", "小|微|企业|贷款|违约|风险" },
        { "公司法定代表人变更", "公司|法定代表|人|变更" },
        { "他来到了网易杭研大厦", "他|来到|了|网易|杭|研|大厦" },               // 杭研 is unknown: single characters (no HMM)
        { "招聘催收专员，月薪8000元", "招聘|催收|专员|，|月薪|8000|元" },
        { "AT&T公司2025年营收增长83.70%", "AT&T|公司|2025|年|营|收|增长|83|.|70|%" },
        { "经营范围变更为房地产开发及区块链技术", "经营范围|变更|为|房地产|开发|及|区块|链|技术" },
        { "拖欠员工工资被起诉", "拖欠|员工工资|被|起诉" },
        { "工商银行 c# 开发工程师", "工商银行| |c#| |开发|工程师" },
        { "结婚的和尚未结婚的", "结婚|的|和|尚未|结婚|的" },                   // the classic ambiguity, resolved by frequencies
        { "这家公司频繁更换法定代表人", "这家|公司|频繁|更换|法定代表|人" },
        { "abc def", "abc| |def" },
        { "😀表情", "😀|表情" },
    };

    [SharedTheory, MemberData(nameof(Sentences))]
    public void SegmentsLikeJieba(string sentence, string expected) => Assert.Equal(expected, string.Join("|", Segmenter.Value.Cut(sentence)));

    [SharedFact]
    public void WordsConcatenateBackToTheText()
    {
        foreach (var line in File.ReadLines(SharedData.Path_("datasets", "zh_waimai_10k.csv")).Skip(1).Take(500))
            Assert.Equal(line, string.Concat(Segmenter.Value.Cut(line)));
    }

    [SharedFact]
    public void OddInputHasDefinedResults()
    {
        var seg = Segmenter.Value;
        Assert.Empty(seg.Cut(null));
        Assert.Empty(seg.Cut(""));
        Assert.Equal(["\r\n", "空行"], seg.Cut("\r\n空行"));
        Assert.Equal(["a", "\uD800", "b"], seg.Cut("a\uD800b"));   // a lone surrogate is a word of its own, never an error
        var huge = new string('好', 1 << 20);   // a 1 MB run
        Assert.Equal(huge, string.Concat(seg.Cut(huge)));
    }

    [Fact]
    public void DictionaryErrorsNameTheLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => ChineseSegmenter.Load(["公司 100 n", "坏行", "x 1"], "dict.txt"));
        Assert.Equal("dict.txt: line 2: expected 'word frequency [tag]', got '坏行'.", e.Message);
    }

    [Fact]
    public void TinyDictionaryTieBreakAndUnknownRuns()
    {
        // 研究 (freq 10) + 生命 (10) beats 研究生 (5) + 命 (unknown, freq 1): log-probabilities add up.
        var seg = ChineseSegmenter.Load(["研究 10", "研究生 5", "生命 10", "起源 10"], "tiny");
        Assert.Equal(["研究", "生命", "起源"], seg.Cut("研究生命起源"));
        Assert.Equal(["起源", "未", "知"], seg.Cut("起源未知"));
    }

    [SharedFact]
    public void WholeWordIdsGroupTheCharactersOfAWord()
    {
        var vocab = new Vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "贷", "款", "违", "约", "风", "险", "违约"]);
        var chars = new BertTokenizer(vocab, segmenter: Segmenter.Value).Tokenize("贷款违约风险");
        Assert.Equal(["贷", "款", "违", "约", "风", "险"], chars.Tokens);
        Assert.Equal([0, 0, 1, 1, 2, 2], chars.WordIds);
        var words = new BertTokenizer(vocab, segmenter: Segmenter.Value, wordUnits: true).Tokenize("贷款违约风险");
        Assert.Equal(["贷", "款", "违约", "风", "险"], words.Tokens);
        Assert.Equal([0, 0, 1, 2, 2], words.WordIds);
    }
}
