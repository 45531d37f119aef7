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

/// <summary>
/// MPNet (Song et al. 2020): masked and permuted pretraining with position compensation. In each
/// sequence a random c ≈ 15 % of the tokens are predicted, in a random order, autoregressively. The
/// input is laid out as the non-predicted tokens, then c [MASK] tokens carrying the predicted
/// positions, then the predicted tokens (content stream), followed by c query rows (query stream) that
/// read the content stream but are never read. Masks, for predicted token j in the order:
/// <list type="bullet">
/// <item>non-predicted and [MASK] rows see the non-predicted tokens and every [MASK];</item>
/// <item>predicted-token row j sees the non-predicted tokens, predicted tokens 0..j and [MASK]s j+1..c−1;</item>
/// <item>query row j sees the non-predicted tokens, predicted tokens 0..j−1 and [MASK]s j..c−1.</item>
/// </list>
/// Every row thus sees every position exactly once — as a token or as a [MASK] — which is the
/// position compensation that lets it see the full sentence length, unlike XLNet. The query rows feed
/// the MLM head. Needs softmax attention (structured masks).
/// </summary>
public sealed class Mpnet : IPretrainingObjective
{
    private readonly BertForMaskedLM _model;
    private readonly TokenMasker _masker;
    private readonly SpecialTokens _special;

    /// <summary>Creates the objective; whole-word choice applies to the predicted set as in MLM.</summary>
    public Mpnet(EncoderConfig config, SpecialTokens special, MaskingOptions masking, Rng rng)
    {
        if (config.Attention != AttentionKind.Softmax) throw new ArgumentException("MPNet's two-stream masks need softmax attention.");
        _model = new BertForMaskedLM(config, rng);
        _masker = new TokenMasker(masking, special, config.VocabSize);
        _special = special;
    }

    /// <inheritdoc/>
    public string Name => "mpnet";
    /// <inheritdoc/>
    public Module Model => _model;
    /// <inheritdoc/>
    public TransformerEncoder Encoder => _model.Bert;

    /// <summary>The two-stream layout of a batch: the encoder inputs, where the query rows are, and their targets.</summary>
    public sealed record Layout(EncoderInputs Inputs, IntTensor QueryRows, IntTensor Targets);

    /// <summary>
    /// Lays out a batch given each sequence's predicted positions in prediction order
    /// (<paramref name="predicted"/>[r]); <paramref name="corrupt"/> gives the id shown in each [MASK]
    /// slot (80/10/10). Public so tests can check it on the paper's worked example.
    /// </summary>
    public static Layout Build(IReadOnlyList<TokenSequence> sequences, IReadOnlyList<int[]> predicted, Func<int, int> corrupt, int padId)
    {
        int b = sequences.Count;
        int contentLength = 0, queryCount = 0;
        for (int r = 0; r < b; r++) { contentLength = Math.Max(contentLength, sequences[r].Length + predicted[r].Length); queryCount = Math.Max(queryCount, predicted[r].Length); }
        int rows = contentLength + queryCount, keys = contentLength;
        var ids = new int[b * rows];
        var positions = new int[b * rows];
        var keyMask = new float[b * keys];
        var attend = new float[b * rows * keys];
        var queryRows = new List<int>();
        var targets = new List<int>();
        Array.Fill(ids, padId);
        for (int r = 0; r < b; r++)
        {
            var s = sequences[r];
            var pred = predicted[r];
            int c = pred.Length, kept = s.Length - c;
            var isPredicted = new bool[s.Length];
            foreach (int p in pred) isPredicted[p] = true;
            int row = 0;
            // Content stream: kept tokens (original order), [MASK] slots, predicted tokens.
            for (int p = 0; p < s.Length; p++)
                if (!isPredicted[p]) { ids[r * rows + row] = s.Ids[p]; positions[r * rows + row] = p; row++; }
            for (int j = 0; j < c; j++) { ids[r * rows + kept + j] = corrupt(s.Ids[pred[j]]); positions[r * rows + kept + j] = pred[j]; }
            for (int j = 0; j < c; j++) { ids[r * rows + kept + c + j] = s.Ids[pred[j]]; positions[r * rows + kept + c + j] = pred[j]; }
            // Query stream: one row per predicted token, starting as its [MASK] slot.
            for (int j = 0; j < c; j++)
            {
                ids[r * rows + contentLength + j] = ids[r * rows + kept + j];
                positions[r * rows + contentLength + j] = pred[j];
                queryRows.Add(r * rows + contentLength + j);
                targets.Add(s.Ids[pred[j]]);
            }
            keyMask.AsSpan(r * keys, s.Length + c).Fill(1f);

            void Open(int fromRow, int key) => attend[(r * rows + fromRow) * keys + key] = 1f;
            for (int i = 0; i < rows; i++)
            {
                bool contentRow = i < s.Length + c, queryRow = i >= contentLength && i < contentLength + c;
                if (!contentRow && !queryRow) { Open(i, 0); continue; }                        // padding rows: any valid key
                for (int k = 0; k < kept; k++) Open(i, k);                                     // everyone sees the kept tokens
                if (i < kept + c) { for (int j = 0; j < c; j++) Open(i, kept + j); continue; } // kept and [MASK] rows: every [MASK]
                int step = contentRow ? i - kept - c : i - contentLength;                      // this row's place in the order
                int lastSeen = contentRow ? step : step - 1;                                  // predicted tokens visible: 0..lastSeen
                for (int j = 0; j <= lastSeen; j++) Open(i, kept + c + j);
                for (int j = lastSeen + 1; j < c; j++) Open(i, kept + j);                      // the rest as [MASK]s
            }
        }
        var inputs = new EncoderInputs
        {
            Ids = new IntTensor(ids, b, rows), Positions = new IntTensor(positions, b, rows),
            KeyMask = Tensor.Wrap(keyMask, b, keys), AttentionMask = Tensor.Wrap(attend, b, rows, keys), KeyRows = keys,
        };
        return new Layout(inputs, new IntTensor(queryRows.ToArray(), queryRows.Count), new IntTensor(targets.ToArray(), targets.Count));
    }

    /// <inheritdoc/>
    public PretrainingLoss Loss(TokenBatch batch, Rng rng)
    {
        var predicted = new List<int[]>();
        foreach (var s in batch.Sequences)
        {
            var chosen = _masker.Choose(s, rng);
            rng.Shuffle<int>(chosen);                                                    // a random prediction order
            predicted.Add(chosen);
        }
        var layout = Build(batch.Sequences, predicted, id => _masker.Corrupt(id, rng), _special.Pad);
        var hidden = _model.Bert.Forward(layout.Inputs);                                 // [b, rows, H]
        var picked = hidden.Reshape(-1, hidden.Dim(2)).IndexSelect(0, layout.QueryRows); // [k, H]
        var loss = Tensor.CrossEntropy(_model.MlmLogits(picked), layout.Targets);
        return new PretrainingLoss(loss, new Dictionary<string, double> { ["mpnet"] = loss.Item() });
    }

    /// <inheritdoc/>
    public Tensor PredictMasked(IntTensor input, Tensor keyMask, IntTensor where) => MaskedLanguageModel.PredictMasked(_model, input, keyMask, where);

    /// <inheritdoc/>
    public void SaveEncoder(string directory, Text.Vocabulary? vocabulary) => BertCheckpoint.Save(directory, _model.Bert.Config, _model, vocabulary);
}
