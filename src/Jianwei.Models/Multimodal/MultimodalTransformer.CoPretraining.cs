using Jianwei.Data;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Multimodal;

/// <summary>Weights of the co-pretraining losses.</summary>
public sealed record CoPretrainingOptions
{
    /// <summary>Masked-token modelling on the text.</summary>
    public float TextWeight { get; init; } = 1f;
    /// <summary>Masked-cell modelling on the table.</summary>
    public float CellWeight { get; init; } = 1f;
    /// <summary>Row–text matching.</summary>
    public float MatchingWeight { get; init; } = 1f;
    /// <summary>Share of non-missing cells masked per row (at least one).</summary>
    public double CellRate { get; init; } = 0.15;
    /// <summary>Text masking.</summary>
    public MaskingOptions TextMasking { get; init; } = new();
    /// <summary>Quantile bins a masked number is classified into.</summary>
    public int NumericBins { get; init; } = 16;
}

public sealed partial class MultimodalTransformer
{
    /// <summary>What one co-pretraining batch masks and asks (exposed for tests).</summary>
    /// <param name="MaskedCells">[count, cells] cells replaced by the mask token.</param>
    /// <param name="CellTargets">For each masked cell (row-major), its target class (quantile bin or category id).</param>
    /// <param name="TextSource">For each row, the row whose text it reads (itself, or a negative).</param>
    public sealed record CoPretrainingPlan(bool[] MaskedCells, int[] CellTargets, int[] TextSource);

