using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;

namespace Jianwei.Models.Neural;

/// <summary>TabNet sizes and training settings (pytorch-tabnet's names in the remarks).</summary>
public sealed record TabNetOptions
{
    /// <summary>Width of the decision output (n_d).</summary>
    public int DecisionWidth { get; init; } = 8;
    /// <summary>Width of the attention output (n_a).</summary>
    public int AttentionWidth { get; init; } = 8;
    /// <summary>Decision steps (n_steps).</summary>
    public int Steps { get; init; } = 3;
    /// <summary>Relaxation γ: how freely a feature is reused across steps.</summary>
    public float Gamma { get; init; } = 1.3f;
    /// <summary>GLU layers shared by all steps (n_shared).</summary>
    public int SharedLayers { get; init; } = 2;
    /// <summary>GLU layers of each step (n_independent).</summary>
    public int StepLayers { get; init; } = 2;
    /// <summary>Weight of the mask-entropy penalty (lambda_sparse).</summary>
    public float SparsityWeight { get; init; } = 1e-3f;
    /// <summary>Ghost batch size (virtual_batch_size).</summary>
    public int VirtualBatch { get; init; } = 128;
    /// <summary>Batch-norm momentum.</summary>
    public float Momentum { get; init; } = 0.02f;
    /// <summary>1.5-entmax instead of sparsemax in the attentive transformer.</summary>
    public bool Entmax { get; init; }
    /// <summary>Learning rate.</summary>
    public float LearningRate { get; init; } = 2e-2f;
    /// <summary>Ranger (RAdam + Lookahead) instead of AdamW.</summary>
    public bool Ranger { get; init; }
    /// <summary>Rows per step.</summary>
    public int BatchSize { get; init; } = 1024;
    /// <summary>Most epochs.</summary>
    public int MaxEpochs { get; init; } = 100;
    /// <summary>Stop after this many epochs without improvement.</summary>
    public int Patience { get; init; } = 10;
    /// <summary>Share of features hidden in each row during self-supervised pretraining.</summary>
    public float PretrainingRatio { get; init; } = 0.2f;
    /// <summary>Seed for initialization, masks and shuffling.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// TabNet (Arik &amp; Pfister 2019), as pytorch-tabnet builds it: per-step attentive transformers pick
/// features with sparsemax masks (prior scaled by γ − M), feature transformers of GLU blocks (shared
/// and step-specific, ghost batch norm, √½ residuals) process the masked row, and the ReLU'd decision
/// outputs of all steps are summed into the prediction. The masks explain each row. Self-supervised
/// pretraining (<see cref="Pretrain"/>) reconstructs randomly hidden features through a decoder with
/// pytorch-tabnet's normalized loss; fine-tuning then starts from the pretrained encoder.
/// </summary>
public sealed class TabNet : Module
{
    private readonly TabNetOptions _o;
    private readonly int _numeric, _inputWidth;
    private readonly int[] _categoryOffsets;
    private readonly Embedding? _categoryEmbedding;   // one value per category (pytorch-tabnet's cat_emb_dim = 1)
    private readonly BatchNorm _inputNorm;
    private readonly ModuleList<GluLayer> _shared;
    private readonly FeatureTransformer _splitter;
    private readonly ModuleList<FeatureTransformer> _stepTransformers;
    private readonly ModuleList<AttentiveTransformer> _attention;
    private readonly Linear _output;
    private readonly Rng _rng;

    /// <summary>Validation ROC-AUC after each supervised epoch.</summary>
    public List<double> ValidationCurve { get; } = new();
    /// <summary>Reconstruction loss after each pretraining epoch (validation rows).</summary>
    public List<double> PretrainingCurve { get; } = new();

