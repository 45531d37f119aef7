using System.Text;
using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;
using System.Text.RegularExpressions;

namespace Jianwei.Models.Features;

/// <summary>How text becomes terms.</summary>
public enum TextAnalyzer
{
    /// <summary>Words of two or more letters or digits (scikit-learn's token pattern), then n-grams of words.</summary>
    Word,
    /// <summary>Character n-grams after collapsing runs of whitespace (scikit-learn's "char" analyzer): the choice for Chinese.</summary>
    Char,
}

/// <summary>
/// TF-IDF as scikit-learn's TfidfVectorizer computes it: terms seen in at least <c>minDf</c> training
/// documents, the <c>maxFeatures</c> most frequent kept, tf = 1 + ln(count) (sublinear), idf =
/// ln((1 + n)/(1 + df)) + 1 (smooth), and each row scaled to unit L2 norm.
/// </summary>
public sealed partial class TfidfVectorizer
{
    private readonly Dictionary<string, int> _index;

    private TfidfVectorizer(TextAnalyzer analyzer, int minN, int maxN, string[] terms, double[] idf)
    {
        Analyzer = analyzer; MinN = minN; MaxN = maxN; Terms = terms; Idf = idf;
        _index = terms.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
    }

    /// <summary>Adds the fitted parts (analyzer, n-gram range, terms, idf) to <paramref name="o"/>.</summary>
    public JsonObject WriteTo(JsonObject o)
    {
        o["analyzer"] = Analyzer.ToString(); o["min_n"] = MinN; o["max_n"] = MaxN;
        o["terms"] = new JsonArray(Terms.Select(t => (JsonNode)t!).ToArray());
        o["idf"] = new JsonArray(Idf.Select(v => (JsonNode)v).ToArray());
        return o;
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote: n-grams of 1 to 10, distinct terms, one finite positive idf per term.</summary>
    public static TfidfVectorizer FromJson(JsonFields json)
    {
        int minN = json.Int("min_n", 1, 10), maxN = json.Int("max_n", minN, 10);
        var terms = json.Strings("terms");
        var idf = json.Numbers("idf", terms.Length, min: 0);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in terms) if (!seen.Add(t)) throw json.Error("terms", $"the term '{(t.Length > 30 ? t[..30] + "…" : t)}' appears twice.");
        return new TfidfVectorizer(json.Enum<TextAnalyzer>("analyzer"), minN, maxN, terms, idf);
    }

    /// <summary>The analyzer.</summary>
    public TextAnalyzer Analyzer { get; }
    /// <summary>Smallest n-gram.</summary>
    public int MinN { get; }
    /// <summary>Largest n-gram.</summary>
    public int MaxN { get; }
    /// <summary>The vocabulary, in column order (sorted, as scikit-learn orders it).</summary>
    public string[] Terms { get; }
    /// <summary>Inverse document frequency of each term.</summary>
    public double[] Idf { get; }

    [GeneratedRegex(@"\b\w\w+\b")] private static partial Regex WordPattern();
    [GeneratedRegex(@"\s\s+")] private static partial Regex Spaces();

    /// <summary>The terms of one document, with repeats.</summary>
    public static IEnumerable<string> Analyze(string? text, TextAnalyzer analyzer, int minN, int maxN)
    {
        if (string.IsNullOrEmpty(text)) yield break;
        text = text.ToLowerInvariant();
        if (analyzer == TextAnalyzer.Word)
        {
            var words = WordPattern().Matches(text).Select(m => m.Value).ToArray();
            for (int n = minN; n <= maxN; n++)
                for (int i = 0; i + n <= words.Length; i++)
                    yield return n == 1 ? words[i] : string.Join(' ', words, i, n);
        }
        else
        {
            text = Spaces().Replace(text, " ");
            var runes = text.EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (int n = minN; n <= maxN; n++)
                for (int i = 0; i + n <= runes.Length; i++)
                    yield return n == 1 ? runes[i] : string.Concat(runes.AsSpan(i, n));
        }
    }

    /// <summary>Learns the vocabulary and idf from training documents.</summary>
    public static TfidfVectorizer Fit(IReadOnlyList<string?> documents, TextAnalyzer analyzer, int minN = 1, int maxN = 2, int minDf = 2, int maxFeatures = 50_000)
    {
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        var tf = new Dictionary<string, long>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var doc in documents)
        {
            seen.Clear();
            foreach (var t in Analyze(doc, analyzer, minN, maxN))
            {
                tf[t] = tf.GetValueOrDefault(t) + 1;
                if (seen.Add(t)) df[t] = df.GetValueOrDefault(t) + 1;
            }
        }
        var kept = df.Where(kv => kv.Value >= minDf).Select(kv => kv.Key)
            .OrderByDescending(t => tf[t]).ThenBy(t => t, StringComparer.Ordinal).Take(maxFeatures)
            .Order(StringComparer.Ordinal).ToArray();
        int n = documents.Count;
        var idf = kept.Select(t => Math.Log((1.0 + n) / (1.0 + df[t])) + 1).ToArray();
        return new TfidfVectorizer(analyzer, minN, maxN, kept, idf);
    }

    /// <summary>The unit-norm TF-IDF vector of a document as (column, value) pairs, columns offset by <paramref name="offset"/>.</summary>
    public List<(int Column, float Value)> Transform(string? document, int offset = 0)
    {
        var counts = new Dictionary<int, int>();
        foreach (var t in Analyze(document, Analyzer, MinN, MaxN))
            if (_index.TryGetValue(t, out int j)) counts[j] = counts.GetValueOrDefault(j) + 1;
        var row = counts.Select(kv => (kv.Key, (1 + Math.Log(kv.Value)) * Idf[kv.Key])).ToList();
        double norm = Math.Sqrt(row.Sum(e => e.Item2 * e.Item2));
        return row.OrderBy(e => e.Key).Select(e => (e.Key + offset, (float)(e.Item2 / (norm > 0 ? norm : 1)))).ToList();
    }
}
