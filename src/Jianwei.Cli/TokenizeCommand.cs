using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Jianwei.Text;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei tokenize --vocab FILE [--dict DICT] [--words]</c>: one JSON object per input line,
/// <c>{"tokens": [...], "ids": [...]}</c>, plus <c>"words"</c> when segmenting.
/// </summary>
internal static class TokenizeCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var vocab = new Option<FileInfo>("--vocab") { Description = "vocab.txt (Hugging Face format, one token per line)", Required = true };
        var dict = new Option<FileInfo?>("--dict") { Description = "jieba-format word dictionary for Chinese segmentation (default: python3-jieba's, if installed)" };
        var words = new Option<bool>("--words") { Description = "segment Chinese into words: print them, and use whole words found in the vocabulary as single tokens" };
        var cased = new Option<bool>("--cased") { Description = "keep case and accents (default: lower-case, as uncased BERT)" };
        var cmd = new Command("tokenize", """
            Tokenize lines from standard input and print one JSON object per line.

            Examples:
              echo "小微企业贷款违约风险" | jianwei tokenize --vocab vocab.txt
              jianwei tokenize --vocab vocab.txt --words --dict jieba_dict.txt < texts.txt
            """) { vocab, dict, words, cased };
        cmd.SetAction(parse =>
        {
            var vocabFile = parse.GetValue(vocab)!;
            if (!vocabFile.Exists) throw new UserErrorException($"--vocab: file not found: {vocabFile.FullName}");
            Vocabulary v;
            try { v = Vocabulary.Load(vocabFile.FullName); }
            catch (InvalidDataException e) { throw new UserErrorException(e.Message); }
            if (v.IdOf("[UNK]") < 0) throw new UserErrorException($"--vocab: {vocabFile.FullName} has no [UNK] token.");

            bool useWords = parse.GetValue(words);
            ChineseSegmenter? segmenter = null;
            var dictPath = ChineseSegmenter.FindDictionary(parse.GetValue(dict)?.FullName);
            if (useWords)
            {
                if (dictPath is null)
                    throw new UserErrorException("--words needs a word dictionary: pass --dict FILE, or install python3-jieba (apt-get install python3-jieba).");
                if (!File.Exists(dictPath)) throw new UserErrorException($"--dict: file not found: {dictPath}");
                try { segmenter = ChineseSegmenter.Load(dictPath); }
                catch (InvalidDataException e) { throw new UserErrorException(e.Message); }
            }
            var tokenizer = new BertTokenizer(v, lowerCase: !parse.GetValue(cased), segmenter: segmenter, wordUnits: useWords);
            string? line;
            while ((line = stdin.ReadLine()) is not null)
            {
                var t = tokenizer.Tokenize(line);
                object result = useWords
                    ? new { tokens = t.Tokens, ids = t.Ids, words = segmenter!.Cut(line) }
                    : new { tokens = t.Tokens, ids = t.Ids };
                stdout.WriteLine(JsonSerializer.Serialize(result, Json));
            }
            return 0;
        });
        return cmd;
    }
}
