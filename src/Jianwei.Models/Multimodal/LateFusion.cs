using Jianwei.Evaluation;
using Jianwei.Models.Features;
using Jianwei.Models.Neural;
using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;

namespace Jianwei.Models.Multimodal;

/// <summary>
/// Late fusion, the baseline the co-pretrained model is measured against: a text model and a table
/// model trained separately (each on its own labels-only task), then joined — the text model's pooled
/// row representation ([CLS], mean, max and attention pooling of a texts-only
/// <see cref="MultimodalTransformer"/>) and the FT-Transformer's [CLS] representation concatenated
/// into a new head — and fine-tuned together, both models at a tenth of the head's learning rate,
/// keeping the epoch with the best validation ROC-AUC.
/// </summary>
public sealed class LateFusion : Module
{
    private readonly MultimodalTransformer _text;
    private readonly FtTransformer _table;
    private readonly Linear _hidden, _output;
    private readonly Dropout _dropout;

    /// <summary>
    /// Joins a (fine-tuned) texts-only multimodal model — one built on a table without cells — and a
    /// (trained) FT-Transformer under a fresh head.
    /// </summary>
    public LateFusion(MultimodalTransformer text, FtTransformer table, Rng rng)
    {
        if (text.CellCount != 0)
            throw new ArgumentException($"late fusion's text model reads texts only; this one also reads {text.CellCount} table cells.", nameof(text));
        _text = RegisterModule("text", text);
        _table = RegisterModule("table", table);
        int h = text.Bert.Config.HiddenSize;
        _hidden = RegisterModule("head_hidden", new Linear(text.PooledSize + table.Options.Dim, h, rng));
        _output = RegisterModule("head_output", new Linear(h, 1, rng));
        _dropout = RegisterModule("head_dropout", new Dropout(text.Bert.Config.HiddenDropout, rng.Fork()));
    }

    /// <summary>Validation ROC-AUC after each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> ValidationCurve { get; } = new();

    private Tensor Logits(MultimodalRows text, TokenInputs table, int[] order, int start, int count)
    {
        var textPart = _text.Pooled(_text.Encode(text, order, start, count));                   // [b, (3 + k)·H]
        var tablePart = _table.Represent(table, order, start, count);                           // [b, d]
        var joined = Tensor.Concat(1, textPart, tablePart);                                   // [b, (3 + k)·H + d]
        return _output.Forward(_dropout.Forward(_hidden.Forward(_dropout.Forward(joined)).Gelu())).Reshape(count);
    }

    /// <summary>
    /// Joint fine-tuning with AdamW (head at <paramref name="learningRate"/>, both models at a tenth),
    /// keeping the best validation epoch. <paramref name="text"/> holds the rows' texts (a table without
    /// cells), <paramref name="table"/> the same rows' cells.
    /// </summary>
    public void Fit(MultimodalRows text, TokenInputs table, IReadOnlyList<int> labels, MultimodalRows validationText, TokenInputs validationTable,
                    IReadOnlyList<int> validationLabels, int epochs = 3, int batchSize = 32, float learningRate = 5e-4f, ulong seed = 0)
    {
        if (text.Count != table.Rows || text.Count != labels.Count)
            throw new ArgumentException($"texts ({text.Count}), table rows ({table.Rows}) and labels ({labels.Count}) must be the same rows.");
        var encoderParameters = _text.Parameters().Concat(_table.Parameters()).ToHashSet();
        var optimizer = new AdamW([
            new ParamGroup(encoderParameters, learningRate / 10, 0.01f),
            new ParamGroup(Parameters().Where(p => !encoderParameters.Contains(p)), learningRate, 0.01f)]);
        var order = Enumerable.Range(0, text.Count).ToArray();
        EarlyStopping.Run(this, new EarlyStoppingOptions { MaxEpochs = epochs }, ValidationCurve, epoch =>
        {
            Train();
            new Rng(Rng.Mix(seed, (ulong)epoch)).Shuffle<int>(order);
            for (int s = 0, step = 0; s < order.Length; s += batchSize, step++)
            {
                int count = Math.Min(batchSize, order.Length - s);
                using var scope = new TensorScope();
                ReseedRandom(Rng.Mix(seed ^ 0xF05E, (ulong)(epoch * order.Length + step)));
                var y = Enumerable.Range(s, count).Select(i => (float)labels[order[i]]).ToArray();
                optimizer.ZeroGrad();
                TakeAddedLosses();
                var loss = Tensor.BinaryCrossEntropyWithLogits(Logits(text, table, order, s, count), Tensor.FromArray(y, count));
                (TakeAddedLosses() is { } added ? loss + added : loss).Backward();             // + the experts' load balancing
                GradientClipping.ClipGradNorm(TrainableParameters(), 1f);
                optimizer.Step();
            }
        }, () => Metrics.RocAuc(PredictProbability(validationText, validationTable), validationLabels));
    }

    /// <summary>Probabilities for every row, in order.</summary>
    public double[] PredictProbability(MultimodalRows text, TokenInputs table, int batchSize = 64)
    {
        var order = Enumerable.Range(0, text.Count).OrderBy(i => text.Text[i].Length).ToArray();   // little padding
        return BatchedPrediction.Probabilities(this, order, batchSize, (s, count) => Logits(text, table, order, s, count));
    }
}
