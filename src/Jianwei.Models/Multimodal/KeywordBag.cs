using Jianwei.Text;

namespace Jianwei.Models.Multimodal;

/// <summary>
/// The keyword channel's input (issue 23): a row's word n-grams (1 to <see cref="DefaultOrder"/> words),
/// each tagged with its text column, hashed into a fixed number of buckets (the hashing trick,
/// Weinberger et al. 2009, as fastText hashes its n-grams) with L2-normalized counts — the bag of
/// n-grams that TF-IDF + logistic regression wins with on text tables. A word is the run of pieces that
/// share a word id in the <see cref="EncodedRow"/>: whole Chinese words when the vocabulary was trained
/// with a segmenter, else single characters, whose 1–3-grams are what logistic regression reads of
/// Chinese text.
/// </summary>
public static class KeywordBag
{
    /// <summary>The longest n-gram of new models: trigrams (models saved before them read bigrams, order 2).</summary>
    public const int DefaultOrder = 3;
    /// <summary>The longest n-gram order accepted.</summary>
    public const int MaxOrder = 5;

    /// <summary>
    /// The row's bag: one entry per distinct (column, bucket), ordered by column then bucket, with its
    /// term frequency — the count, or 1 + ln(count) when <paramref name="sublinearTf"/> (as scikit-learn's
    /// sublinear_tf, what the product's logistic regression reads) — times the bucket's inverse document
    /// frequency (<paramref name="idf"/>; empty: 1 for all), divided by the L2 norm of all the row's such
    /// values: TF-IDF with L2 normalization, as scikit-learn's TfidfVectorizer computes it. A bucket of idf 0
    /// (below the minimum document frequency) is left out, as a term outside the vocabulary is; no entries
    /// for a row without words. An n-gram's key is (column, n, the first word's piece ids, −1, the second's,
    /// …); n-grams never cross columns, and two columns' keys landing in one bucket stay two entries, so
    /// each column's share of the channel is known. Columns are numbered as <see cref="EncodedRow.ColumnIds"/>
    /// numbers them (1 for the first text column). <paramref name="silent"/>: see <see cref="Occurrences"/>.
    /// </summary>
    public static (int[] Buckets, float[] Values, int[] Columns) Of(EncodedRow row, int buckets, int order, ReadOnlySpan<float> idf = default,
                                                                    bool sublinearTf = false, bool[]? silent = null)
    {
        var occurrences = Occurrences(row, buckets, order, silent);
        var counts = new SortedDictionary<(int Column, int Bucket), int>();
        foreach (var o in occurrences)
            if (Idf(idf, o.Bucket) > 0) counts[(o.Column, o.Bucket)] = counts.GetValueOrDefault((o.Column, o.Bucket)) + 1;
        double norm = Norm(occurrences, idf, sublinearTf);
        var values = new float[counts.Count];
        int i = 0;
        foreach (var (key, count) in counts) values[i++] = (float)(Tf(count, sublinearTf) * Idf(idf, key.Bucket) / norm);
        return ([.. counts.Keys.Select(k => k.Bucket)], values, [.. counts.Keys.Select(k => k.Column)]);
    }