    /// <summary>Chooses masked cells (never missing ones) and text partners (never the row itself for a negative).</summary>
    public CoPretrainingPlan Plan(MultimodalRows rows, int[] order, int start, int count, CoPretrainingOptions options, Rng rng)
    {
        int f = CellCount, cats = _categorySizes.Count;
        var edges = Enumerable.Range(1, _bins - 1).Select(k => Data.QuantileTransformer.InverseNormalCdf(k / (double)_bins)).ToArray();
        var masked = new bool[count * f];
        var targets = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int r = order[start + i];
            var candidates = new List<int>();
            for (int j = 0; j < _numeric; j++)
            {
                if (_isIndicator[j]) continue;
                bool missing = j + 1 < _numeric && _isIndicator[j + 1] && rows.Table.Numeric[r * _numeric + j + 1] == 1f;
                if (!missing) candidates.Add(j);
            }
            for (int j = 0; j < cats; j++)
                if (rows.Table.Categorical[r * cats + j] != CategoricalVocabulary.MissingId) candidates.Add(_numeric + j);
            if (candidates.Count == 0) continue;
            int take = Math.Max(1, (int)Math.Round(candidates.Count * options.CellRate));
            var pick = candidates.ToArray();
            rng.Shuffle<int>(pick);
            foreach (int j in pick.Take(take).Order()) masked[i * f + j] = true;
        }
        for (int i = 0; i < count; i++)
        {
            int r = order[start + i];
            for (int j = 0; j < f; j++)
            {
                if (!masked[i * f + j]) continue;
                targets.Add(j < _numeric
                    ? edges.Count(e => e < rows.Table.Numeric[r * _numeric + j])              // quantile bin of the rank-Gauss value
                    : rows.Table.Categorical[r * cats + (j - _numeric)]);
            }
        }
        // Half the rows read another row's text (a random partner, never themselves). A table without
        // cells has nothing to match, and without the matching loss nothing would learn from a swap (the
        // masked cells and text would only be predicted beside a stranger's), so then every row keeps its own.
        var source = Enumerable.Range(0, count).ToArray();
        if (count > 1 && f > 0 && options.MatchingWeight > 0)
            for (int i = 0; i < count; i++)
                if (rng.NextDouble() < 0.5)
                {
                    int partner = rng.NextInt(count - 1);
                    source[i] = partner >= i ? partner + 1 : partner;
                }
        return new CoPretrainingPlan(masked, [.. targets], source);
    }

    /// <summary>The joint co-pretraining loss of rows order[start..start+count) and its parts.</summary>
    public PretrainingLoss CoPretrainingLoss(MultimodalRows rows, int[] order, int start, int count, CoPretrainingOptions options, Rng rng)
    {
        var plan = Plan(rows, order, start, count, options, rng);
        var masker = new TokenMasker(options.TextMasking, _special, Bert.Config.VocabSize);
        var text = new int[count][];
        var mlmWhere = new List<int>(); var mlmTargets = new List<int>();
        var matched = new float[count];
        int f = CellCount;
        var textRows = plan.TextSource.Select(s => rows.Text[order[start + s]]).ToArray();
        int n = f + textRows.Max(t => t.Length);
        for (int i = 0; i < count; i++)
        {
            var own = textRows[i];
            matched[i] = plan.TextSource[i] == i ? 1f : 0f;
            text[i] = (int[])own.InputIds.Clone();
            foreach (int p in masker.Choose(new TokenSequence(own.InputIds, own.WordIds), rng))
            {
                mlmWhere.Add(i * n + f + p);                                                  // text position p sits at f + p
                mlmTargets.Add(own.InputIds[p]);
                text[i][p] = masker.Corrupt(own.InputIds[p], rng);
            }
        }
        var (hidden, _) = Encode(rows, order, start, count, plan.MaskedCells, text);
        int h = hidden.Dim(2);
        var flat = hidden.Reshape(-1, h);                                                     // [b·n, H]
        var parts = new Dictionary<string, double>();
        Tensor? total = null;
        void Add(string name, Tensor loss, float weight)
        {
            parts[name] = loss.Item();
            total = total is null ? loss * weight : total + loss * weight;
        }
        if (mlmWhere.Count > 0 && options.TextWeight > 0)
            Add("text_mlm", Tensor.CrossEntropy(_mlm.Forward(flat.IndexSelect(0, new IntTensor([.. mlmWhere], mlmWhere.Count))), new IntTensor([.. mlmTargets], mlmTargets.Count)), options.TextWeight);
        if (plan.CellTargets.Length > 0 && options.CellWeight > 0) Add("masked_cells", MaskedCellLoss(plan, flat, count, n), options.CellWeight);
        // Without table cells there is nothing for a text to match.
        if (count > 1 && f > 0 && options.MatchingWeight > 0)
            Add("row_text_matching", Tensor.BinaryCrossEntropyWithLogits(_matching.Forward(TransformerEncoder.FirstToken(hidden)).Reshape(count), Tensor.FromArray(matched, count)), options.MatchingWeight);
        return new PretrainingLoss(total ?? throw new InvalidOperationException("every co-pretraining loss has weight 0."), parts);
    }

    /// <summary>
    /// The masked-cell loss: each masked cell's hidden state (at 1 + its column, of <paramref name="n"/>
    /// positions per row in <paramref name="flat"/> [b·n, H]) predicts its value's bin or category through
    /// its column's head; the columns' cross-entropies are weighted by their share of the masked cells.
    /// </summary>
    private Tensor MaskedCellLoss(CoPretrainingPlan plan, Tensor flat, int count, int n)
    {
        int f = CellCount;
        Tensor? cellLoss = null;
        int k = 0;
        var byColumn = new Dictionary<int, (List<int> Where, List<int> Targets)>();
        for (int i = 0; i < count; i++)
            for (int j = 0; j < f; j++)
            {
                if (!plan.MaskedCells[i * f + j]) continue;
                if (!byColumn.TryGetValue(j, out var list)) byColumn[j] = list = ([], []);
                list.Where.Add(i * n + 1 + j);
                list.Targets.Add(plan.CellTargets[k++]);
            }
        foreach (var (j, (where, targets)) in byColumn)
        {
            var logits = _cellHeads[j].Forward(flat.IndexSelect(0, new IntTensor([.. where], where.Count)));
            var loss = Tensor.CrossEntropy(logits, new IntTensor([.. targets], targets.Count)) * (where.Count / (float)plan.CellTargets.Length);
            cellLoss = cellLoss is null ? loss : cellLoss + loss;
        }
        return cellLoss!;
    }

    /// <summary>Co-pretraining as a <see cref="ITrainingTask"/> over <paramref name="rows"/> (labels unused).</summary>
    public ITrainingTask CoPretrainingTask(MultimodalRows rows, int batchSize, CoPretrainingOptions options, ulong seed) => new CoPretraining(this, rows, batchSize, options, seed);

    private sealed class CoPretraining(MultimodalTransformer model, MultimodalRows rows, int batchSize, CoPretrainingOptions options, ulong seed) : ITrainingTask
    {
        private int[] _order = [];
        private int _epoch = -1;

        public Module Model => model;

        public TrainingStepResult Step(long microBatch, Rng rng)
        {
            int perEpoch = Math.Max(1, rows.Count / batchSize);
            int epoch = (int)(microBatch / perEpoch);
            if (epoch != _epoch)
            {
                _order = Enumerable.Range(0, rows.Count).ToArray();
                new Rng(Rng.Mix(seed, (ulong)epoch)).Shuffle<int>(_order);
                _epoch = epoch;
            }
            int start = (int)(microBatch % perEpoch) * batchSize, count = Math.Min(batchSize, rows.Count - start);
            var loss = model.CoPretrainingLoss(rows, _order, start, count, options, rng);
            int tokens = Enumerable.Range(start, count).Sum(i => rows.Text[_order[i]].Length + model.CellCount);
            return new TrainingStepResult(loss.Loss, tokens, loss.Parts);
        }

        public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double>();
    }
}
