using System.Diagnostics;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Bundles;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;

namespace Jianwei.Models.Experiments;

/// <summary>
/// The published experiment on any labeled table, same folds for every mode: logistic regression,
/// XGBoost and LightGBM (the table and the most frequent TF-IDF terms of each text), the LR + XGBoost stack,
/// the validated ensemble of LR, XGBoost and LightGBM (bagged, selected on out-of-fold predictions), TabNet
/// (pretrained on the table), a text-only transformer from scratch and pretrained (MLM on the texts),
/// late fusion (that pretrained text model and an FT-Transformer trained apart, then joined under one
/// head and fine-tuned together), the multimodal transformer without
/// and with co-pretraining, and the co-pretrained multimodal model stacked with XGBoost. Self-supervised
/// pretraining never sees labels, so it runs once over all rows (labeled and unlabeled); everything
/// supervised is fitted inside each fold. Accuracy is at each fold's best-F1 threshold on its validation rows.
/// The label-free preparation is in <see cref="ComparisonRun"/>'s constructor, each mode is one of its methods.
/// </summary>
public static class Comparison
{
    /// <summary>The modes, in the order of the published table.</summary>
    public static readonly IReadOnlyList<string> Modes = ["lr", "xgb", "lgb", "stack", "ensemble", "tabnet", "text", "text-pretrained", "late-fusion", "multimodal-scratch", "multimodal", "multimodal-stack"];

    /// <summary>
    /// The classic learners' semi-supervised counterpart, run only when asked for: the LR + XGBoost
    /// stack self-trained on the unlabeled rows (the --unlabeled table and, at a label count, the fold's
    /// training rows without labels), the fair baseline for pseudo-labelled transformers.
    /// </summary>
    public static readonly IReadOnlyList<string> SemiSupervised = ["stack-selftrain"];

    /// <summary>
    /// Ablations of the co-pretrained multimodal mode, run only when asked for: co-pretraining without the
    /// masked-cell loss, without row–text matching, with Performer or 1.5-entmax attention instead of
    /// softmax, and with Switch mixture-of-experts feed-forward layers (4 experts, top-1 routing).
    /// Each co-pretrains its own model for the same budget.
    /// </summary>
    public static readonly IReadOnlyList<string> Ablations = ["multimodal-no-cells", "multimodal-no-matching", "multimodal-performer", "multimodal-entmax", "multimodal-moe"];

    /// <summary>The co-pretraining losses and encoder a co-pretrained mode uses.</summary>
    internal static (CoPretrainingOptions Losses, EncoderConfig Encoder) Variant(string mode, EncoderConfig encoder) => mode switch
    {
        "multimodal-no-cells" => (new CoPretrainingOptions { CellWeight = 0 }, encoder),
        "multimodal-no-matching" => (new CoPretrainingOptions { MatchingWeight = 0 }, encoder),
        "multimodal-performer" => (new CoPretrainingOptions(), encoder with { Attention = AttentionKind.Performer }),
        "multimodal-entmax" => (new CoPretrainingOptions(), encoder with { Attention = AttentionKind.Entmax, EntmaxAlpha = 1.5f }),
        "multimodal-moe" => (new CoPretrainingOptions(), encoder with { Experts = 4 }),
        _ => (new CoPretrainingOptions(), encoder),
    };

    /// <summary>
    /// Runs every requested mode — at each of <see cref="ComparisonOptions.LabelCounts"/>, smallest first,
    /// when set; <paramref name="unlabeled"/> rows (same columns) join self-supervised pretraining only.
    /// </summary>
    public static List<ModeResult> Run(RawTable table, TableSchema schema, ComparisonOptions options, RawTable? unlabeled = null)
    {
        foreach (var m in options.Modes)
            if (!Modes.Contains(m) && !Ablations.Contains(m) && !SemiSupervised.Contains(m))
                throw new ArgumentException($"unknown mode '{m}' (modes: {string.Join(", ", Modes)}; on request: {string.Join(", ", SemiSupervised.Concat(Ablations))}).");
        if (options.LabelCounts?.Any(c => c < 2) == true) throw new ArgumentException("every label count needs at least 2 rows.");
        var run = new ComparisonRun(table, schema, options, unlabeled);
        var counts = options.LabelCounts is null ? [null] : options.LabelCounts.Distinct().Order().Select(c => (int?)c).ToList();
        return counts.SelectMany(count => options.Modes.Select(mode => run.Score(mode, count))).ToList();
    }
}