    /// <summary>The L2 norm of a row's tf × idf per (column, bucket): what every value of its bag is divided by.</summary>
    public static double Norm(IReadOnlyList<(int Column, int Bucket, int Start, int End)> occurrences, ReadOnlySpan<float> idf = default, bool sublinearTf = false)
    {
        double sum = 0;
        foreach (var (key, count) in occurrences.CountBy(o => (o.Column, o.Bucket)))
        {
            double v = Tf(count, sublinearTf) * Idf(idf, key.Bucket);
            sum += v * v;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>The term frequency of an n-gram seen <paramref name="count"/> times: the count, or 1 + ln(count).</summary>
    public static double Tf(int count, bool sublinear) => sublinear ? 1 + Math.Log(count) : count;

    /// <summary>Bucket b's inverse document frequency, 1 when none is given.</summary>
    public static double Idf(ReadOnlySpan<float> idf, int bucket) => idf.IsEmpty ? 1.0 : idf[bucket];

    /// <summary>
    /// Smoothed inverse document frequencies per bucket over <paramref name="rows"/>' bags (scikit-learn's
    /// smooth_idf): ln((1 + N) / (1 + df)) + 1, df the rows holding the bucket in any column. A bucket held
    /// by fewer than <paramref name="minDf"/> rows gets 0, which leaves its n-grams out of every bag
    /// (scikit-learn's min_df: a term seen in one training text is noise to a linear model, and at scoring
    /// an n-gram never seen in training would only shrink the rest by the L2 norm); with minDf 0 or 1 a
    /// bucket no row holds gets ln(1 + N) + 1, the rarest value, as an unseen term would.
    /// </summary>
    public static float[] InverseDocumentFrequencies(IEnumerable<EncodedRow> rows, int buckets, int order, int minDf = 1, bool[]? silent = null)
    {
        var df = new int[buckets];
        int n = 0;
        foreach (var row in rows)
        {
            n++;
            foreach (int b in Occurrences(row, buckets, order, silent).Select(o => o.Bucket).Distinct()) df[b]++;
        }
        return [.. df.Select(d => minDf > 1 && d < minDf ? 0f : (float)(Math.Log((1.0 + n) / (1.0 + d)) + 1))];
    }

    /// <summary>
    /// The pieces of <paramref name="vocabulary"/> that hold no letter or digit (punctuation, symbols; a
    /// continuation's "##" aside): a word made only of them is not a word to the keyword bag, as
    /// scikit-learn's token pattern \b\w\w+\b skips it; n-grams then join the words on either side.
    /// </summary>
    public static bool[] Punctuation(Vocabulary vocabulary) => [.. vocabulary.Tokens.Select(IsPunctuation)];

    private static bool IsPunctuation(string token)
    {
        if (token.Length > 2 && token[0] == '[' && token[^1] == ']') return false;   // [UNK] and the other special tokens
        var text = token.Length > Vocabulary.ContinuationPrefix.Length && token.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal)
            ? token[Vocabulary.ContinuationPrefix.Length..] : token;
        return !text.Any(char.IsLetterOrDigit);
    }

    /// <summary>
    /// Each n-gram (n = 1 to <paramref name="order"/>) as it occurs in the row, in reading order: its
    /// column, its bucket and the positions [Start, End) of its pieces (an n-gram's words are adjacent).
    /// <see cref="Of"/> counts these; an explanation shares each one's weight out over its pieces. A word
    /// whose pieces are all <paramref name="silent"/> (by piece id; <see cref="Punctuation"/>) is skipped.
    /// </summary>
    public static List<(int Column, int Bucket, int Start, int End)> Occurrences(EncodedRow row, int buckets, int order, bool[]? silent = null)
    {
        if (buckets < 1) throw new ArgumentOutOfRangeException(nameof(buckets), buckets, "at least one bucket.");
        if (order < 1 || order > MaxOrder) throw new ArgumentOutOfRangeException(nameof(order), order, $"n-grams of 1 to {MaxOrder} words.");
        var found = new List<(int, int, int, int)>();
        var words = Words(row, silent);
        for (int w = 0; w < words.Count; w++)
            for (int n = 1; n <= order && w + n <= words.Count && words[w + n - 1].Column == words[w].Column; n++)
                found.Add((words[w].Column, (int)(Hash(row, words, w, n) % (uint)buckets), words[w].Start, words[w + n - 1].End));
        return found;
    }

    /// <summary>The row's words in reading order: column and the positions [Start, End) of its pieces.</summary>
    private static List<(int Column, int Start, int End)> Words(EncodedRow row, bool[]? silent)
    {
        var words = new List<(int, int, int)>();
        for (int i = 0; i < row.Length;)
        {
            if (row.WordIds[i] < 0) { i++; continue; }          // [CLS], a column's tag, [SEP]
            int end = i + 1;
            while (end < row.Length && row.WordIds[end] == row.WordIds[i]) end++;
            if (!IsSilent(row.InputIds.AsSpan(i, end - i), silent)) words.Add((row.ColumnIds[i], i, end));
            i = end;
        }
        return words;
    }

    private static bool IsSilent(ReadOnlySpan<int> pieces, bool[]? silent)
    {
        if (silent is null) return false;
        foreach (int id in pieces) if (id >= silent.Length || !silent[id]) return false;
        return true;
    }

    /// <summary>The key (column, n, first word's ids, −1, second word's ids, …) of words[w..w+n) as little-endian 32-bit integers, hashed by <see cref="Fnv1a"/>.</summary>
    private static uint Hash(EncodedRow row, List<(int Column, int Start, int End)> words, int w, int n)
    {
        int length = 2 + n - 1;
        for (int k = w; k < w + n; k++) length += words[k].End - words[k].Start;
        Span<int> key = length <= 256 ? stackalloc int[length] : new int[length];
        key[0] = words[w].Column; key[1] = n;
        int at = 2;
        for (int k = w; k < w + n; k++)
        {
            if (k > w) key[at++] = -1;
            row.InputIds.AsSpan(words[k].Start, words[k].End - words[k].Start).CopyTo(key[at..]);
            at += words[k].End - words[k].Start;
        }
        if (!BitConverter.IsLittleEndian) for (int i = 0; i < length; i++) key[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(key[i]);
        return Fnv1a(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key));
    }

    /// <summary>32-bit FNV-1a (Fowler, Noll, Vo): offset basis 2166136261, prime 16777619, XOR then multiply per byte.</summary>
    internal static uint Fnv1a(ReadOnlySpan<byte> bytes)
    {
        uint h = 2166136261;
        foreach (byte b in bytes) { h ^= b; h *= 16777619; }
        return h;
    }
}
