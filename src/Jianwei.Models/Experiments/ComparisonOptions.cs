using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Transformers;
using Jianwei.Text;

namespace Jianwei.Models.Experiments;

/// <summary>Settings of a <see cref="Comparison"/> run.</summary>
public sealed record ComparisonOptions
{
    /// <summary>Modes to run, in order (see <see cref="Comparison.Modes"/>).</summary>
    public IReadOnlyList<string> Modes { get; init; } = Comparison.Modes;
    /// <summary>Stratified folds.</summary>
    public int Folds { get; init; } = 5;
    /// <summary>
    /// A learning curve: for each count, only a stratified sample of that many of each fold's training rows
    /// keeps its labels (the same sample for every mode; the rest are unlabeled rows, which self-supervised
    /// pretraining reads anyway), and every mode is scored on the whole test fold. Null: every training row
    /// is labeled. A count at or above a fold's training rows keeps them all.
    /// </summary>
    public IReadOnlyList<int>? LabelCounts { get; init; }
    /// <summary>Seed of the folds and the learners.</summary>
    public int Seed { get; init; }
    /// <summary>Wall-clock cap of each self-supervised pretraining (the rest of a mode is not capped).</summary>
    public TimeSpan PretrainBudget { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>
    /// Steps of each self-supervised pretraining instead of <see cref="PretrainBudget"/> (0: the budget
    /// decides). A budget's step count follows the machine's speed, and with it the learning-rate
    /// schedule and every later score; a step count gives the same scores on any machine.
    /// </summary>
    public int PretrainSteps { get; init; }
    /// <summary>Encoder size of the transformer modes (the best preset's, by default).</summary>
    public EncoderConfig Encoder { get; init; } = new MultimodalLearnerOptions().Encoder;
    /// <summary>Pieces per text column (the best preset's, by default).</summary>
    public int TextBudget { get; init; } = new MultimodalLearnerOptions().TextBudget;
    /// <summary>Layers whose [CLS] the multimodal head reads (1: the last only), as <see cref="MultimodalLearnerOptions.HeadLayers"/>.</summary>
    public int HeadLayers { get; init; } = 1;
    /// <summary>Buckets of the multimodal modes' keyword channel (0: none), as <see cref="MultimodalLearnerOptions.KeywordBuckets"/>.</summary>
    public int KeywordBuckets { get; init; } = new MultimodalLearnerOptions().KeywordBuckets;
    /// <summary>
    /// Fine-tuning of the multimodal modes (regularizers, optimizer, losses); its seed is replaced by the
    /// fold's. With R-Drop or pseudo-labels on, the unlabeled rows also get the consistency or FixMatch term.
    /// </summary>
    public MultimodalFineTuneOptions FineTune { get; init; } = new() { MaxEpochs = 8, Patience = 2 };
    /// <summary>Chinese segmenter for vocabulary training and whole-word masking, or null.</summary>
    public ChineseSegmenter? Segmenter { get; init; }
    /// <summary>Folds the ensemble mode bags each candidate over (within each outer fold).</summary>
    public int EnsembleFolds { get; init; } = 5;
    /// <summary>Configurations the ensemble mode's tuning search tries per boosted-tree candidate.</summary>
    public int EnsembleTrials { get; init; } = 12;
    /// <summary>Progress lines, or null.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>One mode's scores, mean and standard deviation over folds, with <paramref name="Labels"/> labeled training rows per fold (on average).</summary>
public sealed record ModeResult(string Mode, double Auc, double AucStd, double PrAuc, double Ks, double Accuracy, double Seconds, int Folds, int Labels);
