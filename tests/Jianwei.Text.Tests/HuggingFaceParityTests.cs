using System.Text.Json;

namespace Jianwei.Text.Tests;

/// <summary>Every case of ../shared/fixtures/tokenizer/cases.jsonl, token for token and id for id.</summary>
public class HuggingFaceParityTests
{
    [SharedFact]
    public void EveryFixtureCaseMatchesBertTokenizer()
    {
        var vocab = Vocabulary.Load(SharedData.Path_("fixtures", "tiny-bert", "vocab.txt"));
        var tokenizer = new BertTokenizer(vocab);
        int n = 0;
        foreach (var line in File.ReadLines(SharedData.Path_("fixtures", "tokenizer", "cases.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var text = doc.RootElement.GetProperty("text").GetString()!;
            var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray();
            var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var result = tokenizer.Tokenize(text);
            Assert.True(tokens.SequenceEqual(result.Tokens), $"case {n} {JsonSerializer.Serialize(text)}: expected [{string.Join(" ", tokens)}], got [{string.Join(" ", result.Tokens)}]");
            Assert.Equal(ids, result.Ids);
            Assert.Equal(ids, tokenizer.EncodeIds(text));
            n++;
        }
        Assert.Equal(17, n);
    }
}
