using System.CommandLine;
using Jianwei.Models.Learners;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Training;

namespace Jianwei.Cli;

/// <summary>
/// The transformer fine-tuning options that <c>jianwei bench</c> (text and multimodal modes) and
/// <c>jianwei train --preset best</c> share: optimizer, frozen start, FGM, R-Drop, metric loss, the
/// head's layers, the dropout schedule and a moving average of the weights. Defaults leave every trick off, as the library does.
/// </summary>
internal sealed class FineTuningOptions
{
    private readonly Option<string> _optimizer, _metricLoss, _dropoutSchedule, _keywordStart;
    private readonly Option<int> _freezeEpochs, _headLayers, _keywords;
    private readonly Option<float> _fgm, _rdrop, _contrastive, _ema, _keywordRate, _pseudoLabel, _pseudoThreshold;
    private readonly Option<double> _dropoutEpochs;

    /// <param name="what">Whose fine-tuning the descriptions name, e.g. "text and multimodal".</param>
    public FineTuningOptions(string what)
    {
        _optimizer = new("--optimizer") { Description = $"{what} fine-tuning optimizer: adamw or ranger", DefaultValueFactory = _ => "adamw" };
        _freezeEpochs = new("--freeze-epochs") { Description = $"{what} fine-tuning: epochs that train only the head first", DefaultValueFactory = _ => 0 };
        _fgm = new("--fgm") { Description = $"{what} fine-tuning: FGM adversarial radius ε on the embeddings (0: off)", DefaultValueFactory = _ => 0 };
        _rdrop = new("--rdrop") { Description = $"{what} fine-tuning: R-Drop consistency weight α, also on --unlabeled rows (0: off)", DefaultValueFactory = _ => 0 };
        _pseudoLabel = new("--pseudo-label") { Description = $"{what} fine-tuning: weight λ of FixMatch on --unlabeled rows: confident predictions become labels for strongly augmented copies (0: off)", DefaultValueFactory = _ => 0 };
        _pseudoThreshold = new("--pseudo-threshold") { Description = "FixMatch's confidence threshold: a pseudo-label needs p ≥ τ or p ≤ 1 − τ", DefaultValueFactory = _ => new MultimodalFineTuneOptions().PseudoLabelThreshold };
        _contrastive = new("--contrastive") { Description = $"{what} fine-tuning: weight of the auxiliary metric loss (0: off)", DefaultValueFactory = _ => 0 };
        _metricLoss = new("--metric-loss") { Description = "that metric loss: supcon (supervised contrastive) or triplet (batch-hard)", DefaultValueFactory = _ => "supcon" };
        _headLayers = new("--head-layers") { Description = $"{what}: layers whose [CLS] the classification head reads (1: the last only; 2: the last two, layers concatenated)", DefaultValueFactory = _ => 1 };
        _keywords = new("--keywords") { Description = $"{what}: buckets of the keyword channel, a hashed bag of word 1–3-grams per text column, read as TF-IDF linearly into the logit (0: none)", DefaultValueFactory = _ => new MultimodalLearnerOptions().KeywordBuckets };
        _keywordRate = new("--keyword-rate") { Description = $"{what} fine-tuning: peak learning rate of the keyword channel's weights", DefaultValueFactory = _ => new MultimodalFineTuneOptions().KeywordLearningRate };
        _keywordStart = new("--keyword-start") { Description = $"{what} fine-tuning: where the keyword channel starts: auto (lr on a table of text alone, else zero), zero, lr (logistic regression on the bags) or choose (both, the better on the validation rows kept; fine-tuning twice)", DefaultValueFactory = _ => "auto" };
        _dropoutSchedule = new("--dropout-schedule") { Description = $"{what} fine-tuning: constant, early (dropout for the first --dropout-epochs only), late (only after them) or curriculum (rising over them)", DefaultValueFactory = _ => "constant" };
        _dropoutEpochs = new("--dropout-epochs") { Description = "the dropout schedule's epochs", DefaultValueFactory = _ => 1 };
        _ema = new("--ema") { Description = $"{what} fine-tuning: decay of a moving average of the weights, which is then validated and kept (0: off; 0.998 ≈ the last 500 steps)", DefaultValueFactory = _ => 0 };
    }

