using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Pretraining;

/// <summary>The loss of one pretraining batch and its named parts (for logs).</summary>
public sealed record PretrainingLoss(Tensor Loss, IReadOnlyDictionary<string, double> Parts);

/// <summary>A self-supervised objective over a <see cref="TransformerEncoder"/>.</summary>
public interface IPretrainingObjective
{
    /// <summary>"mlm", "electra" or "mpnet".</summary>
    string Name { get; }
    /// <summary>Every module the objective trains (checkpointed whole).</summary>
    Module Model { get; }
    /// <summary>The encoder that downstream tasks keep.</summary>
    TransformerEncoder Encoder { get; }
    /// <summary>The loss of a batch; <paramref name="rng"/> drives masking and sampling.</summary>
    PretrainingLoss Loss(TokenBatch batch, Rng rng);
    /// <summary>
    /// Vocabulary logits [k, V] at the flat positions <paramref name="where"/> of a BERT-style masked
    /// input: the common ground on which objectives are compared (ELECTRA answers with its generator).
    /// </summary>
    Tensor PredictMasked(IntTensor input, Tensor keyMask, IntTensor where);
    /// <summary>Writes the encoder (with its MLM head where it has one) in Hugging Face's layout.</summary>
    void SaveEncoder(string directory, Text.Vocabulary? vocabulary);
}
