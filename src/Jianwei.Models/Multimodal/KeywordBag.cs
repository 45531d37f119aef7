using Jianwei.Text;

namespace Jianwei.Models.Multimodal;

/// <summary>
/// The keyword channel's input (issue 23): a row's words and word bigrams, each tagged with its text
/// column, hashed into a fixed number of buckets (the hashing trick, Weinberger et al. 2009, as
/// fastText hashes its n-grams) with L2-normalized counts — the bag of n-grams that TF-IDF + logistic
/// regression wins with on text tables. A word is the run of pieces that share a word id in the
/// <see cref="EncodedRow"/> (whole Chinese words when the vocabulary was trained with a segmenter), so
/// the bag reads what the transformer reads, within the same budgets.
/// </summary>
public static class KeywordBag
{
    /// <summary>
    /// The row's bag: one entry per distinct (column, bucket), ordered by column then bucket, with its
    /// count divided by the L2 norm of all the row's counts (no entries for a row without words). Unigram
    /// keys are (column, 1, the word's piece ids), bigram keys (column, 2, the first word's ids, −1, the
    /// second's); bigrams never cross columns, and two columns' keys landing in one bucket stay two
    /// entries, so each column's share of the channel is known. Columns are numbered as <see cref="EncodedRow.ColumnIds"/>
    /// numbers them (1 for the first text column).
    /// </summary>
    public static (int[] Buckets, float[] Values, int[] Columns) Of(EncodedRow row, int buckets)
    {
        var occurrences = Occurrences(row, buckets);
        var counts = new SortedDictionary<(int Column, int Bucket), int>();
        foreach (var o in occurrences) counts[(o.Column, o.Bucket)] = counts.GetValueOrDefault((o.Column, o.Bucket)) + 1;
        double norm = Norm(occurrences);
        return ([.. counts.Keys.Select(k => k.Bucket)], [.. counts.Values.Select(c => (float)(c / norm))], [.. counts.Keys.Select(k => k.Column)]);
    }

    /// <summary>The L2 norm of a row's counts per (column, bucket): what every value of its bag is divided by.</summary>
    public static double Norm(IReadOnlyList<(int Column, int Bucket, int Start, int End)> occurrences) =>
        Math.Sqrt(occurrences.CountBy(o => (o.Column, o.Bucket)).Sum(c => (double)c.Value * c.Value));

    /// <summary>
    /// Each n-gram as it occurs in the row, in reading order: its column, its bucket and the positions
    /// [Start, End) of its pieces (a bigram's span covers both words, which are adjacent). <see cref="Of"/>
    /// counts these; an explanation shares each one's weight out over its pieces.
    /// </summary>
    public static List<(int Column, int Bucket, int Start, int End)> Occurrences(EncodedRow row, int buckets)
    {
        if (buckets < 1) throw new ArgumentOutOfRangeException(nameof(buckets), buckets, "at least one bucket.");
        int Bucket(uint hash) => (int)(hash % (uint)buckets);
        var found = new List<(int, int, int, int)>();
        var words = Words(row);
        for (int w = 0; w < words.Count; w++)
        {
            var (column, start, end) = words[w];
            var word = row.InputIds.AsSpan(start, end - start);
            found.Add((column, Bucket(Hash(column, 1, word, [])), start, end));
            if (w + 1 < words.Count && words[w + 1].Column == column)
                found.Add((column, Bucket(Hash(column, 2, word, row.InputIds.AsSpan(words[w + 1].Start, words[w + 1].End - words[w + 1].Start))), start, words[w + 1].End));
        }
        return found;
    }

    /// <summary>The row's words in reading order: column and the positions [Start, End) of its pieces.</summary>
    private static List<(int Column, int Start, int End)> Words(EncodedRow row)
    {
        var words = new List<(int, int, int)>();
        for (int i = 0; i < row.Length;)
        {
            if (row.WordIds[i] < 0) { i++; continue; }          // [CLS], a column's tag, [SEP]
            int end = i + 1;
            while (end < row.Length && row.WordIds[end] == row.WordIds[i]) end++;
            words.Add((row.ColumnIds[i], i, end));
            i = end;
        }
        return words;
    }

    /// <summary>The key (column, order, first word's ids[, −1, second word's ids]) as little-endian 32-bit integers, hashed by <see cref="Fnv1a"/>.</summary>
    private static uint Hash(int column, int order, ReadOnlySpan<int> first, ReadOnlySpan<int> second)
    {
        int length = 2 + first.Length + (second.Length > 0 ? 1 + second.Length : 0);
        Span<int> key = length <= 256 ? stackalloc int[length] : new int[length];
        key[0] = column; key[1] = order;
        first.CopyTo(key[2..]);
        if (second.Length > 0)
        {
            key[2 + first.Length] = -1;
            second.CopyTo(key[(3 + first.Length)..]);
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
