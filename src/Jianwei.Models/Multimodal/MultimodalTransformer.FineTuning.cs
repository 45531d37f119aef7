using Jianwei.Evaluation;
using Jianwei.Models.Losses;
using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Optim;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Multimodal;

/// <summary>Fine-tuning losses and schedule.</summary>
public sealed record MultimodalFineTuneOptions
{
    /// <summary>Most epochs.</summary>
    public int MaxEpochs { get; init; } = 10;
    /// <summary>Stop after this many epochs without a better validation ROC-AUC (the best epoch's weights are kept).</summary>
    public int Patience { get; init; } = 3;
    /// <summary>Rows per step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak learning rate of the head; the encoder's layers get it times <see cref="LayerDecay"/>^depth-from-top.</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>
    /// Peak learning rate of the keyword channel's weights (<see cref="MultimodalTransformer.KeywordBuckets"/>):
    /// ten times the head's by default, as each n-gram's weight is updated only by the few rows that hold it.
    /// </summary>
    public float KeywordLearningRate { get; init; } = 5e-3f;
    /// <summary>Where the keyword channel's weights start (see <see cref="Multimodal.KeywordStart"/>).</summary>
    public KeywordStart KeywordStart { get; init; } = KeywordStart.Auto;
    /// <summary>Layer-wise learning-rate decay (1: none).</summary>
    public float LayerDecay { get; init; } = 0.9f;
    /// <summary>
    /// Weight of positive rows in the loss (class imbalance); null: half the training rows' negative-to-positive
    /// ratio, at least 1 (a compromise between balanced and raw rates).
    /// </summary>
    public float? PositiveWeight { get; init; }
    /// <summary>Focal loss γ (0: plain cross-entropy).</summary>
    public float FocalGamma { get; init; }
    /// <summary>Label smoothing ε: targets become y(1 − ε) + ε/2.</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>Flooding level b (Ishida et al. 2020): the loss is |L − b| + b, so training stops descending below b (0: off).</summary>
    public float Flooding { get; init; }
    /// <summary>AdamW, or Ranger (RAdam wrapped in Lookahead, k = 6, α = 0.5).</summary>
    public FineTuneOptimizer Optimizer { get; init; } = FineTuneOptimizer.AdamW;
    /// <summary>Epochs that train only the head (the encoder and the cell embeddings frozen) before everything trains.</summary>
    public int FreezeEpochs { get; init; }
    /// <summary>
    /// FGM (Miyato et al. 2017) radius ε: each step also trains on the loss with the word and cell
    /// embeddings moved by ε·g/‖g‖ along their own gradient (0: off). Doubles the cost of a step.
    /// </summary>
    public float AdversarialEpsilon { get; init; }
    /// <summary>
    /// R-Drop weight α (Liang et al. 2021): every batch runs twice with different dropout and the two
    /// predictions are pulled together by their symmetric KL divergence; with unlabeled rows given to
    /// <see cref="MultimodalTransformer.Fit"/>, a batch of them gets the same consistency term (0: off).
    /// </summary>
    public float ConsistencyWeight { get; init; }
    /// <summary>
    /// Weight λ of FixMatch-style training on the unlabeled rows given to <see cref="MultimodalTransformer.Fit"/>
    /// (Sohn et al. 2020; 0: off): each step also takes a batch of them, predicts each under dropout
    /// alone (the weak view, no gradient), keeps the rows predicted with confidence at least
    /// <see cref="PseudoLabelThreshold"/> as hard pseudo-labels, and trains the strongly augmented rows
    /// (<see cref="RowAugmentation"/>) on them; the term is λ·Σ cross-entropy / batch rows.
    /// </summary>
    public float PseudoLabelWeight { get; init; }
    /// <summary>FixMatch's confidence threshold τ: a pseudo-label needs p ≥ τ (positive) or p ≤ 1 − τ (negative).</summary>
    public float PseudoLabelThreshold { get; init; } = 0.95f;
    /// <summary>The strong augmentation of the pseudo-labelled rows.</summary>
    public RowAugmentationOptions Augmentation { get; init; } = new();
    /// <summary>Weight of an auxiliary metric loss on the pooled row representation (0: off).</summary>
    public float ContrastiveWeight { get; init; }
    /// <summary>Which metric loss: supervised contrastive (Khosla et al. 2020) or batch-hard triplet.</summary>
    public ContrastiveKind Contrastive { get; init; } = ContrastiveKind.SupervisedContrastive;
    /// <summary>Temperature τ of the supervised contrastive loss.</summary>
    public float ContrastiveTemperature { get; init; } = 0.1f;
    /// <summary>Margin of the triplet loss (distances between unit vectors, 0..2).</summary>
    public float TripletMargin { get; init; } = 0.5f;
    /// <summary>How dropout rates change over fine-tuning (the model keeps its configured rates afterwards).</summary>
    public DropoutSchedule DropoutSchedule { get; init; } = DropoutSchedule.Constant;
    /// <summary>The schedule's N: epochs with dropout (early), without (late), or of the rise (curriculum).</summary>
    public double DropoutScheduleEpochs { get; init; } = 1;
    /// <summary>
    /// Decay d of an exponential moving average of the weights over steps (0: off): validation, early
    /// stopping and the kept model then use the average. 0.998 averages over roughly the last 500 steps.
    /// </summary>
    public float WeightAverageDecay { get; init; }
    /// <summary>When set, the weights are written here (safetensors, atomically) at every better validation ROC-AUC.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>Seed for batches and dropout.</summary>
    public ulong Seed { get; init; }
    /// <summary>Wall-clock cap: no epoch starts that would end past it (at least one epoch runs); null for none.</summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>Where the progress bar goes, or null.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>Where the keyword channel's weights start fine-tuning.</summary>
public enum KeywordStart
{
    /// <summary>At zero: the deep part alone at first, the channel learned alongside it.</summary>
    Zero,
    /// <summary>
    /// At logistic regression on the training rows' bags (C chosen by validation ROC-AUC; its intercept
    /// is the head's bias, and the deep part's output weights start at zero, so the model starts as that
    /// regression exactly; early stopping scores the start and keeps it if no epoch beats it): the convex
    /// problem solved to convergence, which a few hundred optimizer steps from zero are not. Worth +0.02 to
    /// +0.07 on review texts at 500 labels, −0.014 on the SME data.
    /// </summary>
    LogisticRegression,
    /// <summary>Both, fine-tuned from the same weights; the one with the higher best validation ROC-AUC is kept. Fine-tuning costs twice.</summary>
    Choose,
    /// <summary>
    /// <see cref="LogisticRegression"/> on a table of text alone, <see cref="Zero"/> on one with feature cells:
    /// at 500 labels the regression start is worth +0.02 to +0.07 on the three review sets, and costs
    /// 0.014 on the SME data, where the cells carry most of the signal and a start from the texts alone
    /// holds the deep part back (bench/README.md, 2026-12-08).
    /// </summary>
    Auto,
}

/// <summary>Optimizer of fine-tuning.</summary>
public enum FineTuneOptimizer
{
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
    /// <summary>RAdam inside Lookahead (k = 6, α = 0.5).</summary>
    Ranger,
}

/// <summary>Auxiliary metric loss on pooled row representations.</summary>
public enum ContrastiveKind
{
    /// <summary>Supervised contrastive: rows of one class attract, all others repel (temperature τ).</summary>
    SupervisedContrastive,
    /// <summary>Triplet with batch-hard mining: farthest same-class row nearer than the nearest other-class row by a margin.</summary>
    Triplet,
}

public sealed partial class MultimodalTransformer
{
    /// <summary>Validation ROC-AUC after each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> ValidationCurve { get; } = new();
    /// <summary>
    /// The validation ROC-AUC of the weights the last <see cref="Fit"/> kept: the best epoch's, or the
    /// start's when a fitted start (<see cref="KeywordStart.LogisticRegression"/>) was scored and no epoch beat it.
    /// </summary>
    public double BestValidation { get; private set; } = double.NaN;
    /// <summary>Mean training loss of each epoch of the last <see cref="Fit"/>.</summary>
    public List<double> TrainingLossCurve { get; } = new();

