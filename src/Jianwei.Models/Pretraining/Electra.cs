using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Pretraining;

/// <summary>
/// ELECTRA replaced-token detection (Clark et al. 2020): a small generator (an MLM encoder a quarter of
/// the discriminator's width) fills the masked positions with samples, and the discriminator labels
/// every real token original or replaced. Generator and discriminator share the token embeddings and
/// train jointly on loss = MLM(generator) + 50 · BCE(discriminator); the sample is not differentiated.
/// </summary>
public sealed class Electra : IPretrainingObjective
{
    /// <summary>Holds the four parts under their Hugging Face–like names.</summary>
    public sealed class Parts : Module
    {
        /// <summary>"discriminator": the encoder kept for fine-tuning; owns the embeddings.</summary>
        public TransformerEncoder Discriminator { get; }
        /// <summary>"discriminator_predictions.dense" (H → H) then GELU.</summary>
        public Linear DiscriminatorDense { get; }
        /// <summary>"discriminator_predictions.dense_prediction" (H → 1).</summary>
        public Linear DiscriminatorPrediction { get; }
        /// <summary>"generator": the small encoder over the shared embeddings.</summary>
        public TransformerEncoder Generator { get; }
        /// <summary>"generator_predictions": its MLM head, tied to the shared word embeddings.</summary>
        public MaskedLmHead GeneratorHead { get; }

        internal Parts(EncoderConfig config, EncoderConfig generatorConfig, Rng rng)
        {
            Discriminator = RegisterModule("discriminator", new TransformerEncoder(config, rng));
            var head = RegisterModule("discriminator_predictions", new HeadContainer(config.HiddenSize, rng));
            DiscriminatorDense = head.Dense; DiscriminatorPrediction = head.DensePrediction;
            Generator = RegisterModule("generator", new TransformerEncoder(generatorConfig, rng, sharedEmbeddings: Discriminator.Embeddings));
            GeneratorHead = RegisterModule("generator_predictions", new MaskedLmHead(generatorConfig.HiddenSize, Discriminator.Embeddings.Word, config.LayerNormEps, rng));
            BertInitialization.Apply(head, config.InitializerRange, rng);
            BertInitialization.Apply(GeneratorHead, config.InitializerRange, rng);
        }

        private sealed class HeadContainer : Module
        {
            public Linear Dense { get; }
            public Linear DensePrediction { get; }
            public HeadContainer(int hidden, Rng rng)
            {
                Dense = RegisterModule("dense", new Linear(hidden, hidden, rng));
                DensePrediction = RegisterModule("dense_prediction", new Linear(hidden, 1, rng));
            }
        }
    }

    private readonly Parts _parts;
    private readonly TokenMasker _masker;

    /// <summary>The discriminator loss weight λ (the paper's 50).</summary>
    public float DiscriminatorWeight { get; init; } = 50f;

    /// <summary>The generator's configuration: the discriminator's with a quarter of the width, heads and feed-forward size.</summary>
    public static EncoderConfig GeneratorConfig(EncoderConfig config)
    {
        int heads = Math.Max(1, config.Heads / 4);
        int headSize = Math.Max(2, config.HiddenSize / 4 / heads) / 2 * 2;   // even, for rotary positions
        return config with
        {
            HiddenSize = heads * headSize, Heads = heads,
            IntermediateSize = Math.Max(1, config.IntermediateSize / 4),
            EmbeddingSize = config.EffectiveEmbeddingSize,
        };
    }

    /// <summary>Creates generator and discriminator.</summary>
    public Electra(EncoderConfig config, SpecialTokens special, MaskingOptions masking, Rng rng)
    {
        _parts = new Parts(config, GeneratorConfig(config), rng);
        _masker = new TokenMasker(masking, special, config.VocabSize);
    }

    /// <inheritdoc/>
    public string Name => "electra";
    /// <inheritdoc/>
    public Module Model => _parts;
    /// <inheritdoc/>
    public TransformerEncoder Encoder => _parts.Discriminator;

    /// <inheritdoc/>
    public PretrainingLoss Loss(TokenBatch batch, Rng rng)
    {
        var masked = _masker.Mask(batch, rng);
        var genLogits = PredictMasked(masked.Input, batch.KeyMask, masked.Where);           // [k, V]
        var genLoss = Tensor.CrossEntropy(genLogits, masked.Targets);

        // Sample replacements from the generator (Gumbel-max: argmax of logits + Gumbel noise).
        var corrupted = (int[])batch.Ids.Values.Clone();
        int vocab = genLogits.Dim(1), replaced = 0;
        var logits = genLogits.Data;
        for (int i = 0; i < masked.Where.Length; i++)
        {
            int best = 0; float bestScore = float.NegativeInfinity;
            for (int v = 0; v < vocab; v++)
            {
                float score = logits[i * vocab + v] - MathF.Log(-MathF.Log(MathF.Max(rng.NextFloat(), 1e-20f)));
                if (score > bestScore) { bestScore = score; best = v; }
            }
            corrupted[masked.Where.Values[i]] = best;
        }
        // Labels: 1 where the token differs from the original (a sampled original counts as original).
        var real = new List<int>();
        var labels = new List<float>();
        var mask = batch.KeyMask.Data;
        for (int i = 0; i < corrupted.Length; i++)
        {
            if (mask[i] == 0f) continue;
            real.Add(i);
            bool isReplaced = corrupted[i] != batch.Ids.Values[i];
            labels.Add(isReplaced ? 1f : 0f);
            if (isReplaced) replaced++;
        }
        var hidden = _parts.Discriminator.Forward(new EncoderInputs { Ids = new IntTensor(corrupted, batch.Ids.Shape.ToArray()), KeyMask = batch.KeyMask });
        var picked = hidden.Reshape(-1, hidden.Dim(2)).IndexSelect(0, new IntTensor(real.ToArray(), real.Count));   // [real, H]
        var discLogits = _parts.DiscriminatorPrediction.Forward(_parts.DiscriminatorDense.Forward(picked).Gelu()).Reshape(-1);
        var discLoss = Tensor.BinaryCrossEntropyWithLogits(discLogits, Tensor.FromArray(labels.ToArray(), labels.Count));
        var loss = genLoss + discLoss * DiscriminatorWeight;
        return new PretrainingLoss(loss, new Dictionary<string, double>
        {
            ["generator_mlm"] = genLoss.Item(), ["discriminator_bce"] = discLoss.Item(), ["replaced_fraction"] = replaced / (double)Math.Max(1, real.Count),
        });
    }

    /// <inheritdoc/>
    public Tensor PredictMasked(IntTensor input, Tensor keyMask, IntTensor where)
    {
        var hidden = _parts.Generator.Forward(new EncoderInputs { Ids = input, KeyMask = keyMask });
        return _parts.GeneratorHead.Forward(hidden.Reshape(-1, hidden.Dim(2)).IndexSelect(0, where));
    }

    /// <inheritdoc/>
    public void SaveEncoder(string directory, Text.Vocabulary? vocabulary) => BertCheckpoint.Save(directory, _parts.Discriminator.Config, _parts.Discriminator, vocabulary);
}
