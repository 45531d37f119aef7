using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Pretraining;

/// <summary>Masked language modelling, BERT's recipe (by token, whole word or span per <see cref="MaskingOptions"/>).</summary>
public sealed class MaskedLanguageModel : IPretrainingObjective
{
    private readonly BertForMaskedLM _model;
    private readonly TokenMasker _masker;

    /// <summary>Creates the objective over a fresh encoder, or over <paramref name="model"/> (to continue a checkpoint).</summary>
    public MaskedLanguageModel(EncoderConfig config, SpecialTokens special, MaskingOptions masking, Rng rng, BertForMaskedLM? model = null)
    {
        _model = model ?? new BertForMaskedLM(config, rng);
        _masker = new TokenMasker(masking, special, config.VocabSize);
    }

    /// <inheritdoc/>
    public string Name => "mlm";
    /// <inheritdoc/>
    public Module Model => _model;
    /// <inheritdoc/>
    public TransformerEncoder Encoder => _model.Bert;

    /// <inheritdoc/>
    public PretrainingLoss Loss(TokenBatch batch, Rng rng)
    {
        var masked = _masker.Mask(batch, rng);
        var logits = PredictMasked(masked.Input, batch.KeyMask, masked.Where);           // [k, V]
        var loss = Tensor.CrossEntropy(logits, masked.Targets);
        return new PretrainingLoss(loss, new Dictionary<string, double> { ["mlm"] = loss.Item() });
    }

    /// <inheritdoc/>
    public Tensor PredictMasked(IntTensor input, Tensor keyMask, IntTensor where) => PredictMasked(_model, input, keyMask, where);

    /// <summary>BERT-style masked prediction with a <see cref="BertForMaskedLM"/>: logits [k, V] at the flat positions <paramref name="where"/>.</summary>
    internal static Tensor PredictMasked(BertForMaskedLM model, IntTensor input, Tensor keyMask, IntTensor where)
    {
        var hidden = model.Bert.Forward(new EncoderInputs { Ids = input, KeyMask = keyMask });    // [b, n, H]
        return model.MlmLogits(hidden.Reshape(-1, hidden.Dim(2)).IndexSelect(0, where));        // [k, V]
    }

    /// <inheritdoc/>
    public void SaveEncoder(string directory, Text.Vocabulary? vocabulary) => BertCheckpoint.Save(directory, _model.Bert.Config, _model, vocabulary);
}
