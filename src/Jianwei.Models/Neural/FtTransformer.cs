using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Layers;
using Jianwei.Models.Training;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;
using Jianwei.Tensors;

namespace Jianwei.Models.Neural;

/// <summary>Size and training settings of <see cref="FtTransformer"/>.</summary>
public sealed record FtTransformerOptions
{
    /// <summary>Token width.</summary>
    public int Dim { get; init; } = 64;
    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Feed-forward width as a multiple of <see cref="Dim"/>.</summary>
    public int FeedForwardMultiple { get; init; } = 2;
    /// <summary>Dropout on residual branches.</summary>
    public float Dropout { get; init; } = 0.1f;
    /// <summary>AdamW learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;
    /// <summary>AdamW weight decay.</summary>
    public float WeightDecay { get; init; } = 1e-5f;
    /// <summary>Rows per step.</summary>
    public int BatchSize { get; init; } = 256;
    /// <summary>Most epochs.</summary>
    public int MaxEpochs { get; init; } = 60;
    /// <summary>Stop after this many epochs without a better validation ROC-AUC.</summary>
    public int Patience { get; init; } = 8;
    /// <summary>Seed for initialization, dropout and shuffling.</summary>
    public int Seed { get; init; }
    /// <summary>Wall-clock cap on training: no epoch starts that would end past it (the first always runs); null for none.</summary>
    public TimeSpan? TimeBudget { get; init; }
}

/// <summary>
/// FT-Transformer (Gorishniy et al. 2021): every feature becomes a token — a numeric value x_j as
/// x_j·W_j + b_j, a category as its embedding plus b_j — a learned [CLS] token is prepended, and
/// pre-LN transformer blocks (multi-head attention, GELU feed-forward) mix them; the head reads [CLS]
/// through LayerNorm → ReLU → Linear. This feature tokenizer is what the multimodal model uses for
/// the table. Trained with AdamW and early stopping on validation ROC-AUC (best epoch restored).
/// </summary>
public sealed partial class FtTransformer : Module
{
    private readonly int _dim, _heads;
    private readonly FeatureTokenizer _tokenizer;
    private readonly Tensor _cls;
    private readonly ModuleList<Block> _blocks;
    private readonly LayerNorm _headNorm;
    private readonly Linear _head;

    /// <summary>Validation ROC-AUC after each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> ValidationCurve { get; } = new();

    /// <summary>
    /// Creates the model for <paramref name="numeric"/> numeric inputs of <paramref name="numericWidth"/>
    /// values each (1: x·W + b; more: a piecewise-linear encoding e times a [width, d] matrix, plus b) and
    /// categorical inputs of the given vocabulary sizes.
    /// </summary>
    public FtTransformer(int numeric, IReadOnlyList<int> categorySizes, FtTransformerOptions options, int numericWidth = 1)
    {
        Options = options;
        _dim = options.Dim; _heads = options.Heads;
        var rng = new Rng((ulong)options.Seed);
        float s = 1f / MathF.Sqrt(_dim);
        _tokenizer = RegisterModule("tokenizer", new FeatureTokenizer(numeric, categorySizes, _dim, rng, numericWidth));
        _cls = RegisterParameter("cls", Tensor.Uniform(rng, -s, s, 1, 1, _dim));
        _blocks = RegisterModule("blocks", new ModuleList<Block>(Enumerable.Range(0, options.Layers).Select(_ => new Block(_dim, options.Heads, options.FeedForwardMultiple * _dim, options.Dropout, rng))));
        _headNorm = RegisterModule("head_norm", new LayerNorm(_dim));
        _head = RegisterModule("head", new Linear(_dim, 1, rng));
    }

    /// <summary>The settings.</summary>
    public FtTransformerOptions Options { get; }

    private sealed class Block : Module
    {
        private readonly LayerNorm _ln1, _ln2;
        private readonly Linear _qkv, _out, _ff1, _ff2;
        private readonly Dropout _drop;
        private readonly int _heads;

