using Jianwei.Tensors;

namespace Jianwei.Models.Multimodal;

public sealed partial class MultimodalTransformer
{
    /// <summary>Integrated Gradients of one row: each input position's share of the logit's change from the baseline.</summary>
    /// <param name="Positions">
    /// Per encoder position ([CLS], cells, then text after [CLS]): Σₑ (x − x′)ₑ · mean ∂logit/∂xₑ along the
    /// path, plus, at text pieces, their share of the keyword channel.
    /// </param>
    /// <param name="Logit">The row's logit.</param>
    /// <param name="BaselineLogit">The baseline's logit; completeness: Σ positions ≈ logit − baseline logit.</param>
    public sealed record Attribution(float[] Positions, float Logit, float BaselineLogit);

    /// <summary>
    /// Integrated Gradients (Sundararajan et al. 2017) on the encoder's input embeddings of row
    /// <paramref name="row"/>. The baseline is the row with nothing known: every cell replaced by the
    /// mask token and every text piece by [MASK] (column tags, [CLS] and [SEP] stay, so they get no
    /// credit). The path integral is <see cref="Tensors.Nn.IntegratedGradients.Attribute"/>'s midpoint Riemann sum
    /// over <paramref name="steps"/> points; dropout is off. The keyword channel is linear in its bag and
    /// the baseline's bag is empty, so each n-gram occurrence's weight / the bag's norm is its exact share,
    /// split evenly over the pieces it spans; an n-gram the channel read beyond the text budget (it reads
    /// whole texts) has no piece in the encoder's input, so its share goes to its column's [SEP].
    /// </summary>
    public Attribution IntegratedGradients(MultimodalRows rows, int row, int steps = 32)
    {
        bool wasTraining = IsTraining;
        Eval();
        try
        {
            var own = rows.Text[row];
            var masked = own.InputIds.Select((id, p) => own.ColumnIds[p] > 0 && own.WordIds[p] >= 0 ? _special.Mask : id).ToArray();
            float[] input, baseline, mask;
            int n, e;
            float logit, baseLogit;
            using (GradMode.NoGrad())
            {
                var (x, keyMask) = Embed(rows, [row], 0, 1);                                                   // [1, n, E]
                var (x0, _) = Embed(rows, [row], 0, 1, Enumerable.Repeat(true, CellCount).ToArray(), [masked]);
                n = x.Dim(1); e = x.Dim(2);
                input = x.Data.ToArray(); baseline = x0.Data.ToArray(); mask = keyMask.Data.ToArray();
                logit = Logits(EncodeEmbedded(x, keyMask)).Item();                                              // the deep part
                baseLogit = Logits(EncodeEmbedded(x0, keyMask)).Item();
            }
            var positions = Tensors.Nn.IntegratedGradients.Attribute(input, baseline, [n, e], steps, points =>
            {
                var stepMask = Tensor.Wrap(Enumerable.Range(0, steps).SelectMany(_ => mask).ToArray(), steps, n);
                return Logits(EncodeEmbedded(points, stepMask));                                                // points [steps, n, E]
            });
            ZeroGrad();   // the backward pass also reached the weights
            float keywords = KeywordBuckets > 0 ? ShareKeywords(own, KeywordSource(rows, row), positions) : 0;
            return new Attribution(positions, logit + keywords, baseLogit);
        }
        finally { Train(wasTraining); }
    }

    /// <summary>
    /// Adds each keyword occurrence's log-odds to the pieces it spans in <paramref name="text"/> (text
    /// position p at cells + p), or to its column's [SEP] when the budget cut any of them; returns the
    /// channel's total. The occurrences are found in <paramref name="full"/>, whose word ids are the text's.
    /// </summary>
    private float ShareKeywords(Text.EncodedRow text, Text.EncodedRow full, float[] positions)
    {
        var kept = WordSpans(text);
        var whole = WordSpans(full);
        var occurrences = KeywordBag.Occurrences(full, KeywordBuckets, KeywordOrder, _punctuation);
        var counts = occurrences.CountBy(o => (o.Column, o.Bucket)).ToDictionary();
        float norm = (float)KeywordBag.Norm(occurrences, KeywordIdf, KeywordsReadLikeTfidf), total = 0;
        foreach (var (column, bucket, start, end) in occurrences)
        {
            // The bucket's term frequency shared equally by its occurrences (each 1 with raw counts).
            int count = counts[(column, bucket)];
            float share = _keywordWeights!.Data[bucket] * (float)(KeywordBag.Tf(count, KeywordsReadLikeTfidf) / count * KeywordBag.Idf(KeywordIdf, bucket)) / norm;
            total += share;
            bool inside = true;
            for (int p = start; p < end && inside; p++)
                inside = kept.TryGetValue(full.WordIds[p], out var k) && k.Count == whole[full.WordIds[p]].Count;
            if (!inside) { positions[CellCount + Array.LastIndexOf(text.ColumnIds, column)] += share; continue; }
            for (int p = start; p < end; p++)
            {
                int word = full.WordIds[p];
                positions[CellCount + kept[word].First + p - whole[word].First] += share / (end - start);
            }
        }
        return total;
    }

    /// <summary>Each word id's first position and piece count in <paramref name="row"/>.</summary>
    private static Dictionary<int, (int First, int Count)> WordSpans(Text.EncodedRow row)
    {
        var spans = new Dictionary<int, (int First, int Count)>();
        for (int p = 0; p < row.Length; p++)
            if (row.WordIds[p] >= 0)
                spans[row.WordIds[p]] = spans.TryGetValue(row.WordIds[p], out var s) ? (s.First, s.Count + 1) : (p, 1);
        return spans;
    }
}