    /// <summary>
    /// Fine-tunes on labeled rows with AdamW or Ranger, layer-wise learning-rate decay (the head at the
    /// full rate, each encoder layer below it decayed once more, embeddings and cells last), warm-up, an
    /// optional frozen-encoder start, and early stopping on validation ROC-AUC; the best epoch's weights
    /// are kept (and written to <see cref="MultimodalFineTuneOptions.CheckpointPath"/> when set). The
    /// regularizers of <paramref name="options"/> — FGM, R-Drop consistency (also on
    /// <paramref name="unlabeled"/> rows), FixMatch pseudo-labels on <paramref name="unlabeled"/> rows, a contrastive or triplet term — join the loss when their weight is set,
    /// and a dropout schedule (early, late, curriculum) scales every dropout rate by epoch.
    /// </summary>
    public void Fit(MultimodalRows train, IReadOnlyList<int> labels, MultimodalRows validation, IReadOnlyList<int> validationLabels,
                    MultimodalFineTuneOptions options, MultimodalRows? unlabeled = null)
    {
        if (options.PositiveWeight is null)
        {
            int positives = labels.Count(v => v == 1);
            options = options with { PositiveWeight = Math.Max(1f, (labels.Count - positives) / (float)Math.Max(1, positives) / 2) };
        }
        FitKeywordIdf(train);   // TF-IDF weights from the rows fine-tuned on, as the vectorizer of logistic regression is fitted
        if (options.KeywordStart == KeywordStart.Auto)
            options = options with { KeywordStart = CellCount == 0 ? KeywordStart.LogisticRegression : KeywordStart.Zero };
        if (KeywordBuckets > 0 && options.KeywordStart == KeywordStart.Choose)
        {
            // Both starts from the same weights, without checkpoints; the better is kept (and checkpointed).
            var start = CopyState();
            var each = options with { CheckpointPath = null };
            FitOnce(train, labels, validation, validationLabels, each with { KeywordStart = KeywordStart.Zero }, unlabeled);
            var (zero, zeroCurve, zeroLoss, zeroBest) = (CopyState(), ValidationCurve.ToList(), TrainingLossCurve.ToList(), BestValidation);
            RestoreState(start);
            FitOnce(train, labels, validation, validationLabels, each with { KeywordStart = KeywordStart.LogisticRegression }, unlabeled);
            ChosenKeywordStart = BestValidation > zeroBest ? KeywordStart.LogisticRegression : KeywordStart.Zero;
            if (ChosenKeywordStart == KeywordStart.Zero)
            {
                RestoreState(zero);
                ValidationCurve.Clear(); ValidationCurve.AddRange(zeroCurve);
                TrainingLossCurve.Clear(); TrainingLossCurve.AddRange(zeroLoss);
                BestValidation = zeroBest;
            }
            if (options.CheckpointPath is not null) SafetensorsWriter.Save(options.CheckpointPath, StateDict());
            return;
        }
        ChosenKeywordStart = options.KeywordStart;
        FitOnce(train, labels, validation, validationLabels, options, unlabeled);
    }

