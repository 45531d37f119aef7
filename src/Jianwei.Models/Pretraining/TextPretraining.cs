using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Models.Pretraining;

/// <summary>Settings of <see cref="TextPretraining.Run"/>.</summary>
public sealed record TextPretrainingOptions
{
    /// <summary><c>mlm</c>, <c>electra</c> or <c>mpnet</c> (<see cref="TextPretraining.Objectives"/>).</summary>
    public string Objective { get; init; } = "mlm";
    /// <summary>The encoder's shape; its vocabulary size and positions are filled in from the vocabulary and <see cref="MaxLength"/>.</summary>
    public EncoderConfig Encoder { get; init; } = TextPretraining.Sizes["small"];
    /// <summary>Wall-clock budget.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(20);
    /// <summary>Tokens per sequence (longer texts become several).</summary>
    public int MaxLength { get; init; } = 128;
    /// <summary>A vocab.txt to use; null: the one a resumed run saved, else a WordPiece vocabulary trained on the texts.</summary>
    public string? VocabularyFile { get; init; }
    /// <summary>Size of a trained vocabulary.</summary>
    public int VocabularySize { get; init; } = 8000;
    /// <summary>Chinese segmenter for the vocabulary and whole-word masking, or null.</summary>
    public ChineseSegmenter? Segmenter { get; init; }
    /// <summary>Progress lines and bar, or null.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>What a pretraining run did.</summary>
/// <param name="Objective">Its objective's name.</param>
/// <param name="Training">Steps, tokens, logs, evaluations, whether it was interrupted.</param>
/// <param name="EncoderDirectory">Where the encoder was written (null when interrupted: only a checkpoint was).</param>
public sealed record TextPretrainingResult(string Objective, TrainingResult Training, string? EncoderDirectory);

/// <summary>A problem with what a pretraining run was given (the vocabulary, the texts), in words for the user.</summary>
/// <param name="field">What was wrong: <c>vocabulary</c> or <c>texts</c>.</param>
/// <param name="message">The problem, in words.</param>
public sealed class PretrainingInputException(string field, string message) : Exception(message)
{
    /// <summary>What was wrong: <c>vocabulary</c> or <c>texts</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Self-supervised pretraining of a text encoder on texts alone, as <c>jianwei pretrain</c> runs it: a
/// vocabulary (given, resumed or trained), the corpus cut into sequences with 5 % held out, one of the
/// objectives, the shared <see cref="Trainer"/> with checkpoints every 500 steps and on cancellation
/// (rerun in the same directory to resume exactly), and the encoder written in Hugging Face's layout.
/// </summary>
public static class TextPretraining
{
    /// <summary>The objectives by name.</summary>
    public static readonly IReadOnlyList<string> Objectives = ["mlm", "electra", "mpnet"];

    /// <summary>The encoder sizes by name.</summary>
    public static readonly IReadOnlyDictionary<string, EncoderConfig> Sizes = new Dictionary<string, EncoderConfig>
    {
        ["small"] = new() { HiddenSize = 128, Layers = 4, Heads = 4, IntermediateSize = 512 },
        ["base"] = new() { HiddenSize = 256, Layers = 4, Heads = 4, IntermediateSize = 1024 },
    };

    /// <summary>
    /// Pretrains on <paramref name="texts"/> in <paramref name="directory"/> (<c>vocab.txt</c>, <c>run/</c> with
    /// checkpoints and logs, and at the end <c>encoder/</c>), resuming a run that stopped there.
    /// </summary>
    public static TextPretrainingResult Run(IReadOnlyList<string> texts, string directory, TextPretrainingOptions options, CancellationToken cancel = default)
    {
        var vocab = Vocabulary(texts, directory, options);
        SpecialTokens special;
        try { special = SpecialTokens.From(vocab); }
        catch (ArgumentException e) { throw new PretrainingInputException("vocabulary", e.Message); }
        var corpus = TokenCorpus.FromTexts(texts, new BertTokenizer(vocab, segmenter: options.Segmenter), options.MaxLength);
        if (corpus.Sequences.Count < 20) throw new PretrainingInputException("texts", $"only {corpus.Sequences.Count} non-empty texts; pretraining needs more.");
        var (train, validation) = corpus.Split(0.05, 7);
        var config = options.Encoder with { VocabSize = vocab.Count, MaxPositions = Math.Max(128, options.MaxLength) };
        var masking = new MaskingOptions();
        var objective = Objective(options.Objective, config, special, masking);
        options.Progress?.WriteLine($"{objective.Name}: {train.Sequences.Count:N0} training sequences ({train.Sequences.Sum(s => s.Length):N0} tokens), {validation.Sequences.Count:N0} held out; {objective.Model.ParameterCount() / 1e6:0.0}M parameters");
        var result = new Trainer(new PretrainingTask(objective, train, validation, 32, masking, seed: 1), new TrainerOptions
        {
            MaxSteps = 1_000_000, TimeBudget = options.Budget, CalibrationSteps = 30, WarmupSteps = 200,
            LearningRate = 1e-3f, OutputDirectory = Path.Combine(directory, "run"), CheckpointEvery = 500, EvaluateEvery = 2000, Seed = 1,
            Progress = options.Progress, Label = objective.Name, LogEvery = 20,
        }).Run(cancel);
        if (result.Interrupted) return new TextPretrainingResult(objective.Name, result, null);
        string encoder = Path.Combine(directory, "encoder");
        AtomicDirectory.Replace(encoder, staging => objective.SaveEncoder(staging, vocab));
        return new TextPretrainingResult(objective.Name, result, encoder);
    }

    /// <summary>The objective <paramref name="name"/> over an encoder of <paramref name="config"/> (MPNet needs exact attention for its two-stream masks).</summary>
    public static IPretrainingObjective Objective(string name, EncoderConfig config, SpecialTokens special, MaskingOptions masking) => name switch
    {
        "mlm" => new MaskedLanguageModel(config, special, masking, new Rng(1)),
        "electra" => new Electra(config, special, masking, new Rng(1)),
        "mpnet" when config.ExactAttention => new Mpnet(config, special, masking, new Rng(1)),
        "mpnet" => throw new ArgumentException("mpnet needs softmax or entmax attention (its two-stream masks)."),
        _ => throw new ArgumentException($"'{name}' is not one of {string.Join(", ", Objectives)}."),
    };

    /// <summary>The given vocabulary, else the one a resumed run saved, else one trained on the texts; saved as the run's <c>vocab.txt</c>.</summary>
    private static Vocabulary Vocabulary(IReadOnlyList<string> texts, string directory, TextPretrainingOptions options)
    {
        string path = Path.Combine(directory, "vocab.txt");
        Vocabulary vocab;
        if (options.VocabularyFile is string given) vocab = Text.Vocabulary.Load(given);
        else if (File.Exists(path)) vocab = Text.Vocabulary.Load(path);   // resuming: the same vocabulary
        else
        {
            options.Progress?.WriteLine($"training a {options.VocabularySize:N0}-token WordPiece vocabulary on {texts.Count:N0} texts ...");
            vocab = WordPieceTrainer.Train(texts, new WordPieceTrainerOptions(VocabularySize: options.VocabularySize, Segmenter: options.Segmenter));
        }
        vocab.Save(path);
        return vocab;
    }
}
