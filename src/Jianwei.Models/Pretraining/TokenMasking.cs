using Jianwei.Tensors;

namespace Jianwei.Models.Pretraining;

/// <summary>Which units are chosen for prediction.</summary>
public enum MaskingUnit
{
    /// <summary>Single pieces, independently (original BERT).</summary>
    Token,
    /// <summary>Whole words: all pieces of a word, or none (for Chinese, the segmenter's words).</summary>
    WholeWord,
    /// <summary>Contiguous spans of whole words with geometric lengths (SpanBERT).</summary>
    Span,
}

/// <summary>How tokens are chosen and corrupted.</summary>
public sealed record MaskingOptions
{
    /// <summary>Fraction of real tokens chosen for prediction.</summary>
    public double Rate { get; init; } = 0.15;
    /// <summary>Of the chosen tokens, the fraction replaced by [MASK].</summary>
    public double MaskFraction { get; init; } = 0.8;
    /// <summary>Of the chosen tokens, the fraction replaced by a random token (the rest stay unchanged).</summary>
    public double RandomFraction { get; init; } = 0.1;
    /// <summary>Unit of choice.</summary>
    public MaskingUnit Unit { get; init; } = MaskingUnit.WholeWord;
    /// <summary>Span masking: parameter p of the geometric span length (in words), SpanBERT's 0.2.</summary>
    public double SpanP { get; init; } = 0.2;
    /// <summary>Span masking: longest span in words.</summary>
    public int MaxSpan { get; init; } = 10;

    /// <summary>Every chosen token becomes [MASK] (for evaluation: the model must predict, never copy).</summary>
    public MaskingOptions AllMask() => this with { MaskFraction = 1, RandomFraction = 0 };
}

/// <summary>A corrupted batch and what to predict.</summary>
/// <param name="Input">Ids [b, n] after corruption.</param>
/// <param name="Where">Flat indices (row·n + column) of the predicted tokens, row-major order.</param>
/// <param name="Targets">The original ids at <paramref name="Where"/>.</param>
public sealed record MaskedBatch(IntTensor Input, IntTensor Where, IntTensor Targets);

/// <summary>
/// BERT's masked-LM corruption: choose ≈ Rate of each sequence's real tokens (never [CLS], [SEP] or
/// padding) by token, whole word or span, then replace 80 % of them by [MASK], 10 % by a random
/// non-special token, and keep 10 %. At least one token is chosen in every sequence with any.
/// </summary>
public sealed class TokenMasker(MaskingOptions options, SpecialTokens special, int vocabSize)
{
    /// <summary>The options.</summary>
    public MaskingOptions Options { get; } = options;

    /// <summary>Positions of <paramref name="sequence"/> to predict, ascending.</summary>
    public int[] Choose(TokenSequence sequence, Rng rng)
    {
        // Units: groups of positions that are chosen together.
        var units = new List<List<int>>();
        int lastWord = int.MinValue;
        for (int i = 0; i < sequence.Length; i++)
        {
            if (sequence.WordIds[i] < 0 || special.Contains(sequence.Ids[i]) && sequence.Ids[i] != special.Unk) { lastWord = int.MinValue; continue; }
            bool joins = Options.Unit != MaskingUnit.Token && sequence.WordIds[i] == lastWord && units.Count > 0;
            if (joins) units[^1].Add(i); else units.Add([i]);
            lastWord = sequence.WordIds[i];
        }
        int real = units.Sum(u => u.Count);
        if (real == 0) return [];
        int budget = Math.Max(1, (int)Math.Round(real * Options.Rate));
        var chosen = new SortedSet<int>();
        if (Options.Unit == MaskingUnit.Span)
        {
            // Spans of whole words: length ~ Geometric(p) clipped to MaxSpan, at a random word.
            int guard = 0;
            while (chosen.Count < budget && guard++ < 100 * budget)
            {
                int length = 1;
                while (length < Options.MaxSpan && rng.NextDouble() > Options.SpanP) length++;
                int start = rng.NextInt(units.Count);
                for (int u = start; u < Math.Min(units.Count, start + length) && chosen.Count < budget; u++)
                    if (chosen.Count + units[u].Count <= budget || chosen.Count == 0) foreach (int p in units[u]) chosen.Add(p);
            }
        }
        else
        {
            var order = Enumerable.Range(0, units.Count).ToArray();
            rng.Shuffle<int>(order);
            foreach (int u in order)
            {
                if (chosen.Count >= budget) break;
                if (chosen.Count + units[u].Count > budget && chosen.Count > 0) continue;   // a word that overflows waits for a shorter one
                foreach (int p in units[u]) chosen.Add(p);
            }
        }
        return chosen.ToArray();
    }

    /// <summary>The id a chosen token becomes: [MASK], a random non-special token, or itself.</summary>
    public int Corrupt(int original, Rng rng)
    {
        double r = rng.NextDouble();
        if (r < Options.MaskFraction) return special.Mask;
        if (r < Options.MaskFraction + Options.RandomFraction)
        {
            int id;
            do id = rng.NextInt(vocabSize); while (special.Contains(id));
            return id;
        }
        return original;
    }

    /// <summary>Corrupts a batch.</summary>
    public MaskedBatch Mask(TokenBatch batch, Rng rng)
    {
        int n = batch.Ids.Dim(1);
        var input = (int[])batch.Ids.Values.Clone();
        var where = new List<int>();
        var targets = new List<int>();
        for (int r = 0; r < batch.Sequences.Count; r++)
            foreach (int p in Choose(batch.Sequences[r], rng))
            {
                int flat = r * n + p;
                where.Add(flat);
                targets.Add(input[flat]);
                input[flat] = Corrupt(input[flat], rng);
            }
        return new MaskedBatch(new IntTensor(input, batch.Ids.Shape.ToArray()), new IntTensor(where.ToArray(), where.Count), new IntTensor(targets.ToArray(), targets.Count));
    }
}
