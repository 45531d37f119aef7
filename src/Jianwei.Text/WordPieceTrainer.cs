namespace Jianwei.Text;

/// <summary>Settings of <see cref="WordPieceTrainer"/>.</summary>
/// <param name="VocabularySize">Target size, special tokens included.</param>
/// <param name="MinFrequency">Pairs seen fewer times than this are never merged; characters seen fewer times are left out (CJK ideographs excepted).</param>
/// <param name="SpecialTokens">Tokens placed first, in order (default: [PAD] [UNK] [CLS] [SEP] [MASK]); column tags go here too.</param>
/// <param name="LowerCase">Lower-case and strip accents before counting (as the tokenizer will).</param>
/// <param name="IncludeAllCjk">Put every CJK Unified Ideograph of the basic block (U+4E00–U+9FFF) in the vocabulary, seen or not.</param>
/// <param name="Segmenter">With <paramref name="ChineseWords"/> &gt; 0: the segmenter whose multi-character Chinese words are counted.</param>
/// <param name="ChineseWords">How many of the most frequent multi-character Chinese words (seen at least MinFrequency times) to add
/// as whole tokens — the word + character vocabulary of WoBERT; they take places of the target size.</param>
public sealed record WordPieceTrainerOptions(int VocabularySize = 8000, int MinFrequency = 2, IReadOnlyList<string>? SpecialTokens = null,
                                             bool LowerCase = true, bool IncludeAllCjk = false, ChineseSegmenter? Segmenter = null, int ChineseWords = 0);