        public Block(int d, int heads, int ff, float dropout, Rng rng)
        {
            _heads = heads;
            _ln1 = RegisterModule("ln1", new LayerNorm(d)); _ln2 = RegisterModule("ln2", new LayerNorm(d));
            _qkv = RegisterModule("qkv", new Linear(d, 3 * d, rng)); _out = RegisterModule("out", new Linear(d, d, rng));
            _ff1 = RegisterModule("ff1", new Linear(d, ff, rng)); _ff2 = RegisterModule("ff2", new Linear(ff, d, rng));
            _drop = RegisterModule("drop", new Dropout(dropout, rng.Fork()));
        }

        public Tensor Forward(Tensor x)   // [b, tokens, d]
        {
            int dh = x.Dim(2) / _heads;
            var a = Tensor.MultiHeadAttentionPacked(_qkv.Forward(_ln1.Forward(x)), _heads, null, 1f / MathF.Sqrt(dh));
            x = x + _drop.Forward(_out.Forward(a));
            return x + _drop.Forward(_ff2.Forward(_ff1.Forward(_ln2.Forward(x)).Gelu()));
        }
    }

    /// <summary>Log-odds for rows [start, start + count) of <paramref name="inputs"/>, in the given row order.</summary>
    private Tensor Logits(TokenInputs inputs, int[] order, int start, int count) =>
        _head.Forward(Represent(inputs, order, start, count)).Reshape(count);             // [b]

    /// <summary>The rows' representation [b, d] the head reads: the normalized, rectified [CLS] state (late fusion joins it with a text model's).</summary>
    public Tensor Represent(TokenInputs inputs, int[] order, int start, int count) => RepresentTokens(_tokenizer.Forward(inputs, order, start, count));

    /// <summary>The representation [b, d] of feature tokens [b, features, d] (what attribution differentiates through).</summary>
    private Tensor RepresentTokens(Tensor tokens)
    {
        int count = tokens.Dim(0);
        var h = Tensor.Concat(1, _cls * Tensor.Ones(count, 1, 1), tokens);                 // [b, 1 + features, d]
        foreach (var block in _blocks.Items) h = block.Forward(h);
        var cls = h.Slice(1, 0, 1).Reshape(count, _dim);
        return _headNorm.Forward(cls).Relu();                                             // [b, d]
    }

    /// <summary>Probabilities for all rows of <paramref name="inputs"/>.</summary>
    public double[] PredictProbability(TokenInputs inputs)
    {
        var order = Enumerable.Range(0, inputs.Rows).ToArray();
        return BatchedPrediction.Probabilities(this, order, 1024, (s, n) => Logits(inputs, order, s, n));
    }

    /// <summary>Trains with AdamW on mini-batches, keeping the parameters of the best validation epoch.</summary>
    public void Fit(TokenInputs train, IReadOnlyList<int> labels, TokenInputs validation, IReadOnlyList<int> validationLabels)
    {
        var opt = new AdamW(Parameters(), Options.LearningRate, Options.WeightDecay);
        var order = Enumerable.Range(0, train.Rows).ToArray();
        var shuffle = new Random(Options.Seed);
        EarlyStopping.Run(this, new EarlyStoppingOptions { MaxEpochs = Options.MaxEpochs, Patience = Options.Patience, TimeBudget = Options.TimeBudget }, ValidationCurve, _ =>
        {
            Train();
            shuffle.Shuffle(order);
            for (int s = 0; s < train.Rows; s += Options.BatchSize)
            {
                int n = Math.Min(Options.BatchSize, train.Rows - s);
                using var scope = new TensorScope();
                var y = new float[n];
                for (int i = 0; i < n; i++) y[i] = labels[order[s + i]];
                opt.ZeroGrad();
                Tensor.BinaryCrossEntropyWithLogits(Logits(train, order, s, n), Tensor.FromArray(y, n)).Backward();
                GradientClipping.ClipGradNorm(Parameters(), 1f);
                opt.Step();
            }
        }, () => Metrics.RocAuc(PredictProbability(validation), validationLabels));
    }
}