    /// <summary>The keyword start the last <see cref="Fit"/> kept: <see cref="KeywordStart.Choose"/>'s or <see cref="KeywordStart.Auto"/>'s choice, else the one asked for.</summary>
    public KeywordStart ChosenKeywordStart { get; private set; }

    private void FitOnce(MultimodalRows train, IReadOnlyList<int> labels, MultimodalRows validation, IReadOnlyList<int> validationLabels,
                         MultimodalFineTuneOptions options, MultimodalRows? unlabeled)
    {
        if (options.KeywordStart == KeywordStart.LogisticRegression && KeywordBuckets > 0) WarmStartKeywords(train, labels, validation, validationLabels);
        var run = new FineTuningRun(this, train, labels, unlabeled, options);
        TrainingLossCurve.Clear();
        var average = options.WeightAverageDecay > 0 ? new WeightAverage(Parameters(), options.WeightAverageDecay) : null;
        try
        {
            // With an average, it is what is validated and kept; training goes on from the live weights.
            BestValidation = EarlyStopping.Run(this, new EarlyStoppingOptions
            {
                MaxEpochs = options.MaxEpochs, Patience = options.Patience, TimeBudget = options.TimeBudget,
                KeepStart = options.KeywordStart == KeywordStart.LogisticRegression && KeywordBuckets > 0,
            }, ValidationCurve,
                epoch => TrainingLossCurve.Add(run.Epoch(epoch, average)),
                () => Metrics.RocAuc(PredictProbability(validation), validationLabels),
                () => average?.Swap(),
                () => { if (options.CheckpointPath is not null) SafetensorsWriter.Save(options.CheckpointPath, StateDict()); });
        }
        finally { run.Finish(); }
    }