    /// <summary>Creates the network for the given numeric inputs and categorical vocabulary sizes.</summary>
    public TabNet(int numeric, IReadOnlyList<int> categorySizes, TabNetOptions options)
    {
        _o = options;
        _rng = new Rng((ulong)options.Seed + 17);
        _numeric = numeric;
        _inputWidth = numeric + categorySizes.Count;
        _categoryOffsets = new int[categorySizes.Count];
        for (int j = 1; j < categorySizes.Count; j++) _categoryOffsets[j] = _categoryOffsets[j - 1] + categorySizes[j - 1];
        if (categorySizes.Count > 0) _categoryEmbedding = RegisterModule("embedding", new Embedding(categorySizes.Sum(), 1, _rng));
        _inputNorm = RegisterModule("initial_bn", new BatchNorm(_inputWidth, momentum: 0.01f));
        int width = options.DecisionWidth + options.AttentionWidth;
        _shared = RegisterModule("shared", new ModuleList<GluLayer>(Enumerable.Range(0, options.SharedLayers)
            .Select(i => new GluLayer(i == 0 ? _inputWidth : width, width, options, _rng))));
        _splitter = RegisterModule("initial_splitter", new FeatureTransformer(_shared.Items, _inputWidth, width, options, _rng));
        _stepTransformers = RegisterModule("feat_transformers", new ModuleList<FeatureTransformer>(Enumerable.Range(0, options.Steps)
            .Select(_ => new FeatureTransformer(_shared.Items, _inputWidth, width, options, _rng))));
        _attention = RegisterModule("att_transformers", new ModuleList<AttentiveTransformer>(Enumerable.Range(0, options.Steps)
            .Select(_ => new AttentiveTransformer(options.AttentionWidth, _inputWidth, options, _rng))));
        _output = RegisterModule("final_mapping", new Linear(options.DecisionWidth, 1, _rng, bias: false));
    }

    /// <summary>fc → ghost BN → GLU: the first half gated by the sigmoid of the second.</summary>
    private sealed class GluLayer : Module
    {
        private readonly Linear _fc;
        private readonly BatchNorm _bn;
        private readonly int _out;

        public GluLayer(int inWidth, int outWidth, TabNetOptions o, Rng rng)
        {
            _out = outWidth;
            _fc = RegisterModule("fc", new Linear(inWidth, 2 * outWidth, rng, bias: false));
            _bn = RegisterModule("bn", new BatchNorm(2 * outWidth, o.Momentum, virtualBatchSize: o.VirtualBatch));
        }

        public Tensor Forward(Tensor x)
        {
            var h = _bn.Forward(_fc.Forward(x));
            return h.Slice(1, 0, _out) * h.Slice(1, _out, _out).Sigmoid();
        }
    }

    /// <summary>Shared GLU layers (owned by the network), then this step's own, with √½-scaled residuals after the first.</summary>
    private sealed class FeatureTransformer : Module
    {
        private readonly IReadOnlyList<GluLayer> _shared;
        private readonly ModuleList<GluLayer> _own;
        private static readonly float Half = MathF.Sqrt(0.5f);

        public FeatureTransformer(IReadOnlyList<GluLayer> shared, int inWidth, int width, TabNetOptions o, Rng rng)
        {
            _shared = shared;
            _own = RegisterModule("specifics", new ModuleList<GluLayer>(Enumerable.Range(0, o.StepLayers)
                .Select(i => new GluLayer(shared.Count == 0 && i == 0 ? inWidth : width, width, o, rng))));
        }

        public Tensor Forward(Tensor x)
        {
            bool first = true;
            foreach (var layer in _shared.Concat(_own.Items))
            {
                x = first ? layer.Forward(x) : (x + layer.Forward(x)) * Half;
                first = false;
            }
            return x;
        }
    }

    /// <summary>fc → ghost BN → × prior → sparsemax (or 1.5-entmax): the step's feature mask.</summary>
    private sealed class AttentiveTransformer : Module
    {
        private readonly Linear _fc;
        private readonly BatchNorm _bn;
        private readonly bool _entmax;

        public AttentiveTransformer(int attentionWidth, int inputWidth, TabNetOptions o, Rng rng)
        {
            _entmax = o.Entmax;
            _fc = RegisterModule("fc", new Linear(attentionWidth, inputWidth, rng, bias: false));
            _bn = RegisterModule("bn", new BatchNorm(inputWidth, o.Momentum, virtualBatchSize: o.VirtualBatch));
        }

