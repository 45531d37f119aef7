using Jianwei.Models.Multimodal;
using Jianwei.Text;

namespace Jianwei.Models.Tests.Multimodal;

public class KeywordBagTests
{
    [Fact]
    public void Fnv1aMatchesThePublishedTestVectors()
    {
        // From the FNV reference (Fowler/Noll/Vo, test vectors for FNV-1a 32-bit).
        Assert.Equal(0x811c9dc5u, KeywordBag.Fnv1a([]));
        Assert.Equal(0xe40c292cu, KeywordBag.Fnv1a("a"u8));
        Assert.Equal(0xbf9cf968u, KeywordBag.Fnv1a("foobar"u8));
    }

    /// <summary>[CLS] [C:a] 7 8 9 [SEP] [C:b] 9 [SEP]: column 1 holds the words (7 8) and (9), column 2 the word (9).</summary>
    private static EncodedRow TwoColumns() => new(
        InputIds: [2, 50, 7, 8, 9, 3, 51, 9, 3],
        ColumnIds: [0, 1, 1, 1, 1, 1, 2, 2, 2],
        WordIds: [-1, -1, 0, 0, 1, -1, -1, 2, -1]);

    /// <summary>The bucket of a key, its integers laid out little-endian by hand.</summary>
    private static int Bucket(int buckets, params int[] key) =>
        (int)(KeywordBag.Fnv1a(key.SelectMany(BitConverter.GetBytes).ToArray()) % (uint)buckets);

    [Fact]
    public void WordsAndBigramsOfEachColumnAreHashedWithTheColumnAndNormalized()
    {
        const int B = 1 << 20;
        var (buckets, values, columns) = KeywordBag.Of(TwoColumns(), B, order: 2);
        // Column 1: unigrams (7 8) and (9), the bigram (7 8)(9); column 2: the unigram (9) — which lands
        // elsewhere than column 1's (9), the column being part of the key. Four counts of 1: each 1/√4.
        var expected = new[] { (1, Bucket(B, 1, 1, 7, 8)), (1, Bucket(B, 1, 1, 9)), (1, Bucket(B, 1, 2, 7, 8, -1, 9)), (2, Bucket(B, 2, 1, 9)) }
            .Order().ToArray();
        Assert.Equal(expected.Select(e => e.Item2), buckets);
        Assert.Equal(expected.Select(e => e.Item1), columns);
        Assert.All(values, v => Assert.Equal(0.5f, v, 6));
        Assert.NotEqual(Bucket(B, 1, 1, 9), Bucket(B, 2, 1, 9));
    }

    [Fact]
    public void RepeatsAreCountedAndColumnsStayApartInASharedBucket()
    {
        // One column, the word (5) twice: unigram (5) counted 2, bigram (5)(5) once; norm √5.
        var twice = new EncodedRow([2, 50, 5, 5, 3], [0, 1, 1, 1, 1], [-1, -1, 0, 1, -1]);
        var (buckets, values, _) = KeywordBag.Of(twice, 1 << 20, order: 3);
        var byBucket = buckets.Zip(values).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal(2, byBucket.Count);
        Assert.Equal(2 / MathF.Sqrt(5), byBucket[Bucket(1 << 20, 1, 1, 5)], 6);
        Assert.Equal(1 / MathF.Sqrt(5), byBucket[Bucket(1 << 20, 1, 2, 5, -1, 5)], 6);
        // One bucket for everything: column 1's three keys count 3 there, column 2's one key 1; norm √10.
        (buckets, values, var columns) = KeywordBag.Of(TwoColumns(), 1, order: 3);
        Assert.Equal([0, 0], buckets);
        Assert.Equal([1, 2], columns);
        Assert.Equal(3 / MathF.Sqrt(10), values[0], 6);
        Assert.Equal(1 / MathF.Sqrt(10), values[1], 6);
    }

    [Fact]
    public void TrigramsJoinThreeAdjacentWordsOfOneColumn()
    {
        // [CLS] [C:a] 4 (5 6) 7 [SEP] [C:b] 8 [SEP]: column 1 holds the words (4), (5 6), (7).
        var row = new EncodedRow([2, 50, 4, 5, 6, 7, 3, 51, 8, 3], [0, 1, 1, 1, 1, 1, 1, 2, 2, 2], [-1, -1, 0, 1, 1, 2, -1, -1, 3, -1]);
        const int B = 1 << 20;
        var occurrences = KeywordBag.Occurrences(row, B, order: 3);
        // In reading order: each word's unigram, then the n-grams starting there; none crosses into column 2.
        Assert.Equal(new[]
        {
            (1, Bucket(B, 1, 1, 4), 2, 3), (1, Bucket(B, 1, 2, 4, -1, 5, 6), 2, 5), (1, Bucket(B, 1, 3, 4, -1, 5, 6, -1, 7), 2, 6),
            (1, Bucket(B, 1, 1, 5, 6), 3, 5), (1, Bucket(B, 1, 2, 5, 6, -1, 7), 3, 6),
            (1, Bucket(B, 1, 1, 7), 5, 6),
            (2, Bucket(B, 2, 1, 8), 8, 9),
        }, occurrences);
        // Order 2 is the same bag without the trigram: the keys of unigrams and bigrams do not depend on the order asked for.
        Assert.Equal(occurrences.Where(o => o.Item2 != Bucket(B, 1, 3, 4, -1, 5, 6, -1, 7)), KeywordBag.Occurrences(row, B, order: 2));
        Assert.All(KeywordBag.Of(row, B, order: 3).Values, v => Assert.Equal(1 / MathF.Sqrt(7), v, 6));
    }

