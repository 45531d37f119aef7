using Jianwei.Tensors;
using Jianwei.Text;

namespace Jianwei.Models.Pretraining;

/// <summary>
/// One training sequence: [CLS] pieces [SEP]. <paramref name="WordIds"/> gives each piece's word
/// (pieces of one word share it, for whole-word and span masking); −1 marks [CLS] and [SEP].
/// </summary>
public sealed record TokenSequence(int[] Ids, int[] WordIds)
{
    /// <summary>Number of tokens, specials included.</summary>
    public int Length => Ids.Length;
}

/// <summary>A padded batch of sequences.</summary>
public sealed class TokenBatch
{
    /// <summary>The sequences, in batch order.</summary>
    public required IReadOnlyList<TokenSequence> Sequences { get; init; }
    /// <summary>Ids [b, n], padded with [PAD].</summary>
    public required IntTensor Ids { get; init; }
    /// <summary>[b, n]: 1 for real tokens, 0 for padding.</summary>
    public required Tensor KeyMask { get; init; }
    /// <summary>Real tokens in the batch.</summary>
    public int Tokens => Sequences.Sum(s => s.Length);
}

/// <summary>
/// Tokenized texts ready for pretraining: long texts are cut into consecutive windows (no text is
/// lost), and batches group sequences of similar length so that little compute goes to padding.
/// </summary>
public sealed class TokenCorpus
{
    /// <summary>The sequences.</summary>
    public IReadOnlyList<TokenSequence> Sequences { get; }
    /// <summary>The special token ids.</summary>
    public SpecialTokens Special { get; }

    /// <summary>Wraps already tokenized sequences.</summary>
    public TokenCorpus(IReadOnlyList<TokenSequence> sequences, SpecialTokens special)
    {
        Sequences = sequences;
        Special = special;
    }

    /// <summary>
    /// Tokenizes <paramref name="texts"/> into sequences of at most <paramref name="maxLength"/> tokens
    /// including [CLS] and [SEP]. For pretraining (default) empty texts are skipped and a longer text
    /// becomes several windows; with <paramref name="oneSequencePerText"/> (classification) every text
    /// gives exactly one sequence, its first window.
    /// </summary>
    public static TokenCorpus FromTexts(IEnumerable<string?> texts, BertTokenizer tokenizer, int maxLength, bool oneSequencePerText = false)
    {
        if (maxLength < 3) throw new ArgumentOutOfRangeException(nameof(maxLength), "maxLength must leave room for [CLS], [SEP] and a token.");
        var special = SpecialTokens.From(tokenizer.Vocabulary);
        var sequences = new List<TokenSequence>();
        int window = maxLength - 2;
        foreach (var text in texts)
        {
            var t = tokenizer.Tokenize(text);
            for (int start = 0; start < t.Ids.Length || oneSequencePerText && start == 0; start += window)
            {
                int count = Math.Min(window, t.Ids.Length - start);
                var ids = new int[count + 2];
                var words = new int[count + 2];
                ids[0] = special.Cls; words[0] = -1;
                ids[^1] = special.Sep; words[^1] = -1;
                Array.Copy(t.Ids, start, ids, 1, count);
                Array.Copy(t.WordIds, start, words, 1, count);
                sequences.Add(new TokenSequence(ids, words));
                if (oneSequencePerText) break;
            }
        }
        return new TokenCorpus(sequences, special);
    }

    /// <summary>A seeded random split into training and validation sequences.</summary>
    public (TokenCorpus Train, TokenCorpus Validation) Split(double validationFraction, ulong seed)
    {
        if (validationFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), "must be in (0, 1).");
        var order = Enumerable.Range(0, Sequences.Count).ToArray();
        new Rng(seed).Shuffle<int>(order);
        int validation = Math.Max(1, (int)Math.Round(Sequences.Count * validationFraction));
        return (new TokenCorpus(order.Skip(validation).Select(i => Sequences[i]).ToList(), Special),
                new TokenCorpus(order.Take(validation).Select(i => Sequences[i]).ToList(), Special));
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> as index lists: sequences shuffled, sorted by
    /// length within pools of 50 batches, cut into batches of <paramref name="batchSize"/>, and the
    /// batches shuffled. A function of (seed, epoch) alone, so a resumed run sees the same order.
    /// </summary>
    public List<int[]> EpochBatches(int batchSize, ulong seed, int epoch)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var rng = new Rng(Rng.Mix(seed, (ulong)epoch));
        var order = Enumerable.Range(0, Sequences.Count).ToArray();
        rng.Shuffle<int>(order);
        var batches = new List<int[]>();
        int pool = batchSize * 50;
        for (int start = 0; start < order.Length; start += pool)
        {
            var chunk = order.Skip(start).Take(pool).OrderBy(i => Sequences[i].Length).ToArray();
            for (int b = 0; b < chunk.Length; b += batchSize) batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
        }
        var shuffled = batches.ToArray();
        rng.Shuffle<int[]>(shuffled);
        return shuffled.ToList();
    }

    private (int Epoch, int BatchSize, ulong Seed, List<int[]> Batches)? _epochCache;

    /// <summary>
    /// The indices of micro-batch <paramref name="microBatch"/> counted over the whole run: batch k mod B
    /// of epoch k div B (B batches per epoch). A function of (seed, k) alone, which is what lets a
    /// resumed run see exactly the batches the uninterrupted one saw. The current epoch is cached.
    /// </summary>
    public int[] MicroBatch(long microBatch, int batchSize, ulong seed)
    {
        int perEpoch = Math.Max(1, (Sequences.Count + batchSize - 1) / batchSize);
        int epoch = (int)(microBatch / perEpoch);
        if (_epochCache is not { } c || c.Epoch != epoch || c.BatchSize != batchSize || c.Seed != seed)
            _epochCache = c = (epoch, batchSize, seed, EpochBatches(batchSize, seed, epoch));
        return c.Batches[(int)(microBatch % perEpoch) % c.Batches.Count];
    }

    /// <summary>Pads the sequences at <paramref name="indices"/> into one batch.</summary>
    public TokenBatch MakeBatch(IReadOnlyList<int> indices) => MakeBatch(indices.Select(i => Sequences[i]).ToList(), Special.Pad);

    /// <summary>Pads <paramref name="sequences"/> into one batch.</summary>
    public static TokenBatch MakeBatch(IReadOnlyList<TokenSequence> sequences, int padId)
    {
        int b = sequences.Count, n = sequences.Max(s => s.Length);
        var ids = new int[b * n];
        var mask = new float[b * n];
        Array.Fill(ids, padId);
        for (int r = 0; r < b; r++)
        {
            sequences[r].Ids.CopyTo(ids, r * n);
            mask.AsSpan(r * n, sequences[r].Length).Fill(1f);
        }
        return new TokenBatch { Sequences = sequences, Ids = new IntTensor(ids, b, n), KeyMask = Tensor.Wrap(mask, b, n) };
    }
}