        public Tensor Forward(Tensor prior, Tensor attention)
        {
            var z = _bn.Forward(_fc.Forward(attention)) * prior;
            return _entmax ? z.Entmax15() : z.Sparsemax();
        }
    }

    /// <summary>The embedded input row [b, numeric + categorical].</summary>
    private Tensor Embed(TokenInputs inputs, int[] order, int start, int count)
    {
        var x = new float[count * _numeric];
        for (int i = 0; i < count; i++) inputs.Numeric.AsSpan(order[start + i] * _numeric, _numeric).CopyTo(x.AsSpan(i * _numeric));
        var numeric = Tensor.FromArray(x, count, _numeric);
        if (_categoryEmbedding is null) return numeric;
        int c = _categoryOffsets.Length;
        var ids = new int[count * c];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < c; j++) ids[i * c + j] = inputs.Categorical[order[start + i] * c + j] + _categoryOffsets[j];
        var cats = _categoryEmbedding.Forward(new IntTensor(ids, count, c)).Reshape(count, c);
        return _numeric == 0 ? cats : Tensor.Concat(1, numeric, cats);
    }

    /// <summary>The encoder: per-step decision outputs, their sum, and the mean mask entropy term Σ M·log(M + ε).</summary>
    private (List<Tensor> Steps, Tensor Sum, Tensor MaskTerm, List<Tensor> Masks) Encode(Tensor x, Tensor? prior)
    {
        int b = x.Dim(0), nd = _o.DecisionWidth;
        x = _inputNorm.Forward(x);
        prior ??= Tensor.Ones(b, _inputWidth);
        var attention = _splitter.Forward(x).Slice(1, nd, _o.AttentionWidth);
        var steps = new List<Tensor>(); var masks = new List<Tensor>();
        Tensor? sum = null, term = null;
        for (int s = 0; s < _o.Steps; s++)
        {
            var mask = _attention[s].Forward(prior, attention);
            masks.Add(mask);
            var entropy = (mask * mask.AddScalar(1e-15f).Log()).Sum(1).MeanAll();
            term = term is null ? entropy : term + entropy;
            prior = prior * mask.RSubScalar(_o.Gamma);                     // prior ← (γ − M)·prior
            var h = _stepTransformers[s].Forward(mask * x);
            var d = h.Slice(1, 0, nd).Relu();
            steps.Add(d);
            sum = sum is null ? d : sum + d;
            attention = h.Slice(1, nd, _o.AttentionWidth);
        }
        return (steps, sum!, term! * (1f / _o.Steps), masks);
    }

    private Tensor Logits(TokenInputs inputs, int[] order, int start, int count, out Tensor maskTerm)
    {
        var (_, sum, term, _) = Encode(Embed(inputs, order, start, count), null);
        maskTerm = term;
        return _output.Forward(sum).Reshape(count);
    }

    /// <summary>Probabilities for all rows.</summary>
    public double[] PredictProbability(TokenInputs inputs)
    {
        var order = Enumerable.Range(0, inputs.Rows).ToArray();
        return BatchedPrediction.Probabilities(this, order, 2048, (s, n) => Logits(inputs, order, s, n, out _));
    }

    /// <summary>Each row's feature importance: the masks of all steps weighted by their decision outputs (pytorch-tabnet's explain), rows normalized to sum 1.</summary>
    public float[][] Explain(TokenInputs inputs)
    {
        Eval();
        var order = Enumerable.Range(0, inputs.Rows).ToArray();
        var result = new float[inputs.Rows][];
        using (GradMode.NoGrad())
        using (new TensorScope())
        {
            var (steps, _, _, masks) = Encode(Embed(inputs, order, 0, inputs.Rows), null);
            for (int r = 0; r < inputs.Rows; r++)
            {
                var imp = new float[_inputWidth];
                for (int s = 0; s < steps.Count; s++)
                {
                    float weight = 0;
                    for (int k = 0; k < _o.DecisionWidth; k++) weight += steps[s][r, k];
                    for (int j = 0; j < _inputWidth; j++) imp[j] += weight * masks[s][r, j];
                }
                float total = imp.Sum();
                result[r] = total > 0 ? imp.Select(v => v / total).ToArray() : imp;
            }
        }
        return result;
    }