    private Option[] All => [_optimizer, _freezeEpochs, _fgm, _rdrop, _pseudoLabel, _pseudoThreshold, _contrastive, _metricLoss, _headLayers, _keywords, _keywordRate, _keywordStart, _dropoutSchedule, _dropoutEpochs, _ema];

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in All) command.Options.Add(option);
    }

    /// <summary>The options given on the command line (or by a config file), by name.</summary>
    public IReadOnlyList<string> Given(ParseResult parse) => All.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();

    /// <summary>The head's layers, checked against an encoder of <paramref name="encoderLayers"/> layers.</summary>
    public int HeadLayers(ParseResult parse, int encoderLayers) => parse.GetValue(_headLayers) is var k && k >= 1 && k <= encoderLayers ? k
        : throw new UserErrorException($"--head-layers: between 1 and the encoder's {encoderLayers} layers.");

    /// <summary>The keyword channel's buckets, 0 (none) to <see cref="MultimodalTransformer.MaxKeywordBuckets"/>.</summary>
    public int KeywordBuckets(ParseResult parse) => parse.GetValue(_keywords) is var b && b >= 0 && b <= MultimodalTransformer.MaxKeywordBuckets ? b
        : throw new UserErrorException($"--keywords: between 0 (no keyword channel) and {MultimodalTransformer.MaxKeywordBuckets} buckets.");

    /// <summary><paramref name="defaults"/> with the options given; a bad value is an error naming its option.</summary>
    public MultimodalFineTuneOptions Apply(ParseResult parse, MultimodalFineTuneOptions defaults) => defaults with
    {
        Optimizer = parse.GetValue(_optimizer)!.ToLowerInvariant() switch
        {
            "adamw" => FineTuneOptimizer.AdamW, "ranger" => FineTuneOptimizer.Ranger,
            var other => throw new UserErrorException($"--optimizer: '{other}' is not adamw or ranger."),
        },
        FreezeEpochs = NonNegative(parse.GetValue(_freezeEpochs), "--freeze-epochs"),
        AdversarialEpsilon = NonNegative(parse.GetValue(_fgm), "--fgm"),
        ConsistencyWeight = NonNegative(parse.GetValue(_rdrop), "--rdrop"),
        PseudoLabelWeight = NonNegative(parse.GetValue(_pseudoLabel), "--pseudo-label"),
        PseudoLabelThreshold = parse.GetValue(_pseudoThreshold) is > 0.5f and <= 1f and var tau ? tau : throw new UserErrorException("--pseudo-threshold: a confidence in (0.5, 1]."),
        ContrastiveWeight = NonNegative(parse.GetValue(_contrastive), "--contrastive"),
        Contrastive = parse.GetValue(_metricLoss)!.ToLowerInvariant() switch
        {
            "supcon" => ContrastiveKind.SupervisedContrastive, "triplet" => ContrastiveKind.Triplet,
            var other => throw new UserErrorException($"--metric-loss: '{other}' is not supcon or triplet."),
        },
        DropoutSchedule = parse.GetValue(_dropoutSchedule)!.ToLowerInvariant() switch
        {
            "constant" => DropoutSchedule.Constant, "early" => DropoutSchedule.Early, "late" => DropoutSchedule.Late, "curriculum" => DropoutSchedule.Curriculum,
            var other => throw new UserErrorException($"--dropout-schedule: '{other}' is not constant, early, late or curriculum."),
        },
        DropoutScheduleEpochs = parse.GetValue(_dropoutEpochs) is > 0 and var epochs ? epochs : throw new UserErrorException("--dropout-epochs: must be positive."),
        KeywordLearningRate = NonNegative(parse.GetValue(_keywordRate), "--keyword-rate"),
        KeywordStart = parse.GetValue(_keywordStart)!.ToLowerInvariant() switch
        {
            "auto" => KeywordStart.Auto, "zero" => KeywordStart.Zero, "lr" => KeywordStart.LogisticRegression, "choose" => KeywordStart.Choose,
            var other => throw new UserErrorException($"--keyword-start: '{other}' is not auto, zero, lr or choose."),
        },
        WeightAverageDecay = parse.GetValue(_ema) is >= 0 and < 1 and var decay ? decay : throw new UserErrorException("--ema: a decay in [0, 1) (0: off)."),
    };

    private static T NonNegative<T>(T value, string option) where T : System.Numerics.INumber<T>
        => T.IsNegative(value) || !T.IsFinite(value) ? throw new UserErrorException($"{option}: must not be negative (a finite number).") : value;
}
