using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Jianwei.Text;

namespace Jianwei.Bench;

/// <summary>
/// Tokenization throughput on one core over the Chinese review files of ../shared/datasets, in MB/s
/// of UTF-8 input: WordPiece (character-level for Chinese), the word segmenter, and word + character
/// tokenization. One JSON object per line.
/// </summary>
internal static class TextBench
{
    public static int Run(string[] args)
    {
        string shared = args.Length > 0 ? args[0] : Path.Combine(FindRoot(), "..", "shared");
        string datasets = Path.Combine(shared, "datasets");
        if (!Directory.Exists(datasets))
        {
            Console.Error.WriteLine($"bench text: {datasets} not found (pass the shared folder as an argument)");
            return 2;
        }
        var texts = new List<string>();
        foreach (var file in new[] { "zh_waimai_10k.csv", "zh_ChnSentiCorp_htl_all.csv" })
            texts.AddRange(ReviewColumn(Path.Combine(datasets, file)));
        long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        Console.Error.WriteLine($"bench text: {texts.Count} reviews, {bytes / 1e6:F1} MB");

        var sw = Stopwatch.StartNew();
        var vocab = WordPieceTrainer.Train(texts, new WordPieceTrainerOptions(VocabularySize: 8000, MinFrequency: 2));
        Emit("wordpiece-train", bytes, sw.Elapsed.TotalSeconds, ("vocab", vocab.Count));

        var segmenter = ChineseSegmenter.Load(Path.Combine(datasets, "jieba_dict.txt"));
        var wordVocab = WordPieceTrainer.Train(texts, new WordPieceTrainerOptions(VocabularySize: 12000, MinFrequency: 2, Segmenter: segmenter, ChineseWords: 4000));
        var plain = new BertTokenizer(vocab);
        var words = new BertTokenizer(wordVocab, segmenter: segmenter, wordUnits: true);
        long tokens = 0;
        Measure("wordpiece", () => { foreach (var t in texts) tokens += plain.EncodeIds(t).Count; });
        Measure("segmenter", () => { foreach (var t in texts) tokens += segmenter.Cut(t).Count; });
        Measure("wordpiece-words", () => { foreach (var t in texts) tokens += words.Tokenize(t).Ids.Length; });
        return 0;

        void Measure(string name, Action pass)
        {
            pass();   // warm-up
            tokens = 0;
            var t = Stopwatch.StartNew();
            int reps = 0;
            do { pass(); reps++; } while (t.Elapsed.TotalSeconds < 3);
            Emit(name, bytes * reps, t.Elapsed.TotalSeconds, ("tokens_per_text", Math.Round(tokens / (double)(texts.Count * reps), 1)));
        }
    }

    private static void Emit(string config, long bytes, double seconds, (string Key, object Value) extra)
    {
        var d = new Dictionary<string, object> { ["config"] = config, ["mb_per_s"] = Math.Round(bytes / 1e6 / seconds, 2), ["threads"] = 1, ["seconds"] = Math.Round(seconds, 2), [extra.Key] = extra.Value };
        Console.WriteLine(JsonSerializer.Serialize(d));
    }

    /// <summary>The "review" column of a two-column label,review CSV (RFC 4180 quoting).</summary>
    private static IEnumerable<string> ReviewColumn(string path)
    {
        var content = File.ReadAllText(path);
        var field = new StringBuilder();
        int col = 0, row = 0;
        bool quoted = false;
        for (int i = 0; i < content.Length; i++)
        {
            char c = content[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < content.Length && content[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { col++; field.Clear(); }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && i + 1 < content.Length && content[i + 1] == '\n') i++;
                if (row++ > 0 && col == 1) yield return field.ToString();
                field.Clear(); col = 0;
            }
            else field.Append(c);
        }
        if (row > 0 && col == 1 && field.Length > 0) yield return field.ToString();
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Jianwei.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
