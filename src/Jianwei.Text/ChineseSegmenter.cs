using System.Globalization;
using System.Text;

namespace Jianwei.Text;

/// <summary>
/// Dictionary-based Chinese word segmentation with jieba's algorithm and dictionary format
/// (<c>word freq [pos]</c> per line): for each run of Han characters and ASCII alphanumerics, build
/// the DAG of dictionary words starting at each position, and take the path that maximizes
/// Σ log(freq/total) (right to left, ties to the longer word). Unknown runs stay single characters,
/// except that adjacent single ASCII letters and digits are joined — jieba's <c>cut(HMM=False)</c>.
/// No HMM: unknown multi-character words are not guessed, which keeps the result a pure function of
/// the dictionary (and whole-word masking then masks such runs character by character).
/// </summary>
public sealed class ChineseSegmenter
{
    // Word frequencies; every prefix of a word is present too (with 0 if not itself a word), so the
    // DAG can stop extending as soon as a fragment is not a prefix of anything.
    private readonly Dictionary<string, long> _freq;
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _freqBySpan;
    private readonly double _logTotal;

    private ChineseSegmenter(Dictionary<string, long> freq, long total)
    {
        _freq = freq;
        _freqBySpan = freq.GetAlternateLookup<ReadOnlySpan<char>>();
        _logTotal = Math.Log(Math.Max(total, 1));
    }

    /// <summary>Number of dictionary words (prefix entries excluded).</summary>
    public int WordCount { get; private init; }

    /// <summary>Where Debian's <c>python3-jieba</c> keeps its dictionary.</summary>
    public const string DebianDictionaryPath = "/usr/lib/python3/dist-packages/jieba/dict.txt";

    /// <summary>The dictionary path to use: the given one, else Debian's python3-jieba copy if installed, else null.</summary>
    public static string? FindDictionary(string? explicitPath = null)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return explicitPath;
        var env = Environment.GetEnvironmentVariable("JIANWEI_JIEBA_DICT");
        if (!string.IsNullOrEmpty(env) && File.Exists(env)) return env;
        return File.Exists(DebianDictionaryPath) ? DebianDictionaryPath : null;
    }

    /// <summary>Loads a jieba-format dictionary; malformed lines are reported with their number.</summary>
    public static ChineseSegmenter Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Word dictionary not found: {path}", path);
        return Load(Utf8Lines.Read(path), path);
    }

    /// <summary>Loads a dictionary from lines (<paramref name="name"/> is used in error messages).</summary>
    public static ChineseSegmenter Load(IEnumerable<string> lines, string name)
    {
        var freq = new Dictionary<string, long>(400_000, StringComparer.Ordinal);
        long total = 0;
        int words = 0, lineNo = 0;
        foreach (var line in lines)
        {
            lineNo++;
            var l = line.Trim();
            if (l.Length == 0) continue;
            var parts = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long f))
                throw new InvalidDataException($"{name}: line {lineNo}: expected 'word frequency [tag]', got '{Shorten(l)}'.");
            var word = parts[0];
            freq[word] = f;
            total += f;
            words++;
            for (int i = 1; i < word.Length; i++)
            {
                if (char.IsHighSurrogate(word[i - 1])) continue;   // prefixes end on code-point boundaries
                freq.TryAdd(word[..i], 0);
            }
        }
        return new ChineseSegmenter(freq, total) { WordCount = words };
    }

    private static string Shorten(string s) => s.Length > 60 ? s[..60] + "…" : s;

    /// <summary>True for characters jieba segments with the dictionary (its re_han_default class).</summary>
    private static bool IsBlockChar(char c) =>
        c is >= '\u4E00' and <= '\u9FD5' or >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '+' or '#' or '&' or '.' or '_' or '%' or '-';

    private static bool IsAsciiAlnum(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9';

    /// <summary>The words of <paramref name="text"/>, in order; concatenated they give the text back.</summary>
    public List<string> Cut(string? text)
    {
        var words = new List<string>();
        if (string.IsNullOrEmpty(text)) return words;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            if (IsBlockChar(text[i]))
            {
                while (i < text.Length && IsBlockChar(text[i])) i++;
                CutBlock(text, start, i - start, words);
            }
            else
            {
                // Outside blocks: "\r\n" and each whitespace character are words, as is every other
                // character on its own (surrogate pairs kept together).
                if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i += 2;
                else if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i += 2;
                else i++;
                words.Add(text[start..i]);
            }
        }
        return words;
    }

    /// <summary>jieba's __cut_DAG_NO_HMM on text[offset, offset+n).</summary>
    private void CutBlock(string text, int offset, int n, List<string> words)
    {
        var span = text.AsSpan(offset, n);
        // best[k]: log-probability of the best segmentation of span[k..]; next[k]: end of its first word
        var best = n <= 512 ? stackalloc double[n + 1] : new double[n + 1];
        var next = n <= 512 ? stackalloc int[n] : new int[n];
        best[n] = 0;
        for (int k = n - 1; k >= 0; k--)
        {
            double bestScore = double.NegativeInfinity;
            int bestEnd = k + 1;
            bool any = false;
            for (int end = k + 1; end <= n; end++)
            {
                if (!_freqBySpan.TryGetValue(span[k..end], out long f)) break;   // not a prefix of any word
                if (f == 0) continue;                                            // a prefix only
                any = true;
                double score = Math.Log(f) - _logTotal + best[end];
                if (score >= bestScore) { bestScore = score; bestEnd = end; }    // ties go to the longer word
            }
            if (!any) { bestScore = -_logTotal + best[k + 1]; bestEnd = k + 1; }  // unknown: one character, freq 1
            best[k] = bestScore;
            next[k] = bestEnd;
        }
        var pending = new StringBuilder();   // consecutive single ASCII alphanumerics are joined
        for (int x = 0; x < n;)
        {
            int y = next[x];
            if (y - x == 1 && IsAsciiAlnum(span[x])) pending.Append(span[x]);
            else
            {
                if (pending.Length > 0) { words.Add(pending.ToString()); pending.Clear(); }
                words.Add(span[x..y].ToString());
            }
            x = y;
        }
        if (pending.Length > 0) words.Add(pending.ToString());
    }
}
