using System.Diagnostics;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models;
using Jianwei.Models.Experiments;
using Jianwei.Models.Learners;
using Jianwei.Models.Logistic;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Bench;

/// <summary>
/// Why a co-pretrained start can fine-tune worse than a random one (issue 23): the comparison's
/// multimodal modes taken apart on the same folds. One featurizer (vocabulary, cell encoders) is fitted
/// on every row, labeled and unlabeled, and serves both starts; co-pretraining runs once for
/// <c>--steps</c> (its weights cached in <c>--cache</c>) and reports each loss's share before and after;
/// then, per fold (the comparison's: stratified k folds, 15 % of each fold's training rows for early
/// stopping), every requested variant is fitted and scored on the fold's test rows:
/// <list type="bullet">
/// <item><c>scratch</c>, <c>pretrained</c>: fine-tuned as <c>jianwei bench</c>'s multimodal modes are.</item>
/// <item><c>probe-random</c>, <c>probe-pretrained</c>: logistic regression (C chosen on the validation rows)
/// on the frozen pooled features — what the encoder already knows before any label.</item>
/// <item><c>pretrained-lr=X</c>, <c>pretrained-freeze=N</c>, <c>pretrained-decay=D</c>, <c>pretrained-epochs=N</c>, <c>pretrained-patience=N</c>,
/// <c>pretrained-cells=0</c> (the head reads the poolings only, as before issue 23), <c>pretrained-keywords=B</c> (the keyword
/// channel with B buckets), <c>pretrained-kwlr=X</c> (its learning rate), <c>pretrained-kwws=1</c> (its warm start), several joined by <c>+</c>
/// (and the same after <c>scratch-</c>): fine-tuning settings changed.</item>
/// </list>
/// With <c>--labels N</c> only a stratified N of each fold's training rows keep their labels (a learning
/// curve's point, measured on the whole test fold).
/// <c>--loss-weights T,C,M</c> co-pretrains with other weights of the text, cell and matching losses.
/// Usage: <c>bench copretrain --file labeled.csv --label COL [--unlabeled CSV] [--steps 1500] [--folds 5]
/// [--labels N] [--loss-weights 1,1,1] [--variants a,b] [--cache DIR]</c>. One JSON line per variant on stdout, progress on stderr.
/// </summary>
internal static class CoPretrainBench
{
    private static readonly string[] DefaultVariants = ["scratch", "pretrained", "probe-random", "probe-pretrained"];