    /// <summary>The keyword channel's weights from logistic regression on the bags (see <see cref="KeywordStart.LogisticRegression"/>).</summary>
    private void WarmStartKeywords(MultimodalRows train, IReadOnlyList<int> labels, MultimodalRows validation, IReadOnlyList<int> validationLabels)
    {
        SparseMatrix Bags(MultimodalRows rows) => SparseMatrix.FromRows(Enumerable.Range(0, rows.Count).Select(r =>
        {
            var (buckets, values) = Bag(KeywordSource(rows, r));   // the bags fine-tuning then reads, made once
            return (IReadOnlyList<(int, float)>)buckets.Zip(values).ToList();
        }).ToList(), KeywordBuckets);
        var (x, xValid) = (Bags(train), Bags(validation));
        Logistic.LogisticRegression? best = null;
        double bestAuc = double.NegativeInfinity;
        foreach (double c in new[] { 1, 0.3, 3, 0.1, 10, 30 })
        {
            var lr = Logistic.LogisticRegression.Fit(x, labels, new Logistic.LogisticRegressionOptions(C: c));
            double auc = Evaluation.Metrics.RocAuc(lr.PredictProbability(xValid), validationLabels);
            if (auc > bestAuc) (best, bestAuc) = (lr, auc);
        }
        for (int b = 0; b < KeywordBuckets; b++) _keywordWeights!.Data[b] = (float)best!.Weights[b];
        _output.Bias!.Data[0] = (float)best!.Intercept;
        // The deep part starts silent: the model is the regression exactly, and fine-tuning adds to it
        // only what the validation rows confirm (the start is scored and kept if no epoch beats it).
        _output.Weight.Data.Clear();
    }

    /// <summary>
    /// One fine-tuning run's state: parameter groups with layer-wise learning rates, the optimizer and
    /// its warm-up schedule, the row orders, the dropout schedule and the progress bar; one epoch at a time.
    /// </summary>
    private sealed class FineTuningRun
    {
        private readonly MultimodalTransformer _model;
        private readonly MultimodalRows _train;
        private readonly MultimodalRows? _unlabeled;
        private readonly IReadOnlyList<int> _labels;
        private readonly MultimodalFineTuneOptions _options;
        private readonly Optimizer _optimizer;
        private readonly List<Tensor> _backbone, _embeddings;
        private readonly int[] _order;
        private readonly int[]? _unlabeledOrder;
        private readonly int _total, _warmup;
        private readonly DropoutScheduler _dropout;
        private readonly ProgressBar? _bar;
        private readonly System.Diagnostics.Stopwatch _clock;
        private int _step;

        public FineTuningRun(MultimodalTransformer model, MultimodalRows train, IReadOnlyList<int> labels, MultimodalRows? unlabeled, MultimodalFineTuneOptions options)
        {
            _model = model; _train = train; _labels = labels; _unlabeled = unlabeled; _options = options;
            int layers = model.Bert.Config.Layers;
            static bool IsBackbone(string name) => name.StartsWith("bert.", StringComparison.Ordinal) || name.StartsWith("feature_", StringComparison.Ordinal);
            float Rate(string name)
            {
                if (name.StartsWith("bert.encoder.layer.", StringComparison.Ordinal))
                {
                    int set = int.Parse(name.Split('.')[3]);
                    return options.LearningRate * MathF.Pow(options.LayerDecay, layers - set);
                }
                if (name == "keyword_weights") return options.KeywordLearningRate;
                return IsBackbone(name) ? options.LearningRate * MathF.Pow(options.LayerDecay, layers + 1) : options.LearningRate;
            }
            var trainable = model.NamedParameters().Where(p => p.Parameter.RequiresGrad).ToList();
            _backbone = trainable.Where(p => IsBackbone(p.Name)).Select(p => p.Parameter).ToList();
            _embeddings = trainable.Where(p => p.Name == "bert.embeddings.word_embeddings.weight" || p.Name.StartsWith("feature_tokenizer.", StringComparison.Ordinal))
                .Select(p => p.Parameter).ToList();
            var groups = trainable.GroupBy(p => (Rate(p.Name), p.Parameter.Rank >= 2))
                .Select(g => new ParamGroup(g.Select(p => p.Parameter), g.Key.Item1, g.Key.Item2 ? 0.01f : 0f)).ToList();
            _optimizer = options.Optimizer == FineTuneOptimizer.Ranger ? new Lookahead(new RAdam(groups, decoupledWeightDecay: true)) : new AdamW(groups);
            _order = Enumerable.Range(0, train.Count).ToArray();
            _unlabeledOrder = unlabeled is { Count: > 0 } ? Enumerable.Range(0, unlabeled.Count).ToArray() : null;
            // RAdam's rectifier already holds the first steps back, so Ranger gets no warm-up of ours on top.
            int perEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
            _total = perEpoch * options.MaxEpochs;
            _warmup = options.Optimizer == FineTuneOptimizer.Ranger ? 0 : Math.Max(1, _total / 10);
            _clock = System.Diagnostics.Stopwatch.StartNew();
            _bar = options.Progress is null ? null : new ProgressBar(options.Progress, "fine-tune");
            _dropout = new DropoutScheduler(model, options.DropoutSchedule, options.DropoutScheduleEpochs);
        }