    private Optimizer MakeOptimizer(IEnumerable<Tensor> parameters) => _o.Ranger
        ? Lookahead.Ranger(parameters, _o.LearningRate)
        : new AdamW(parameters, _o.LearningRate, weightDecay: 0);

    /// <summary>Supervised training with early stopping on validation ROC-AUC (best epoch restored).</summary>
    public void Fit(TokenInputs train, IReadOnlyList<int> labels, TokenInputs validation, IReadOnlyList<int> validationLabels)
    {
        var opt = MakeOptimizer(Parameters());
        var order = Enumerable.Range(0, train.Rows).ToArray();
        var shuffle = new Random(_o.Seed);
        EarlyStopping.Run(this, new EarlyStoppingOptions { MaxEpochs = _o.MaxEpochs, Patience = _o.Patience }, ValidationCurve, _ =>
        {
            Train();
            shuffle.Shuffle(order);
            for (int s = 0; s + 1 < train.Rows; s += _o.BatchSize)
            {
                int n = Math.Min(_o.BatchSize, train.Rows - s);
                if (n < 2) break;   // batch norm needs two rows
                using var scope = new TensorScope();
                var y = new float[n];
                for (int i = 0; i < n; i++) y[i] = labels[order[s + i]];
                opt.ZeroGrad();
                var logits = Logits(train, order, s, n, out var maskTerm);
                // loss − λ·Σ M log M: the entropy of the masks is penalized
                (Tensor.BinaryCrossEntropyWithLogits(logits, Tensor.FromArray(y, n)) - maskTerm * _o.SparsityWeight).Backward();
                GradientClipping.ClipGradNorm(Parameters(), 1f);
                opt.Step();
            }
        }, () => Metrics.RocAuc(PredictProbability(validation), validationLabels));
    }

    /// <summary>
    /// Self-supervised pretraining: in each row a random <see cref="TabNetOptions.PretrainingRatio"/>
    /// of the features is hidden (zeroed, and given prior 0), and a decoder (a feature transformer per
    /// step over the decision outputs, summed, then a linear map) reconstructs them. Loss, as in
    /// pytorch-tabnet: squared error on hidden features divided by the batch variance of each feature,
    /// averaged per row over the hidden ones. The encoder keeps the best validation-loss weights.
    /// </summary>
    public void Pretrain(TokenInputs train, TokenInputs validation, int maxEpochs = 50)
    {
        var rng = new Rng((ulong)_o.Seed + 99);
        var decoder = new Decoder(_o, _inputWidth, rng);
        var opt = MakeOptimizer(Parameters().Concat(decoder.Parameters()));
        var order = Enumerable.Range(0, train.Rows).ToArray();
        var validOrder = Enumerable.Range(0, validation.Rows).ToArray();
        var shuffle = new Random(_o.Seed + 1);

        Tensor Loss(TokenInputs data, int[] ord, int s, int n, Rng maskRng) => ReconstructionLoss(decoder, data, ord, s, n, maskRng);

        EarlyStopping.Run(this, new EarlyStoppingOptions { MaxEpochs = maxEpochs, Patience = _o.Patience, LowerIsBetter = true }, PretrainingCurve, _ =>
        {
            Train(); decoder.Train();
            shuffle.Shuffle(order);
            for (int s = 0; s + 1 < train.Rows; s += _o.BatchSize)
            {
                int n = Math.Min(_o.BatchSize, train.Rows - s);
                if (n < 2) break;
                using var scope = new TensorScope();
                opt.ZeroGrad();
                Loss(train, order, s, n, rng).Backward();
                GradientClipping.ClipGradNorm(Parameters().Concat(decoder.Parameters()), 1f);
                opt.Step();
            }
        }, () =>
        {
            Eval(); decoder.Eval();
            double total = 0; int batches = 0;
            var validRng = new Rng((ulong)_o.Seed + 7);   // the same hidden features every epoch
            using (GradMode.NoGrad())
                for (int s = 0; s + 1 < validation.Rows; s += 2048)
                {
                    using var scope = new TensorScope();
                    total += Loss(validation, validOrder, s, Math.Min(2048, validation.Rows - s), validRng).Item(); batches++;
                }
            return total / Math.Max(1, batches);
        });
    }

