using System.Diagnostics;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Features;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Neural;
using Jianwei.Models.Bundles;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;

namespace Jianwei.Models.Experiments;

/// <summary>The modes, one method each: fit on the fold's rows, return probabilities for its validation and test rows.</summary>
internal sealed partial class ComparisonRun
{
    /// <summary>lr, xgb, lgb, stack: the bundle's own recipes.</summary>
    private (double[], double[]) Tabular(TabularLearner learner, FoldRows fold) => Tabular(new TabularModelOptions { Learner = learner, Seed = _options.Seed }, fold);

    private (double[], double[]) Tabular(TabularModelOptions options, FoldRows fold)
    {
        using var m = TabularModel.Fit(_table, _schema, _y, fold.Fit, options);
        return (m.Predict(_table, fold.Valid), m.Predict(_table, fold.Test));
    }

    /// <summary>
    /// stack-selftrain: self-training (Yarowsky 1995; scikit-learn's SelfTrainingClassifier with k-best
    /// selection) of the LR + XGBoost stack. Each of <see cref="SelfTrainingRounds"/> rounds predicts the
    /// unlabeled rows not yet taken and adds as many as there are labeled fitting rows, split by the
    /// labeled positive rate: the highest predictions as positives, the lowest as negatives (a probability
    /// threshold would take negatives only at a 6 % default rate); then the stack is refitted on all of
    /// them. Pseudo-labels come from predictions alone: the held-back rows' labels are never read.
    /// </summary>
    private (double[], double[]) SelfTrainedStack(FoldRows fold)
    {
        var options = new TabularModelOptions { Learner = TabularLearner.Stack, Seed = _options.Seed };
        var pool = fold.Unlabeled.Concat(Enumerable.Range(_table.RowCount, _everything.RowCount - _table.RowCount)).ToList();
        var labels = new int[_everything.RowCount];
        foreach (int r in fold.Fit) labels[r] = _y[r];
        var fit = fold.Fit.ToList();
        double positiveRate = fold.Fit.Average(r => _y[r]);
        var model = TabularModel.Fit(_everything, _schema, labels, fit, options);
        for (int round = 0; round < SelfTrainingRounds && pool.Count > 0; round++)
        {
            var p = model.Predict(_everything, pool);
            var ranked = Enumerable.Range(0, pool.Count).OrderByDescending(i => p[i]).ThenBy(i => pool[i]).ToArray();
            int take = Math.Min(fold.Fit.Length, pool.Count), positives = (int)Math.Round(take * positiveRate);
            var picked = ranked.Take(positives).Select(i => (pool[i], 1)).Concat(ranked.Reverse().Take(take - positives).Select(i => (pool[i], 0))).ToList();
            foreach (var (row, label) in picked) { labels[row] = label; fit.Add(row); }
            pool = pool.Except(picked.Select(x => x.Item1)).ToList();
            model.Dispose();
            model = TabularModel.Fit(_everything, _schema, labels, fit, options);
        }
        using (model) return (model.Predict(_everything, fold.Valid), model.Predict(_everything, fold.Test));
    }

    /// <summary>Self-training rounds of stack-selftrain: each adds as many pseudo-labelled rows as there are labeled ones.</summary>
    internal const int SelfTrainingRounds = 2;

    /// <summary>
    /// ensemble: the best preset's validated ensemble without a time limit — every candidate, the
    /// multimodal transformer (on tables with text) fine-tuned from the comparison's co-pretrained start
    /// with the comparison's encoder and fine-tuning settings.
    /// </summary>
    private (double[], double[]) EnsembleMode(FoldRows fold) => Tabular(new TabularModelOptions
    {
        Learner = TabularLearner.Ensemble, Seed = _options.Seed, EnsembleFolds = _options.EnsembleFolds, BoostingTrials = _options.EnsembleTrials, TuneLogistic = true,
        Multimodal = new Learners.MultimodalLearnerOptions
        {
            Encoder = _options.Encoder, TextBudget = _options.TextBudget, HeadLayers = _options.HeadLayers, KeywordBuckets = _options.KeywordBuckets, FineTune = _options.FineTune, Segmenter = _options.Segmenter,
        },
        MultimodalStart = _coPretrained.TryGetValue("multimodal", out var start) ? new Learners.CoPretrainedStart(_data!, start, [], 0, 0) : null,
    }, fold);

    /// <summary>tabnet: self-supervised pretraining on the fold's rows, then supervised.</summary>
    private (double[], double[]) TabNetMode(FoldRows fold)
    {
        var features = TokenFeatures.Fit(_table, _schema, fold.Fit);
        var net = new TabNet(features.NumericCount, features.CategorySizes, new TabNetOptions { BatchSize = 256, VirtualBatch = 64, Patience = 10, MaxEpochs = 100, Seed = _options.Seed });
        var fitInputs = features.Transform(_table, fold.Fit);
        var validInputs = features.Transform(_table, fold.Valid);
        net.Pretrain(fitInputs, validInputs);
        net.Fit(fitInputs, Labels(fold.Fit), validInputs, Labels(fold.Valid));
        return (net.PredictProbability(validInputs).Select(v => (double)v).ToArray(), net.PredictProbability(features.Transform(_table, fold.Test)).Select(v => (double)v).ToArray());
    }

    /// <summary>text, text-pretrained: a text model's probabilities.</summary>
    private (double[], double[]) TextMode(MultimodalTransformer model, FoldRows fold) => (model.PredictProbability(TextRows(fold.Valid)), model.PredictProbability(TextRows(fold.Test)));