        /// <summary>Trains epoch <paramref name="epoch"/> (the encoder frozen during the first FreezeEpochs); returns its mean loss.</summary>
        public double Epoch(int epoch, WeightAverage? average)
        {
            bool frozen = epoch < _options.FreezeEpochs;
            foreach (var p in _backbone) p.RequiresGrad = !frozen;   // frozen: no gradient, so the optimizer skips them and backward stops at the head
            _model.Train();
            new Rng(Rng.Mix(_options.Seed, (ulong)epoch)).Shuffle<int>(_order);
            if (_unlabeledOrder is not null) new Rng(Rng.Mix(_options.Seed ^ 0x0DA7A, (ulong)epoch)).Shuffle<int>(_unlabeledOrder);
            double lossSum = 0;
            int batches = 0;
            for (int s = 0; s < _train.Count; s += _options.BatchSize, _step++)
            {
                int count = Math.Min(_options.BatchSize, _train.Count - s);
                using var scope = new TensorScope();
                _model.ReseedRandom(Rng.Mix(_options.Seed ^ 0xF17E, (ulong)_step));
                float multiplier = LearningRateSchedules.WarmupLinear(_step, _warmup, _total);
                _dropout.Apply(epoch + (double)s / _train.Count);
                foreach (var g in _optimizer.Groups) g.LearningRate = g.BaseLearningRate * multiplier;
                var loss = BatchLoss(s, count, batches);
                _optimizer.ZeroGrad();
                loss.Backward();
                if (_options.AdversarialEpsilon > 0 && !frozen)
                {
                    // FGM: one more pass at the embeddings pushed uphill along their gradient; its gradient adds to the clean one.
                    var restore = Fgm.PerturbAlongGradient(_embeddings, _options.AdversarialEpsilon);
                    var adversarial = Loss(_model.Logits(_model.Encode(_train, _order, s, count)), Labels(s, count), _options);
                    (_model.TakeAddedLosses() is { } added ? adversarial + added : adversarial).Backward();
                    restore();
                }
                GradientClipping.ClipGradNorm(_model.TrainableParameters(), 1f);
                _optimizer.Step();
                average?.Update();
                lossSum += loss.Item(); batches++;
                var curve = _model.ValidationCurve;
                _bar?.Update(_step + 1, _total, _clock.Elapsed, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"epoch {epoch + 1}{(frozen ? " (head only)" : "")} loss {lossSum / batches:0.0000}{(curve.Count > 0 ? $" best val AUC {curve.Max():0.0000}" : "")}"));
            }
            return lossSum / Math.Max(1, batches);
        }

        private float[] Labels(int start, int count) => Enumerable.Range(start, count).Select(i => (float)_labels[_order[i]]).ToArray();