/// <summary>
/// One fold as a mode sees it: a stratified 15 % of the fold's labeled training rows (<see cref="Valid"/>)
/// is held out for early stopping, stacking and the threshold. <see cref="Key"/> tells apart the same fold
/// at two label counts, for the models two modes share. <see cref="Unlabeled"/> are the fold's training
/// rows whose labels a label count set aside (empty when all are labeled).
/// </summary>
internal sealed record FoldRows(int Index, int Count, int[] Fit, int[] Valid, int[] Test, int[] Unlabeled)
{
    public (int Fold, int Labels) Key => (Index, Fit.Length + Valid.Length);
}

/// <summary>Scoring one mode over the folds.</summary>
internal sealed partial class ComparisonRun
{
    /// <summary>Runs <paramref name="mode"/> on every fold, with <paramref name="labels"/> of its training rows labeled (null: all), and averages its scores.</summary>
    public ModeResult Score(string mode, int? labels = null)
    {
        _reusedSeconds = 0;
        var scores = new FoldScores();
        var clock = Stopwatch.StartNew();
        int labeled = 0;
        foreach (var fold in _folds)
        {
            // The labeled sample is drawn by the seed alone, so every mode at this count gets the same rows.
            var kept = labels is int n && n < fold.Train.Length
                ? DataSplits.StratifiedTrainValidTest(fold.Train, _y, 1 - n / (double)fold.Train.Length, 0, _options.Seed).Train : fold.Train;
            labeled += kept.Length;
            var inner = DataSplits.StratifiedTrainValidTest(kept, _y, 0.15, 0, _options.Seed);
            var rows = new FoldRows(fold.Index, _folds.Count, inner.Train, inner.Validation, fold.Test, fold.Train.Except(kept).ToArray());
            var (pValid, pTest) = Predict(mode, rows);
            var threshold = Metrics.BestF1(pValid, Labels(rows.Valid)).Threshold;
            scores.Add(pTest, Labels(fold.Test), threshold);
            _log?.WriteLine($"{mode}{At(labels)}: fold {fold.Index + 1}/{_folds.Count} ROC-AUC {scores.Auc[^1]:F4}");
        }
        double mean = scores.Auc.Average(), std = FoldScores.Std(scores.Auc);
        double seconds = clock.Elapsed.TotalSeconds + _reusedSeconds;
        _log?.WriteLine($"{mode}{At(labels)}: ROC-AUC {mean:F4} ± {std:F4} ({seconds:F0} s)");
        return new ModeResult(mode, mean, std, scores.PrAuc.Average(), scores.Ks.Average(), scores.Accuracy.Average(), seconds, _folds.Count, labeled / _folds.Count);
    }

    private static string At(int? labels) => labels is int n ? $" ({n:N0} labels)" : "";

    /// <summary>The mode's probabilities for the fold's validation and test rows.</summary>
    private (double[] Valid, double[] Test) Predict(string mode, FoldRows fold) => mode switch
    {
        "lr" => Tabular(TabularLearner.Logistic, fold),
        "xgb" => Tabular(TabularLearner.Boosting, fold),
        "lgb" => Tabular(TabularLearner.LightGbm, fold),
        "stack" => Tabular(TabularLearner.Stack, fold),
        "stack-selftrain" => SelfTrainedStack(fold),
        "ensemble" => EnsembleMode(fold),
        "tabnet" => TabNetMode(fold),
        "text" => TextMode(FineTunedTextModel(null, fold), fold),
        "text-pretrained" => TextMode(PretrainedTextModel(mode, fold), fold),
        "late-fusion" => LateFusionMode(mode, fold),
        "multimodal-scratch" => MultimodalMode(null, _options.Encoder, fold),
        "multimodal" => CoPretrainedMultimodal(mode, fold),
        "multimodal-stack" => MultimodalStack(mode, fold),
        _ => MultimodalMode(_coPretrained[mode], Comparison.Variant(mode, _options.Encoder).Encoder, fold),   // the ablations
    };

    private int[] Labels(int[] rows) => rows.Select(r => _y[r]).ToArray();
    private List<int> LabelList(int[] rows) => rows.Select(r => _y[r]).ToList();
}