    private MultimodalRows TextRows(int[] rows) => _textRows!.SelectRows(rows);

    private MultimodalTransformer NewTextModel(FoldRows fold) => MultimodalTransformer.Create(_textData!, _options.Encoder, (ulong)(_options.Seed + fold.Index), _options.HeadLayers, keywordBuckets: _options.KeywordBuckets);

    /// <summary>
    /// The multimodal model over a table without columns: [CLS] and the texts, the same head, early
    /// stopping and fine-tuning options; the pretrained start is its encoder's weights.
    /// </summary>
    private MultimodalTransformer FineTunedTextModel(Dictionary<string, float[]>? start, FoldRows fold)
    {
        var model = NewTextModel(fold);
        if (start is not null) model.Bert.RestoreState(start);
        model.Fit(TextRows(fold.Fit), LabelList(fold.Fit), TextRows(fold.Valid), LabelList(fold.Valid),
                  _options.FineTune with { Seed = (ulong)fold.Index }, _unlabeledRows is null ? null : TextsOnly(_unlabeledRows));
        return model;
    }

    /// <summary>text-pretrained (and late fusion's text half): fine-tuned from the MLM encoder once per fold.</summary>
    private MultimodalTransformer PretrainedTextModel(string mode, FoldRows fold)
    {
        if (_textFineTuned.TryGetValue(fold.Key, out var done))
        {
            var reused = NewTextModel(fold);
            reused.RestoreState(done.State);
            _reusedSeconds += done.Seconds;
            _log?.WriteLine($"{mode}: fold {fold.Index + 1}/{fold.Count} reuses the fine-tuned text-pretrained model ({done.Seconds:F0} s, counted in this mode's time)");
            return reused;
        }
        var started = Stopwatch.StartNew();
        var model = FineTunedTextModel(_textPretrained, fold);
        _textFineTuned[fold.Key] = (model.CopyState(), started.Elapsed.TotalSeconds);
        return model;
    }

    /// <summary>late-fusion: the text-pretrained model and an FT-Transformer trained apart, then joined under one head and fine-tuned together.</summary>
    private (double[], double[]) LateFusionMode(string mode, FoldRows fold)
    {
        var text = PretrainedTextModel(mode, fold);
        var features = TokenFeatures.Fit(_table, _schema, fold.Fit);
        TokenInputs fitTable = features.Transform(_table, fold.Fit), validTable = features.Transform(_table, fold.Valid);
        var ft = new FtTransformer(features.NumericCount, features.CategorySizes, new FtTransformerOptions { Seed = _options.Seed + fold.Index, MaxEpochs = 30, Patience = 5 });
        ft.Fit(fitTable, Labels(fold.Fit), validTable, Labels(fold.Valid));
        var fused = new LateFusion(text, ft, new Rng((ulong)(11 + fold.Index)));
        fused.Fit(TextRows(fold.Fit), fitTable, LabelList(fold.Fit), TextRows(fold.Valid), validTable, LabelList(fold.Valid), epochs: 3, seed: (ulong)fold.Index);
        return (fused.PredictProbability(TextRows(fold.Valid), validTable), fused.PredictProbability(TextRows(fold.Test), features.Transform(_table, fold.Test)));
    }

    /// <summary>multimodal-scratch and the ablations: the multimodal transformer from <paramref name="start"/> (null: random), fine-tuned on the fold.</summary>
    private (double[], double[]) MultimodalMode(Dictionary<string, float[]>? start, EncoderConfig encoder, FoldRows fold)
    {
        var model = MultimodalTransformer.Create(_data!, encoder, (ulong)(_options.Seed + fold.Index), _options.HeadLayers, keywordBuckets: _options.KeywordBuckets);
        if (start is not null) model.RestoreState(start);
        model.Fit(_allRows!.SelectRows(fold.Fit), LabelList(fold.Fit), _allRows!.SelectRows(fold.Valid), LabelList(fold.Valid), _options.FineTune with { Seed = (ulong)fold.Index }, _unlabeledRows);
        return (model.PredictProbability(_allRows!.SelectRows(fold.Valid)), model.PredictProbability(_allRows!.SelectRows(fold.Test)));
    }

    /// <summary>multimodal: the co-pretrained transformer fine-tuned on the fold, once per fold for both multimodal modes.</summary>
    private (double[], double[]) CoPretrainedMultimodal(string mode, FoldRows fold)
    {
        if (_fineTuned.TryGetValue(fold.Key, out var done))
        {
            _reusedSeconds += done.Seconds;
            _log?.WriteLine($"{mode}: fold {fold.Index + 1}/{fold.Count} reuses the fine-tuned multimodal model ({done.Seconds:F0} s, counted in this mode's time)");
            return (done.Valid, done.Test);
        }
        var started = Stopwatch.StartNew();
        var (v, t) = MultimodalMode(_coPretrained["multimodal"], _options.Encoder, fold);
        _fineTuned[fold.Key] = (v, t, started.Elapsed.TotalSeconds);
        return (v, t);
    }

    /// <summary>multimodal-stack: the co-pretrained transformer and XGBoost, the stacker fitted on the validation rows, which neither trained on.</summary>
    private (double[], double[]) MultimodalStack(string mode, FoldRows fold)
    {
        var (mv, mt) = CoPretrainedMultimodal(mode, fold);
        var (xv, xt) = Tabular(TabularLearner.Boosting, fold);
        var stacker = LogisticStacker.Fit([mv, xv], Labels(fold.Valid));
        return (stacker.Predict([mv, xv]), stacker.Predict([mt, xt]));
    }
}