        /// <summary>
        /// The loss of one batch: the labels' loss, with R-Drop consistency and a metric loss when their
        /// weights are set, and what the layers added (the experts' load balancing).
        /// </summary>
        private Tensor BatchLoss(int s, int count, int batches)
        {
            _model.TakeAddedLosses();                                                         // nothing left from a pass outside the step
            var y = Labels(s, count);
            var encoded = _model.Encode(_train, _order, s, count);
            var pooled = _model.Pooled(encoded);                                              // [b, (3 + k + c)·H]
            var logits = _model.Head(pooled, encoded);                                        // [b]
            var loss = Loss(logits, y, _options);
            if (_options.ConsistencyWeight > 0)
            {
                // R-Drop: the same rows again under fresh dropout masks; both passes learn the labels.
                var logits2 = _model.Logits(_model.Encode(_train, _order, s, count));
                loss = (loss + Loss(logits2, y, _options)) * 0.5f + ConsistencyLoss.SymmetricKl(logits, logits2) * _options.ConsistencyWeight;
                if (_unlabeledOrder is not null)
                {
                    int u = (int)((long)batches * count % _unlabeledOrder.Length), uc = Math.Min(count, _unlabeledOrder.Length - u);
                    var first = _model.Logits(_model.Encode(_unlabeled!, _unlabeledOrder, u, uc));
                    var second = _model.Logits(_model.Encode(_unlabeled!, _unlabeledOrder, u, uc));
                    loss = loss + ConsistencyLoss.SymmetricKl(first, second) * _options.ConsistencyWeight;
                }
            }
            if (_options.ContrastiveWeight > 0 && y.Distinct().Count() > 1)
                loss = loss + (_options.Contrastive == ContrastiveKind.Triplet
                    ? MetricLosses.Triplet(pooled, y, _options.TripletMargin)
                    : MetricLosses.SupervisedContrastive(pooled, y, _options.ContrastiveTemperature)) * _options.ContrastiveWeight;
            if (_options.PseudoLabelWeight > 0 && _unlabeledOrder is not null && PseudoLabelLoss(batches, count) is { } pseudo)
                loss = loss + pseudo * _options.PseudoLabelWeight;
            return _model.TakeAddedLosses() is { } added ? loss + added : loss;
        }

        /// <summary>
        /// FixMatch on the step's batch of unlabeled rows: hard pseudo-labels from the weak view (dropout
        /// only, no gradient), cross-entropy of the strong view on the confident rows, summed over them and
        /// divided by the batch's rows (FixMatch's normalization: few confident rows, a small term). Null when none is confident.
        /// </summary>
        private Tensor? PseudoLabelLoss(int batches, int count)
        {
            int u = (int)((long)batches * count % _unlabeledOrder!.Length), uc = Math.Min(count, _unlabeledOrder.Length - u);
            float[] weak;
            using (GradMode.NoGrad()) weak = _model.Logits(_model.Encode(_unlabeled!, _unlabeledOrder, u, uc)).ToArray();
            _model.TakeAddedLosses();                                                         // the weak pass trains nothing
            var (rows, targets) = PseudoLabels.Select(weak, _options.PseudoLabelThreshold);
            if (rows.Length == 0) return null;
            var strong = RowAugmentation.Strong(_unlabeled!, _unlabeledOrder, u, uc, _options.Augmentation, _model._special,
                                                new Rng(Rng.Mix(_options.Seed ^ 0xF1C5, (ulong)_step)));
            var logits = _model.Logits(_model.Encode(strong, Enumerable.Range(0, uc).ToArray(), 0, uc));                 // [uc]
            var confident = logits.IndexSelect(0, new IntTensor(rows, rows.Length));                                     // [k]
            return Tensor.BinaryCrossEntropyWithLogits(confident, Tensor.FromArray(targets, targets.Length)) * ((float)rows.Length / uc);
        }

        /// <summary>Unfreezes the backbone, puts the configured dropout rates back, closes the progress bar.</summary>
        public void Finish()
        {
            foreach (var p in _backbone) p.RequiresGrad = true;
            _dropout.Restore();
            _bar?.Finish();
        }
    }

    /// <summary>The fine-tuning loss of <paramref name="o"/>: <see cref="BinaryLoss.Of"/> with its weight, smoothing, focus and flooding.</summary>
    public static Tensor Loss(Tensor logits, float[] y, MultimodalFineTuneOptions o) =>
        BinaryLoss.Of(logits, y, o.PositiveWeight ?? 1f, o.LabelSmoothing, o.FocalGamma, o.Flooding);
}
