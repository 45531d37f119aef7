using Jianwei.Tensors;

namespace Jianwei.Models.Pretraining;

/// <summary>Held-out scores that put objectives on one scale.</summary>
/// <param name="MaskedAccuracy">Share of masked tokens (all shown as [MASK]) whose argmax prediction is right.</param>
/// <param name="MaskedLoss">Mean cross-entropy at those tokens (nats).</param>
/// <param name="PseudoPerplexity">exp of the mean −log p(token | rest), each token masked alone (Salazar et al. 2020).</param>
/// <param name="Tokens">Masked tokens scored.</param>
public sealed record PretrainingScores(double MaskedAccuracy, double MaskedLoss, double PseudoPerplexity, int Tokens);

/// <summary>Masked-token accuracy and pseudo-perplexity on a validation corpus.</summary>
public static class PretrainingEvaluation
{
    /// <summary>
    /// Scores <paramref name="objective"/> on <paramref name="validation"/> with a fixed masking seed, so
    /// every objective and every evaluation sees the same masked tokens. Pseudo-perplexity uses the first
    /// <paramref name="pseudoPerplexitySequences"/> sequences (it needs one pass per token).
    /// </summary>
    public static PretrainingScores Evaluate(IPretrainingObjective objective, TokenCorpus validation, MaskingOptions masking,
                                             int batchSize = 32, int pseudoPerplexitySequences = 64, ulong seed = 12345)
    {
        var model = objective.Model;
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            var masker = new TokenMasker(masking.AllMask(), validation.Special, objective.Encoder.Config.VocabSize);
            var rng = new Rng(seed);
            long correct = 0, count = 0;
            double lossSum = 0;
            for (int start = 0; start < validation.Sequences.Count; start += batchSize)
            {
                using var scope = new TensorScope();
                var batch = validation.MakeBatch(Enumerable.Range(start, Math.Min(batchSize, validation.Sequences.Count - start)).ToArray());
                var masked = masker.Mask(batch, rng);
                if (masked.Where.Length == 0) continue;
                var logits = objective.PredictMasked(masked.Input, batch.KeyMask, masked.Where);
                var (hits, nll) = Score(logits, masked.Targets.Values);
                correct += hits; lossSum += nll; count += masked.Where.Length;
            }

            double pllSum = 0; long pllCount = 0;
            foreach (var s in validation.Sequences.Take(pseudoPerplexitySequences))
            {
                var positions = Enumerable.Range(0, s.Length).Where(p => s.WordIds[p] >= 0).ToArray();
                for (int start = 0; start < positions.Length; start += batchSize)
                {
                    using var scope = new TensorScope();
                    var chunk = positions.Skip(start).Take(batchSize).ToArray();
                    // One copy of the sequence per token, that token masked.
                    var ids = new int[chunk.Length * s.Length];
                    var where = new int[chunk.Length];
                    for (int r = 0; r < chunk.Length; r++)
                    {
                        s.Ids.CopyTo(ids, r * s.Length);
                        ids[r * s.Length + chunk[r]] = validation.Special.Mask;
                        where[r] = r * s.Length + chunk[r];
                    }
                    var logits = objective.PredictMasked(new IntTensor(ids, chunk.Length, s.Length), Tensor.Ones(chunk.Length, s.Length), new IntTensor(where, where.Length));
                    var (_, nll) = Score(logits, chunk.Select(p => s.Ids[p]).ToArray());
                    pllSum += nll; pllCount += chunk.Length;
                }
            }
            return new PretrainingScores(count == 0 ? 0 : correct / (double)count, count == 0 ? 0 : lossSum / count,
                                         pllCount == 0 ? double.NaN : Math.Exp(pllSum / pllCount), (int)count);
        }
        finally { model.Train(wasTraining); }
    }

    /// <summary>Argmax hits and summed negative log-likelihood of <paramref name="targets"/> under logits [k, V].</summary>
    private static (long Hits, double Nll) Score(Tensor logits, int[] targets)
    {
        int vocab = logits.Dim(1);
        var data = logits.Data;
        long hits = 0; double nll = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            var row = data.Slice(i * vocab, vocab);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            nll += Math.Log(sum) + max - row[targets[i]];
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == targets[i]) hits++;
        }
        return (hits, nll);
    }
}
