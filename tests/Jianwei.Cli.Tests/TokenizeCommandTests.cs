using System.Text.Json;

namespace Jianwei.Cli.Tests;

public class TokenizeCommandTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Program.Run(args, new StringReader(stdin), o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string TempVocab(params string[] tokens)
    {
        var path = Path.Combine(Path.GetTempPath(), $"jianwei-cli-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(path, tokens);
        return path;
    }

    [Fact]
    public void PrintsOneJsonObjectPerLine()
    {
        var vocab = TempVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "loan", "##s", "违", "约");
        try
        {
            var (code, output, err) = Run("Loans\n违约 x\n\n", "tokenize", "--vocab", vocab);
            Assert.Equal(0, code);
            Assert.Equal("", err);
            var lines = output.TrimEnd('\n').Split('\n');
            Assert.Equal(3, lines.Length);
            Assert.Equal("""{"tokens":["loan","##s"],"ids":[5,6]}""", lines[0]);
            Assert.Equal("""{"tokens":["违","约","[UNK]"],"ids":[7,8,1]}""", lines[1]);
            Assert.Equal("""{"tokens":[],"ids":[]}""", lines[2]);
        }
        finally { File.Delete(vocab); }
    }

    [SharedFact]
    public void WordsModeSegmentsAndUsesWholeWords()
    {
        var vocab = TempVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "违约", "风", "险", "贷", "款");
        try
        {
            var (code, output, _) = Run("贷款违约风险\n", "tokenize", "--vocab", vocab, "--words", "--dict", SharedData.Path_("datasets", "jieba_dict.txt"));
            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(output);
            Assert.Equal(["贷款", "违约", "风险"], doc.RootElement.GetProperty("words").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["贷", "款", "违约", "风", "险"], doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()));
        }
        finally { File.Delete(vocab); }
    }

    [Fact]
    public void UserErrorsExitWith2AndOneLine()
    {
        var (code, output, err) = Run("", "tokenize", "--vocab", "/nonexistent/vocab.txt");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("jianwei: --vocab: file not found", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));

        (code, _, err) = Run("", "tokenize");
        Assert.Equal(2, code);
        Assert.Contains("--vocab", err);

        var noUnk = TempVocab("a", "b");
        try
        {
            (code, _, err) = Run("x", "tokenize", "--vocab", noUnk);
            Assert.Equal(2, code);
            Assert.Contains("no [UNK]", err);
        }
        finally { File.Delete(noUnk); }
    }
}