    public static int Run(string[] args)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2) named[args[i]] = args[i + 1];
        if (!named.TryGetValue("--file", out var file) || !named.TryGetValue("--label", out var label))
        {
            Console.Error.WriteLine("bench copretrain: --file CSV and --label COL are required");
            return 2;
        }
        int steps = int.Parse(named.GetValueOrDefault("--steps", "1500"), CultureInfo.InvariantCulture);
        int k = int.Parse(named.GetValueOrDefault("--folds", "5"), CultureInfo.InvariantCulture);
        var variants = named.TryGetValue("--variants", out var v) ? v.Split(',') : DefaultVariants;
        int? labels = named.TryGetValue("--labels", out var l) ? int.Parse(l, CultureInfo.InvariantCulture) : null;

        var labeled = RawTable.Load(file);
        var schema = SchemaInference.Infer(labeled, label, named.GetValueOrDefault("--positive", "1"));
        var everything = named.TryGetValue("--unlabeled", out var u) ? labeled.Append(RawTable.Load(u), mayBeAbsent: label) : labeled;
        var y = schema.Labels(labeled);
        var dict = ChineseSegmenter.FindDictionary();
        var options = new MultimodalLearnerOptions();
        if (named.TryGetValue("--loss-weights", out var lw) && lw.Split(',').Select(x => float.Parse(x, CultureInfo.InvariantCulture)).ToArray() is [var t, var c, var m])
            options = options with { CoPretraining = options.CoPretraining with { TextWeight = t, CellWeight = c, MatchingWeight = m } };
        var data = MultimodalData.Fit(everything, schema, Enumerable.Range(0, everything.RowCount).ToArray(),
                                      segmenter: dict is null ? null : ChineseSegmenter.Load(dict), budgetPerColumn: options.TextBudget);
        var rows = data.Transform(labeled, Enumerable.Range(0, labeled.RowCount).ToArray());
        Console.Error.WriteLine($"{Path.GetFileName(file)}: {labeled.RowCount:N0} labeled, {everything.RowCount - labeled.RowCount:N0} unlabeled; vocabulary {data.Vocabulary.Count:N0}, {data.Features.NumericCount} numeric + {data.Features.CategorySizes.Count} categorical cells");

        var pretrained = CoPretrained(data, everything, options, steps, named.GetValueOrDefault("--cache"), file);
        var folds = DataSplits.StratifiedKFold(y, k, 0);
        var scores = variants.ToDictionary(x => x, _ => new List<double>());
        var seconds = variants.ToDictionary(x => x, _ => 0.0);
        foreach (var fold in folds)
        {
            // With --labels, a stratified sample of the fold's training rows keeps its labels; the rest are
            // unlabeled rows like any other (co-pretraining reads every row either way).
            var kept = labels is int n && n < fold.Train.Length ? DataSplits.StratifiedTrainValidTest(fold.Train, y, 1 - n / (double)fold.Train.Length, 0, 0).Train : fold.Train;
            var inner = DataSplits.StratifiedTrainValidTest(kept, y, 0.15, 0, 0);
            var (fit, valid, test) = (rows.SelectRows(inner.Train), rows.SelectRows(inner.Validation), rows.SelectRows(fold.Test));
            int[] yFit = inner.Train.Select(i => y[i]).ToArray(), yValid = inner.Validation.Select(i => y[i]).ToArray(), yTest = fold.Test.Select(i => y[i]).ToArray();
            foreach (var variant in variants)
            {
                var clock = Stopwatch.StartNew();
                var model = MultimodalTransformer.Create(data, options.Encoder, (ulong)fold.Index, options.HeadLayers, headReadsCells: !variant.Contains("cells=0", StringComparison.Ordinal),
                                                         keywordBuckets: Setting(variant, "keywords") is double kw ? (int)kw : 0);
                bool fromPretrained = variant.StartsWith("pretrained", StringComparison.Ordinal) || variant.StartsWith("probe-", StringComparison.Ordinal) && variant.EndsWith("-pretrained", StringComparison.Ordinal);
                // The head is not trained by co-pretraining; it keeps its fresh weights (and its own width).
                if (fromPretrained) model.RestoreState(model.CopyState().ToDictionary(kv => kv.Key, kv => kv.Key.StartsWith("head_", StringComparison.Ordinal) || !pretrained.ContainsKey(kv.Key) ? kv.Value : pretrained[kv.Key]));
                double[] p;
                if (variant.StartsWith("probe-", StringComparison.Ordinal)) p = Probe(model, variant.Split('-')[1], fit, yFit, valid, yValid, test);
                else
                {
                    var fineTune = Setting(new ComparisonOptions().FineTune with { Seed = (ulong)fold.Index }, variant);
                    model.Fit(fit, yFit, valid, yValid, fineTune);
                    p = model.PredictProbability(test);
                    Console.Error.WriteLine($"  {variant}: validation curve {string.Join(" ", model.ValidationCurve.Select(a => a.ToString("F3", CultureInfo.InvariantCulture)))}; loss {string.Join(" ", model.TrainingLossCurve.Select(a => a.ToString("F3", CultureInfo.InvariantCulture)))}");
                }
                scores[variant].Add(Metrics.RocAuc(p, yTest));
                seconds[variant] += clock.Elapsed.TotalSeconds;
                Console.Error.WriteLine($"{variant}: fold {fold.Index + 1}/{k} ROC-AUC {scores[variant][^1]:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
            }
        }
        foreach (var variant in variants)
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["config"] = "copretrain", ["dataset"] = Path.GetFileName(file), ["variant"] = variant, ["steps"] = steps, ["folds"] = k, ["labels"] = labels ?? folds[0].Train.Length,
                ["auc"] = Math.Round(scores[variant].Average(), 4), ["auc_std"] = Math.Round(FoldScores.Std(scores[variant]), 4),
                ["fold_auc"] = scores[variant].Select(a => Math.Round(a, 4)).ToArray(), ["s_per_fold"] = Math.Round(seconds[variant] / k, 1),
            }));
        return 0;
    }

    /// <summary>One fine-tuning setting changed by the variant's suffix (<c>lr=</c>, <c>freeze=</c>, <c>decay=</c>, <c>epochs=</c>, <c>patience=</c>; <c>cells=</c> is read when the model is made), several joined by <c>+</c>.</summary>
    private static MultimodalFineTuneOptions Setting(MultimodalFineTuneOptions o, string variant)
    {
        int dash = variant.IndexOf('-');
        if (dash < 0) return o;
        foreach (var part in variant[(dash + 1)..].Split('+'))
        {
            var (key, value) = (part.Split('=')[0], double.Parse(part.Split('=')[1], CultureInfo.InvariantCulture));
            o = key switch
            {
                "lr" => o with { LearningRate = (float)value },
                "freeze" => o with { FreezeEpochs = (int)value },
                "decay" => o with { LayerDecay = (float)value },
                "epochs" => o with { MaxEpochs = (int)value },
                "patience" => o with { Patience = (int)value },
                "kwlr" => o with { KeywordLearningRate = (float)value },
                "kwws" => o with { KeywordStart = value != 0 ? KeywordStart.LogisticRegression : KeywordStart.Zero },
                "cells" or "keywords" => o,   // read when the model is made
                _ => throw new ArgumentException($"unknown setting '{key}' in variant '{variant}'"),
            };
        }
        return o;
    }

    /// <summary>The value of setting <paramref name="key"/> in the variant's suffix, or null.</summary>
    private static double? Setting(string variant, string key) => variant.Split('-', 2) is [_, var suffix]
        ? suffix.Split('+').Select(p => p.Split('=')).Where(p => p[0] == key).Select(p => (double?)double.Parse(p[1], CultureInfo.InvariantCulture)).FirstOrDefault() : null;

    /// <summary>Co-pretrains once on every row (or reads the cached weights), printing each loss part before and after.</summary>
    private static Dictionary<string, float[]> CoPretrained(MultimodalData data, RawTable everything, MultimodalLearnerOptions options, int steps, string? cache, string file)
    {
        var w = options.CoPretraining;
        string losses = w == new CoPretrainingOptions() ? "" : string.Create(CultureInfo.InvariantCulture, $"-losses{w.TextWeight},{w.CellWeight},{w.MatchingWeight}");
        string? path = cache is null ? null : Path.Combine(cache, $"{Path.GetFileNameWithoutExtension(file)}-{everything.RowCount}-{steps}{losses}.safetensors");
        var model = MultimodalTransformer.Create(data, options.Encoder, 0, options.HeadLayers);
        if (path is not null && File.Exists(path))
        {
            Console.Error.WriteLine($"co-pretrained weights from {path}");
            model.RestoreState(SafetensorsFile.Load(path).ToStateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
            return model.CopyState();
        }
        var all = data.Transform(everything, Enumerable.Range(0, everything.RowCount).ToArray());
        Console.Error.WriteLine($"loss parts before: {Parts(model, all)}");
        var result = new Trainer(model.CoPretrainingTask(all, options.PretrainBatchSize, options.CoPretraining, 0), new TrainerOptions
        {
            MaxSteps = steps, CalibrationSteps = 30, WarmupSteps = 100, LearningRate = options.PretrainLearningRate, Seed = 0, Progress = Console.Error, Label = "co-pretrain", LogEvery = 50,
        }).Run();
        Console.Error.WriteLine($"co-pretraining: {result.Steps} steps in {result.Seconds:F0} s; loss parts after: {Parts(model, all)}");
        if (path is not null) { Directory.CreateDirectory(cache!); SafetensorsWriter.Save(path, model.StateDict()); }
        return model.CopyState();
    }

    /// <summary>Each co-pretraining loss, averaged over 20 fixed batches of 32 rows, in evaluation mode.</summary>
    private static string Parts(MultimodalTransformer model, MultimodalRows rows)
    {
        model.Eval();
        using var noGrad = GradMode.NoGrad();
        var sums = new Dictionary<string, double>();
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Rng(99).Shuffle<int>(order);
        var rng = new Rng(7);
        for (int b = 0; b < 20; b++)
        {
            using var scope = new TensorScope();
            foreach (var (name, value) in model.CoPretrainingLoss(rows, order, b * 32, 32, new CoPretrainingOptions(), rng).Parts)
                sums[name] = sums.GetValueOrDefault(name) + value / 20;
        }
        model.Train();
        return string.Join(", ", sums.Select(kv => $"{kv.Key} {kv.Value:F3}"));
    }

    /// <summary>
    /// A linear probe: the frozen model's pooled row features (evaluation mode), standardized on the fit
    /// rows, into L2 logistic regression whose C (0.001 to 10) is chosen by validation ROC-AUC.
    /// </summary>
    private static double[] Probe(MultimodalTransformer model, string what, MultimodalRows fit, int[] yFit, MultimodalRows valid, int[] yValid, MultimodalRows test)
    {
        float[][] xf = Features(model, what, fit), xv = Features(model, what, valid), xt = Features(model, what, test);
        int d = xf[0].Length;
        var mean = new double[d]; var sd = new double[d];
        for (int j = 0; j < d; j++)
        {
            mean[j] = xf.Average(r => r[j]);
            sd[j] = Math.Sqrt(xf.Average(r => (r[j] - mean[j]) * (r[j] - mean[j]))) + 1e-6;
        }
        SparseMatrix Matrix(float[][] x) => SparseMatrix.FromRows(x.Select(r => (IReadOnlyList<(int, float)>)r.Select((a, j) => (j, (float)((a - mean[j]) / sd[j]))).ToList()).ToList(), d);
        var (mf, mv, mt) = (Matrix(xf), Matrix(xv), Matrix(xt));
        LogisticRegression? best = null; double bestAuc = -1;
        foreach (double c in new[] { 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10 })
        {
            var lr = LogisticRegression.Fit(mf, yFit, new LogisticRegressionOptions(C: c));
            double auc = Metrics.RocAuc(lr.PredictProbability(mv), yValid);
            if (auc > bestAuc) (best, bestAuc) = (lr, auc);
        }
        return best!.PredictProbability(mt);
    }

    /// <summary>
    /// Frozen features of each row: the head's pooled vector (<c>random</c>/<c>pretrained</c>: what the
    /// head reads), the last layer's cell states side by side (<c>cells</c>), [CLS] alone (<c>cls</c>), or
    /// the mean of the text positions (<c>text</c>).
    /// </summary>
    private static float[][] Features(MultimodalTransformer model, string what, MultimodalRows rows)
    {
        model.Eval();
        using var noGrad = GradMode.NoGrad();
        var order = Enumerable.Range(0, rows.Count).ToArray();
        var x = new float[rows.Count][];
        for (int s = 0; s < rows.Count; s += 64)
        {
            int count = Math.Min(64, rows.Count - s);
            using var scope = new TensorScope();
            var encoded = model.Encode(rows, order, s, count);
            int f = model.CellCount, n = encoded.Hidden.Dim(1), h = encoded.Hidden.Dim(2);
            var pooled = what switch
            {
                "cells" => encoded.Hidden.Slice(1, 1, f).Reshape(count, f * h),                              // [b, f·H]
                "cls" => encoded.Hidden.Slice(1, 0, 1).Reshape(count, h),                                    // [b, H]
                "text" => (encoded.Hidden.Slice(1, 1 + f, n - 1 - f) * encoded.KeyMask.Slice(1, 1 + f, n - 1 - f).Reshape(count, n - 1 - f, 1)).Sum(1)
                          / encoded.KeyMask.Slice(1, 1 + f, n - 1 - f).Sum(1).Reshape(count, 1),             // [b, H]
                _ => model.Pooled(encoded),                                                                  // [b, 4H]
            };
            int w = pooled.Dim(1);
            var values = pooled.Data;
            for (int i = 0; i < count; i++) x[s + i] = values.Slice(i * w, w).ToArray();
        }
        model.Train();
        return x;
    }
}