/// <summary>
/// Trains a WordPiece vocabulary from texts the way Hugging Face's WordPieceTrainer does: words from
/// the basic tokenizer are spelled as a first character and "##"-prefixed continuations, then the
/// most frequent adjacent pair is merged repeatedly (BPE) until the target size is reached.
/// Single CJK characters seen in the texts are always included. Deterministic: ties are broken by
/// the pair's text, and nothing depends on hash order.
/// </summary>
public static class WordPieceTrainer
{
    /// <summary>Builds the vocabulary.</summary>
    public static Vocabulary Train(IEnumerable<string?> texts, WordPieceTrainerOptions? options = null)
    {
        options ??= new WordPieceTrainerOptions();
        if (options.ChineseWords > 0 && options.Segmenter is null)
            throw new ArgumentException("ChineseWords needs a Segmenter.", nameof(options));
        var (counts, chineseWords) = CountWords(texts, options);
        var vocab = new VocabularyBuilder(options.SpecialTokens ?? Vocabulary.DefaultSpecialTokens);
        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (Symbols: Spell(kv.Key), Count: kv.Value)).ToList();
        AddAlphabet(vocab, words, chineseWords, options);
        new PairMerger(words).Merge(vocab, options);
        return new Vocabulary(vocab.Tokens);
    }

    /// <summary>Step 1: word counts (and, for a word + character vocabulary, Chinese word counts).</summary>
    private static (Dictionary<string, long> Words, Dictionary<string, long> ChineseWords) CountWords(IEnumerable<string?> texts, WordPieceTrainerOptions options)
    {
        var basic = new BasicTokenizer(options.LowerCase);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var chineseWords = new Dictionary<string, long>(StringComparer.Ordinal);
        var buffer = new List<string>();
        foreach (var text in texts)
        {
            buffer.Clear();
            basic.Tokenize(text, buffer);
            foreach (var w in buffer) counts[w] = counts.GetValueOrDefault(w) + 1;
            if (options.ChineseWords > 0)
                foreach (var w in options.Segmenter!.Cut(text))
                    if (w.Length > 1 && w.All(c => CharClass.IsCjk(c))) chineseWords[w] = chineseWords.GetValueOrDefault(w) + 1;
        }
        return (counts, chineseWords);
    }

    /// <summary>Step 2: the alphabet — initial and continuation characters by frequency — and the chosen whole Chinese words.</summary>
    private static void AddAlphabet(VocabularyBuilder vocab, List<(string[] Symbols, long Count)> words, Dictionary<string, long> chineseWords, WordPieceTrainerOptions options)
    {
        var charFreq = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (symbols, count) in words) foreach (var s in symbols) charFreq[s] = charFreq.GetValueOrDefault(s) + count;
        foreach (var (s, f) in charFreq.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            bool cjk = CharClass.ContainsCjk(s);
            if (f >= options.MinFrequency || cjk) vocab.Add(s);
            if (cjk && !s.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal)) vocab.Add(Vocabulary.ContinuationPrefix + s);
        }
        if (options.IncludeAllCjk)
            for (int cp = 0x4E00; cp <= 0x9FFF; cp++) vocab.Add(char.ConvertFromUtf32(cp));
        foreach (var (w, _) in chineseWords.Where(kv => kv.Value >= options.MinFrequency)
                     .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(options.ChineseWords))
            vocab.Add(w);
    }

    /// <summary>Tokens in order of addition, each once.</summary>
    private sealed class VocabularyBuilder(IEnumerable<string> specials)
    {
        public readonly List<string> Tokens = [.. specials];
        private readonly HashSet<string> _seen = new(specials, StringComparer.Ordinal);
        public int Count => Tokens.Count;
        public void Add(string t) { if (_seen.Add(t)) Tokens.Add(t); }
    }

    /// <summary>Step 3: BPE merges of the most frequent adjacent pair, with incremental pair counts and a priority queue (stale entries skipped).</summary>
    private sealed class PairMerger(List<(string[] Symbols, long Count)> words)
    {
        private readonly Dictionary<(string, string), long> _pairCounts = [];
        private readonly Dictionary<(string, string), HashSet<int>> _pairWhere = [];

        public void Merge(VocabularyBuilder vocab, WordPieceTrainerOptions options)
        {
            for (int w = 0; w < words.Count; w++) CountPairs(w, +1);
            var queue = new PriorityQueue<(string A, string B), (long NegCount, string Key)>(Comparer<(long, string)>.Create((x, y) =>
                x.Item1 != y.Item1 ? x.Item1.CompareTo(y.Item1) : string.CompareOrdinal(x.Item2, y.Item2)));
            foreach (var (p, c) in _pairCounts) queue.Enqueue(p, (-c, p.Item1 + " " + p.Item2));
            while (vocab.Count < options.VocabularySize && queue.TryDequeue(out var pair, out var prio))
            {
                long current = _pairCounts.GetValueOrDefault(pair);
                if (current != -prio.NegCount) { if (current > 0) queue.Enqueue(pair, (-current, prio.Key)); continue; }   // stale entry
                if (current < options.MinFrequency) break;
                string merged = pair.Item1 + (pair.Item2.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) ? pair.Item2[2..] : pair.Item2);
                vocab.Add(merged);
                foreach (var p in Apply(pair, merged))
                    if (_pairCounts.TryGetValue(p, out long c) && c > 0) queue.Enqueue(p, (-c, p.Item1 + " " + p.Item2));
            }
        }

        /// <summary>Merges <paramref name="pair"/> in every word holding it; returns the pairs whose counts changed.</summary>
        private HashSet<(string, string)> Apply((string A, string B) pair, string merged)
        {
            var affected = _pairWhere.GetValueOrDefault(pair)?.ToArray() ?? [];
            Array.Sort(affected);
            var touched = new HashSet<(string, string)>();
            foreach (int w in affected)
            {
                CountPairs(w, -1, touched);
                var s = words[w].Symbols;
                var next = new List<string>(s.Length);
                for (int i = 0; i < s.Length; i++)
                {
                    if (i + 1 < s.Length && s[i] == pair.A && s[i + 1] == pair.B) { next.Add(merged); i++; }
                    else next.Add(s[i]);
                }
                words[w] = (next.ToArray(), words[w].Count);
                CountPairs(w, +1, touched);
            }
            return touched;
        }

        private void CountPairs(int w, int sign, HashSet<(string, string)>? touched = null)
        {
            var (s, count) = words[w];
            for (int i = 0; i + 1 < s.Length; i++)
            {
                var p = (s[i], s[i + 1]);
                _pairCounts[p] = _pairCounts.GetValueOrDefault(p) + sign * count;
                if (!_pairWhere.TryGetValue(p, out var set)) _pairWhere[p] = set = new HashSet<int>();
                if (sign > 0) set.Add(w);
                touched?.Add(p);
            }
            if (sign < 0)
                for (int i = 0; i + 1 < s.Length; i++) _pairWhere[(s[i], s[i + 1])].Remove(w);
        }
    }

    /// <summary>"loan" → ["l", "##o", "##a", "##n"] (code points, surrogate pairs kept whole).</summary>
    private static string[] Spell(string word)
    {
        var parts = new List<string>();
        foreach (var r in word.EnumerateRunes()) parts.Add(parts.Count == 0 ? r.ToString() : Vocabulary.ContinuationPrefix + r.ToString());
        return [.. parts];
    }
}