    /// <summary>
    /// The pretraining loss of rows <paramref name="ord"/>[s..s+n): hide a random share of the features,
    /// encode the rest, decode, and weigh the squared error on the hidden ones by each feature's batch variance.
    /// </summary>
    private Tensor ReconstructionLoss(Decoder decoder, TokenInputs data, int[] ord, int s, int n, Rng maskRng)
    {
        var x = Embed(data, ord, s, n);
        var hidden = new float[n * _inputWidth];
        for (int i = 0; i < hidden.Length; i++) hidden[i] = maskRng.NextFloat() < _o.PretrainingRatio ? 1 : 0;
        var obf = Tensor.FromArray(hidden, n, _inputWidth);
        var keep = obf.RSubScalar(1f);
        var (steps, _, _, _) = Encode(x * keep, keep);
        var reconstruction = decoder.Forward(steps);
        var err = (reconstruction - x).Pow(2f) * obf / Tensor.FromArray(BatchVariance(x, n, _inputWidth), _inputWidth);
        var counts = obf.Sum(1).AddScalar(1e-9f);
        return (err.Sum(1) / counts).MeanAll();
    }

    /// <summary>Per-feature batch variance of the target (no gradient); zero variances get the mean of the others.</summary>
    private static float[] BatchVariance(Tensor x, int n, int width)
    {
        var variance = new float[width];
        using (GradMode.NoGrad())
        {
            var xs = x.Data;
            for (int j = 0; j < width; j++)
            {
                double m = 0, v = 0;
                for (int i = 0; i < n; i++) m += xs[i * width + j];
                m /= n;
                for (int i = 0; i < n; i++) v += (xs[i * width + j] - m) * (xs[i * width + j] - m);
                variance[j] = (float)(v / Math.Max(1, n - 1));
            }
            float mean = variance.Where(v => v > 0).DefaultIfEmpty(1f).Average();
            for (int j = 0; j < width; j++) if (variance[j] == 0) variance[j] = mean;
        }
        return variance;
    }

    /// <summary>Per-step feature transformers over the decision outputs, summed, then mapped back to the inputs.</summary>
    private sealed class Decoder : Module
    {
        private readonly ModuleList<FeatureTransformer> _steps;
        private readonly Linear _reconstruction;

        public Decoder(TabNetOptions o, int inputWidth, Rng rng)
        {
            var shared = RegisterModule("shared", new ModuleList<GluLayer>([new GluLayer(o.DecisionWidth, o.DecisionWidth, o, rng)]));
            var stepOptions = o with { StepLayers = 1 };
            _steps = RegisterModule("feat_transformers", new ModuleList<FeatureTransformer>(Enumerable.Range(0, o.Steps)
                .Select(_ => new FeatureTransformer(shared.Items, o.DecisionWidth, o.DecisionWidth, stepOptions, rng))));
            _reconstruction = RegisterModule("reconstruction", new Linear(o.DecisionWidth, inputWidth, rng, bias: false));
        }

        public Tensor Forward(List<Tensor> steps)
        {
            Tensor? sum = null;
            for (int s = 0; s < steps.Count; s++) { var h = _steps[s].Forward(steps[s]); sum = sum is null ? h : sum + h; }
            return _reconstruction.Forward(sum!);
        }
    }
}
