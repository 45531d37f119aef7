using Jianwei.Models.Pretraining;
using Jianwei.Models.Transformers;
using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Bench;

/// <summary>Fine-tuning settings of a <see cref="SequenceClassifier"/> (the downstream probe of <c>bench pretrain</c>).</summary>
internal sealed record FineTuneOptions
{
    /// <summary>Passes over the training sequences.</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Sequences per step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak AdamW learning rate.</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>Warm-up as a fraction of all steps.</summary>
    public double WarmupFraction { get; init; } = 0.1;
    /// <summary>AdamW weight decay on matrices.</summary>
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>Seed for batches and dropout.</summary>
    public ulong Seed { get; init; }
    /// <summary>Progress bar target, or null.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>
/// Binary text classification over a <see cref="TransformerEncoder"/>, Hugging Face's
/// <c>BertForSequenceClassification</c> with one logit: pooled [CLS] → dropout → linear, trained with
/// binary cross-entropy. Start it from a pretrained encoder or from scratch.
/// </summary>
internal sealed class SequenceClassifier : Module
{
    /// <summary>"bert".</summary>
    public TransformerEncoder Encoder { get; }
    /// <summary>"classifier": H → 1.</summary>
    public Linear Classifier { get; }
    private readonly Dropout _dropout;
    private readonly int _padId;

    /// <summary>Wraps <paramref name="encoder"/> (trained further) with a fresh head.</summary>
    public SequenceClassifier(TransformerEncoder encoder, int padId, Rng rng)
    {
        Encoder = RegisterModule("bert", encoder);
        Classifier = RegisterModule("classifier", new Linear(encoder.Config.HiddenSize, 1, rng));
        BertInitialization.Apply(Classifier, encoder.Config.InitializerRange, rng);
        _dropout = RegisterModule("dropout", new Dropout(encoder.Config.HiddenDropout, rng.Fork()));
        _padId = padId;
    }

    /// <summary>Logits [b] of a batch.</summary>
    public Tensor Logits(TokenBatch batch)
    {
        var hidden = Encoder.Forward(new EncoderInputs { Ids = batch.Ids, KeyMask = batch.KeyMask });   // [b, n, H]
        return Classifier.Forward(_dropout.Forward(Encoder.Pool(hidden))).Reshape(-1);
    }

    /// <summary>Fine-tunes on <paramref name="sequences"/> with 0/1 <paramref name="labels"/>.</summary>
    public TrainingResult Fit(IReadOnlyList<TokenSequence> sequences, IReadOnlyList<int> labels, FineTuneOptions options)
    {
        if (sequences.Count != labels.Count) throw new ArgumentException($"{sequences.Count} sequences but {labels.Count} labels.");
        var corpus = new TokenCorpus(sequences, new SpecialTokens(_padId, -1, -1, -1, -1));
        int perEpoch = (sequences.Count + options.BatchSize - 1) / options.BatchSize;
        int steps = perEpoch * options.Epochs;
        var task = new Task(this, corpus, labels, options.BatchSize, options.Seed);
        return new Trainer(task, new TrainerOptions
        {
            MaxSteps = steps, WarmupSteps = (int)(steps * options.WarmupFraction), LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay, Seed = options.Seed, Progress = options.Progress, Label = "fine-tune", LogEvery = Math.Max(1, perEpoch / 4),
        }).Run();
    }

    /// <summary>Probabilities of the positive class, in input order.</summary>
    public float[] PredictProbabilities(IReadOnlyList<TokenSequence> sequences, int batchSize = 64)
    {
        bool wasTraining = IsTraining;
        Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            var result = new float[sequences.Count];
            // Length-sorted batches waste nothing on padding; results go back to input order.
            var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Length).ToArray();
            for (int start = 0; start < order.Length; start += batchSize)
            {
                using var scope = new TensorScope();
                var idx = order.Skip(start).Take(batchSize).ToArray();
                var logits = Logits(TokenCorpus.MakeBatch(idx.Select(i => sequences[i]).ToList(), _padId)).Sigmoid();
                for (int j = 0; j < idx.Length; j++) result[idx[j]] = logits.Data[j];
            }
            return result;
        }
        finally { Train(wasTraining); }
    }

    private sealed class Task(SequenceClassifier model, TokenCorpus corpus, IReadOnlyList<int> labels, int batchSize, ulong seed) : ITrainingTask
    {
        public Module Model => model;

        public TrainingStepResult Step(long microBatch, Rng rng)
        {
            var indices = corpus.MicroBatch(microBatch, batchSize, seed);
            var batch = corpus.MakeBatch(indices);
            var targets = Tensor.FromArray(indices.Select(i => (float)labels[i]).ToArray(), indices.Length);
            return new TrainingStepResult(Tensor.BinaryCrossEntropyWithLogits(model.Logits(batch), targets), batch.Tokens);
        }

        public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double>();
    }
}
