using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Pretraining;

/// <summary>
/// Pretraining as a <see cref="ITrainingTask"/>: micro-batch k is batch k mod B of epoch k div B
/// (B batches per epoch, length-grouped, order seeded by (seed, epoch)); evaluation reports
/// masked-token accuracy, masked loss and pseudo-perplexity on the validation corpus.
/// </summary>
public sealed class PretrainingTask(IPretrainingObjective objective, TokenCorpus train, TokenCorpus validation, int batchSize,
                                    MaskingOptions masking, ulong seed = 0, int pseudoPerplexitySequences = 64) : ITrainingTask
{
    /// <inheritdoc/>
    public Module Model => objective.Model;

    /// <summary>The objective.</summary>
    public IPretrainingObjective Objective => objective;

    /// <inheritdoc/>
    public TrainingStepResult Step(long microBatch, Rng rng)
    {
        var batch = train.MakeBatch(train.MicroBatch(microBatch, batchSize, seed));
        var loss = objective.Loss(batch, rng);
        return new TrainingStepResult(loss.Loss, batch.Tokens, loss.Parts);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var s = PretrainingEvaluation.Evaluate(objective, validation, masking, pseudoPerplexitySequences: pseudoPerplexitySequences);
        return new Dictionary<string, double>
        {
            ["masked_accuracy"] = s.MaskedAccuracy, ["masked_loss"] = s.MaskedLoss, ["pseudo_perplexity"] = s.PseudoPerplexity,
        };
    }
}
