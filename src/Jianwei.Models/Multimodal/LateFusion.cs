using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Neural;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;
using DenseLayer = Jianwei.Tensors.Nn.Linear;

namespace Jianwei.Models.Multimodal;

/// <summary>
/// Late fusion, the baseline the co-pretrained model is measured against: a text model and a table
/// model trained separately (each on its own labels-only task), then joined — the text encoder's
/// pooled [CLS] and the FT-Transformer's [CLS] representation concatenated into a new head — and
/// fine-tuned together, encoders at a tenth of the head's learning rate, early-stopped on validation
/// ROC-AUC.
/// </summary>
public sealed class LateFusion : Module
{
    private readonly TransformerEncoder _text;
    private readonly FtTransformer _table;
    private readonly DenseLayer _hidden, _output;
    private readonly Dropout _dropout;
    private readonly int _padId;

    /// <summary>Joins a (fine-tuned) text encoder and a (trained) FT-Transformer under a fresh head.</summary>
    public LateFusion(TransformerEncoder text, FtTransformer table, int padId, Rng rng)
    {
        _text = RegisterModule("text", text);
        _table = RegisterModule("table", table);
        int h = text.Config.HiddenSize, d = table.Options.Dim;
        _hidden = RegisterModule("head_hidden", new DenseLayer(h + d, h, rng));
        _output = RegisterModule("head_output", new DenseLayer(h, 1, rng));
        _dropout = RegisterModule("head_dropout", new Dropout(text.Config.HiddenDropout, rng.Fork()));
        _padId = padId;
    }

    /// <summary>Validation ROC-AUC after each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> ValidationCurve { get; } = new();

    private Tensor Logits(IReadOnlyList<TokenSequence> text, TokenInputs table, int[] order, int start, int count)
    {
        var batch = TokenCorpus.MakeBatch(Enumerable.Range(start, count).Select(i => text[order[i]]).ToList(), _padId);
        var textPart = _text.Pool(_text.Forward(new EncoderInputs { Ids = batch.Ids, KeyMask = batch.KeyMask }));   // [b, H]
        var tablePart = _table.Represent(table, order, start, count);                                           // [b, d]
        var joined = Tensor.Concat(1, textPart, tablePart);                                                      // [b, H + d]
        return _output.Forward(_dropout.Forward(_hidden.Forward(_dropout.Forward(joined)).Gelu())).Reshape(count);
    }

    /// <summary>Joint fine-tuning with AdamW (head at <paramref name="learningRate"/>, both encoders at a tenth), keeping the best validation epoch.</summary>
    public void Fit(IReadOnlyList<TokenSequence> text, TokenInputs table, IReadOnlyList<int> labels,
                    IReadOnlyList<TokenSequence> validationText, TokenInputs validationTable, IReadOnlyList<int> validationLabels,
                    int epochs = 3, int batchSize = 32, float learningRate = 5e-4f, ulong seed = 0)
    {
        var encoderParameters = _text.Parameters().Concat(_table.Parameters()).ToHashSet();
        var optimizer = new AdamW([
            new ParamGroup(encoderParameters, learningRate / 10, 0.01f),
            new ParamGroup(Parameters().Where(p => !encoderParameters.Contains(p)), learningRate, 0.01f)]);
        var order = Enumerable.Range(0, text.Count).ToArray();
        double best = double.NegativeInfinity;
        Dictionary<string, float[]>? bestState = null;
        ValidationCurve.Clear();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            Train();
            new Rng(Rng.Mix(seed, (ulong)epoch)).Shuffle<int>(order);
            for (int s = 0; s < order.Length; s += batchSize)
            {
                int count = Math.Min(batchSize, order.Length - s);
                using var scope = new TensorScope();
                var y = Enumerable.Range(s, count).Select(i => (float)labels[order[i]]).ToArray();
                optimizer.ZeroGrad();
                Tensor.BinaryCrossEntropyWithLogits(Logits(text, table, order, s, count), Tensor.FromArray(y, count)).Backward();
                GradientClipping.ClipGradNorm(TrainableParameters(), 1f);
                optimizer.Step();
            }
            double auc = Metrics.RocAuc(PredictProbability(validationText, validationTable), validationLabels);
            ValidationCurve.Add(auc);
            if (auc > best) { best = auc; bestState = CopyState(); }
        }
        if (bestState is not null) RestoreState(bestState);
    }

    /// <summary>Probabilities for every row, in order.</summary>
    public double[] PredictProbability(IReadOnlyList<TokenSequence> text, TokenInputs table, int batchSize = 64)
    {
        bool wasTraining = IsTraining;
        Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            var order = Enumerable.Range(0, text.Count).ToArray();
            var p = new double[text.Count];
            for (int s = 0; s < text.Count; s += batchSize)
            {
                int count = Math.Min(batchSize, text.Count - s);
                using var scope = new TensorScope();
                var logits = Logits(text, table, order, s, count).Data;
                for (int i = 0; i < count; i++) p[s + i] = 1 / (1 + Math.Exp(-logits[i]));
            }
            return p;
        }
        finally { Train(wasTraining); }
    }
}