    /// <summary>Three rows of one column: words 7 and 8; word 7; words 7, 7 and 9.</summary>
    private static readonly EncodedRow[] ThreeRows =
    [
        new([2, 50, 7, 8, 3], [0, 1, 1, 1, 1], [-1, -1, 0, 1, -1]),
        new([2, 50, 7, 3], [0, 1, 1, 1], [-1, -1, 0, -1]),
        new([2, 50, 7, 7, 9, 3], [0, 1, 1, 1, 1, 1], [-1, -1, 0, 1, 2, -1]),
    ];

    [Fact]
    public void InverseDocumentFrequenciesWeighTheBagAsTfidfDoes()
    {
        // Three rows of one column, 4 buckets (a word's bucket set by hand through the modulus): the bag
        // of order 1 holds each word once per occurrence.
        const int B = 1 << 20;
        var rows = ThreeRows;
        var idf = KeywordBag.InverseDocumentFrequencies(rows, B, order: 1);
        int b7 = Bucket(B, 1, 1, 7), b8 = Bucket(B, 1, 1, 8), b9 = Bucket(B, 1, 1, 9);
        // smooth idf: ln((1 + 3)/(1 + df)) + 1 — df 3 for word 7, 1 for 8 and 9, 0 for a bucket no row holds.
        Assert.Equal(1f, idf[b7], 6);
        Assert.Equal((float)(Math.Log(2) + 1), idf[b8], 6);
        Assert.Equal((float)(Math.Log(4) + 1), idf[Enumerable.Range(0, B).First(b => b != b7 && b != b8 && b != b9)], 6);
        // Row 3: counts (7: 2, 9: 1) times idf (1, ln 2 + 1), L2-normalized.
        var (buckets, values, _) = KeywordBag.Of(rows[2], B, order: 1, idf);
        double v7 = 2 * 1.0, v9 = Math.Log(2) + 1, norm = Math.Sqrt(v7 * v7 + v9 * v9);
        var byBucket = buckets.Zip(values).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal((float)(v7 / norm), byBucket[b7], 6);
        Assert.Equal((float)(v9 / norm), byBucket[b9], 6);
        Assert.Equal(norm, KeywordBag.Norm(KeywordBag.Occurrences(rows[2], B, order: 1), idf), 5);
    }

    [Fact]
    public void ReadLikeLogisticRegressionTheBagDropsRareBucketsDampsRepeatsAndSkipsPunctuation()
    {
        const int B = 1 << 20;
        var rows = ThreeRows;
        // min_df 2: words 8 and 9 are in one row each, and no row holds the other buckets; all get idf 0.
        var idf = KeywordBag.InverseDocumentFrequencies(rows, B, order: 1, minDf: 2);
        int b7 = Bucket(B, 1, 1, 7);
        Assert.Equal(1f, idf[b7], 6);
        Assert.Equal(B - 1, idf.Count(v => v == 0));
        // Row 3 keeps word 7 alone, its count 2 damped to 1 + ln 2, then L2-normalized to 1.
        var (buckets, values, _) = KeywordBag.Of(rows[2], B, order: 1, idf, sublinearTf: true);
        Assert.Equal([b7], buckets);
        Assert.Equal([1f], values);
        // Without min_df, the damped count against word 9's: (1 + ln 2, ln 2 + 1) · idf, normalized.
        var all = KeywordBag.InverseDocumentFrequencies(rows, B, order: 1);
        (buckets, values, _) = KeywordBag.Of(rows[2], B, order: 1, all, sublinearTf: true);
        double v7 = 1 + Math.Log(2), v9 = Math.Log(2) + 1, norm = Math.Sqrt(v7 * v7 + v9 * v9);
        Assert.Equal((float)(v7 / norm), buckets.Zip(values).Single(p => p.First == b7).Second, 6);
        Assert.Equal(norm, KeywordBag.Norm(KeywordBag.Occurrences(rows[2], B, order: 1), all, sublinearTf: true), 5);

        // A word of punctuation pieces is no word: n-grams join the words either side of it, as the token
        // pattern \w\w+ leaves "good ! food" as "good food".
        var silent = new bool[64];
        silent[60] = true;
        var row = new EncodedRow([2, 50, 7, 60, 9, 3], [0, 1, 1, 1, 1, 1], [-1, -1, 0, 1, 2, -1]);   // words 7, "!", 9
        Assert.Equal(new[] { Bucket(B, 1, 1, 7), Bucket(B, 1, 2, 7, -1, 9), Bucket(B, 1, 1, 9) },
                     KeywordBag.Occurrences(row, B, order: 2, silent).Select(o => o.Bucket));
        Assert.Contains(Bucket(B, 1, 1, 60), KeywordBag.Occurrences(row, B, order: 2).Select(o => o.Bucket));
        // Which pieces are punctuation: no letter or digit once a continuation's ## is off; special tokens are not.
        var vocabulary = new Vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "!", "，", "##.", "a", "##b", "好", "3", "##"]);
        Assert.Equal([false, false, false, false, false, true, true, true, false, false, false, false, true], KeywordBag.Punctuation(vocabulary));
    }

    [Fact]
    public void ARowWithoutWordsHasAnEmptyBag()
    {
        var empty = new EncodedRow([2, 50, 3], [0, 1, 1], [-1, -1, -1]);
        var (buckets, values, columns) = KeywordBag.Of(empty, 16, order: 3);
        Assert.Empty(buckets); Assert.Empty(values); Assert.Empty(columns);
        Assert.Throws<ArgumentOutOfRangeException>(() => KeywordBag.Of(empty, 0, order: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeywordBag.Of(empty, 16, order: 0));
    }
}
