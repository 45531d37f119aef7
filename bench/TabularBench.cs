using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Bundles;
using Jianwei.Models.Features;
using Jianwei.Models.Learners;
using Jianwei.Models.Neural;
using Jianwei.Models.Training;
using Jianwei.Text;

namespace Jianwei.Bench;

/// <summary>
/// Learners under the protocol of ../shared/anchors/baselines-dev.md: stratified 5-fold CV over the
/// labeled rows on the anchors' own folds (scikit-learn's, seed 0: <see cref="SklearnFolds"/>), the same
/// folds for every learner; one JSON line per dataset and learner.
/// <list type="bullet">
/// <item><c>lr</c>, <c>xgb</c>, <c>lgb</c>, <c>stack</c>, <c>ft</c>: the bundle's recipes (XGBoost and LightGBM: learning rate
/// 0.05, depth 6, sampling 0.8, up to 2,000 rounds early-stopped on 10 % of the fold, two threads; on text
/// sets they also read each text's 100 most frequent TF-IDF terms).</item>
/// <item><c>ensemble</c>: the best preset's validated ensemble without a time limit (5 inner folds, a 12-setting
/// tuning search per tree library, the multimodal transformer on text sets co-pretrained for
/// <c>--pretrain-steps</c> on the fold's rows and any unlabeled ones); each of its bagged members is also
/// scored on the outer test fold (<c>bag:NAME</c>), weight 0 or not. With <c>--time-limit MINUTES</c> each
/// outer fold trains under the best preset's own settings for that limit instead (folds chosen by the limit,
/// 5 % kept back for what follows the ensemble), as <c>jianwei train --preset best --time-limit</c> does.</item>
/// <item><c>mlnet</c>: ML.NET 5's FeaturizeText + LightGbm with defaults (<see cref="MlNetBaseline"/>).</item>
/// <item><c>tabnet</c>, <c>tabnet-pretrained</c>: on request.</item>
/// </list>
/// Usage: <c>bench tabular [SHARED_DIR] [DATASET|all] [LEARNERS] [--file CSV --label COL --positive P [--unlabeled CSV]] [--pretrain-steps N] [--time-limit MINUTES] [--outer-folds K] [--dump DIR]</c>
/// (K: 5 by default, the anchors' protocol; fewer for a long run on a set with no anchor; DIR: each outer
/// fold's out-of-fold and test predictions of the ensemble's members, for <c>bench combiners DIR</c>).
/// </summary>
internal static class TabularBench
{
    private sealed record Set(string Path, string Label, string Positive, string[] Ignore, string? Unlabeled = null);

    private static readonly (string File, string Label, string Positive, string[] Ignore)[] Shared =
    [
        ("modeldata_lending_club.csv", "Class", "bad", []),
        ("modeldata_credit_data.csv", "Status", "bad", []),
        ("caret_GermanCredit.csv", "Class", "Bad", []),
        ("modeldata_small_fine_foods.csv", "score", "great", ["split", "product"]),   // text only, as in the anchors
        ("zh_waimai_10k.csv", "label", "1", []),
        ("zh_ChnSentiCorp_htl_all.csv", "label", "1", []),
    ];

    private static readonly string[] DefaultLearners = ["lr", "xgb", "lgb", "stack", "ft", "ensemble", "mlnet"];

    public static int Run(string[] args)
    {
        var positional = new List<string>();
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) named[args[i]] = args[++i];
            else positional.Add(args[i]);
        }
        string shared = positional.Count > 0 ? positional[0] : Path.Combine(AppContext.BaseDirectory, "../../../../../shared");
        string? only = positional.Count > 1 && positional[1] != "all" ? positional[1] : null;
        var learners = positional.Count > 2 ? positional[2].Split(',') : DefaultLearners;
        int steps = named.TryGetValue("--pretrain-steps", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 600;
        var sets = named.TryGetValue("--file", out var file)
            ? [new Set(file, named["--label"], named.GetValueOrDefault("--positive", "1"), [], named.GetValueOrDefault("--unlabeled"))]
            : Shared.Where(x => only is null || x.File.Contains(only, StringComparison.Ordinal)).Select(x => new Set(Path.Combine(shared, "datasets", x.File), x.Label, x.Positive, x.Ignore)).ToList();
        var dict = Path.Combine(shared, "datasets", "jieba_dict.txt");
        var segmenter = File.Exists(dict) ? ChineseSegmenter.Load(dict) : null;
        int outerFolds = named.TryGetValue("--outer-folds", out var k) ? int.Parse(k, CultureInfo.InvariantCulture) : 5;
        TimeSpan? limit = named.TryGetValue("--time-limit", out var m) ? TimeSpan.FromMinutes(double.Parse(m, CultureInfo.InvariantCulture)) : null;
        string? dump = named.GetValueOrDefault("--dump");
        foreach (var set in sets)
        {
            if (!File.Exists(set.Path)) { Console.Error.WriteLine($"bench tabular: {set.Path} not found"); return 2; }
            RunSet(set, learners, steps, limit, outerFolds, segmenter, dump);
        }
        return 0;
    }

    private static void RunSet(Set set, IReadOnlyList<string> learners, int pretrainSteps, TimeSpan? timeLimit, int outerFolds, ChineseSegmenter? segmenter, string? dump)
    {
        var labeled = RawTable.Load(set.Path);
        var inferred = SchemaInference.Infer(labeled, set.Label, set.Positive);
        var schema = inferred with { Columns = inferred.Columns.Select(c => set.Ignore.Contains(c.Name) ? c with { Role = ColumnRole.Ignore } : c).ToArray() };
        var table = set.Unlabeled is null ? labeled : labeled.Append(RawTable.Load(set.Unlabeled), mayBeAbsent: set.Label);
        var y = schema.Labels(table);
        int[] unlabeled = Enumerable.Range(labeled.RowCount, table.RowCount - labeled.RowCount).ToArray();
        var folds = SklearnFolds.StratifiedKFold(y.Take(labeled.RowCount).ToArray(), outerFolds, seed: 0);   // at 5, the anchors' very folds
        string name = Path.GetFileName(set.Path);
        bool hasCells = schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text);
        Console.Error.WriteLine($"{name}: {labeled.RowCount:N0} labeled rows, {unlabeled.Length:N0} unlabeled; learners {string.Join(",", learners)}");

        TabularModelOptions Recipe(TabularLearner learner) => new() { Learner = learner, Seed = 0, StackFolds = 5, Boosting = new BoostingOptions { Threads = 2 } };
        Dictionary<string, double[]> One(string key, TabularModelOptions options, int[] train, int[] test)
        {
            using var model = TabularModel.Fit(table, schema, y, train, options);
            return new() { [key] = model.Predict(table, test) };
        }
        foreach (var learner in learners)
        {
            switch (learner)
            {
                case "lr": Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => One(learner, Recipe(TabularLearner.Logistic), train, test)); break;
                case "xgb": Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => One(learner, Recipe(TabularLearner.Boosting), train, test)); break;
                case "lgb": Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => One(learner, Recipe(TabularLearner.LightGbm), train, test)); break;
                case "stack": Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => One(learner, Recipe(TabularLearner.Stack), train, test)); break;
                case "ft" when hasCells: Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => One(learner, Recipe(TabularLearner.FtTransformer), train, test)); break;
                case "mlnet": Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => new() { [learner] = MlNetBaseline.FitPredict(table, schema, y, train, test) }); break;
                case "ensemble":
                    // Folds are numbered by the files already there, so a folder from an earlier run would mix two runs: refuse it (never delete it).
                    string? setDump = dump is null ? null : Path.Combine(dump, Path.GetFileNameWithoutExtension(name));
                    if (setDump is not null && Directory.Exists(setDump) && Directory.GetFiles(setDump, "fold*.csv").Length > 0)
                    {
                        Console.Error.WriteLine($"bench tabular: {setDump} already holds predictions of an earlier run; give --dump an empty folder.");
                        break;
                    }
                    var multimodal = new MultimodalLearnerOptions { PretrainSteps = pretrainSteps, Segmenter = segmenter };
                    var unlimited = Recipe(TabularLearner.Ensemble) with { EnsembleFolds = 5, BoostingTrials = 12, TuneLogistic = true, KeepUnweighted = true, Multimodal = multimodal };
                    TabularModelOptions OptionsForFold()
                    {
                        if (timeLimit is not TimeSpan l) return unlimited;
                        var limit = new TimeLimit(l);
                        return new BundleTrainingOptions { Preset = Preset.Best, Seed = 0, Multimodal = multimodal }.ModelOptions(schema, limit.Reserving(l * 0.05))
                            with { KeepUnweighted = true, Boosting = new BoostingOptions { Threads = 2 } };
                    }
                    Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) =>
                    {
                        using var model = TabularModel.Fit(table, schema, y, train, OptionsForFold(), unlabeled);
                        var result = new Dictionary<string, double[]> { ["ensemble"] = model.Predict(table, test) };
                        foreach (var member in model.Learners) result["bag:" + member.Name] = member.Predict(table, test);
                        if (setDump is not null) CombinerBench.Write(setDump, train, test, y, model.OutOfFold,
                            model.Learners.ToDictionary(l => l.Name, l => result["bag:" + l.Name]));
                        Console.Error.WriteLine($"{name} ensemble fold: combined by {model.Combiner!.Kind}; " + string.Join(", ", model.Leaderboard.Select(r =>
                            string.Create(CultureInfo.InvariantCulture, $"{r.Learner} oof {r.RocAuc:F4} w {r.Weight:F3} {r.FitSeconds:F0} s{(r.Settings.Length > 0 ? $" [{r.Settings}]" : "")}"))));
                        return result;
                    });
                    break;
                case "tabnet" or "tabnet-pretrained" when hasCells:
                    Evaluate(name, learner, labeled.RowCount, y, folds, (train, test) => new() { [learner] = TabNetFitPredict(table, schema, y, train, test, learner == "tabnet-pretrained") });
                    break;
            }
        }
    }

    private static double[] TabNetFitPredict(RawTable table, TableSchema schema, int[] y, int[] train, int[] test, bool pretrained)
    {
        var inner = DataSplits.StratifiedTrainValidTest(train, y, 0.1, 0, seed: 0);
        var features = TokenFeatures.Fit(table, schema, inner.Train);
        var model = new TabNet(features.NumericCount, features.CategorySizes, new TabNetOptions { BatchSize = 256, VirtualBatch = 64, Patience = 20, MaxEpochs = 200 });
        var fitInputs = features.Transform(table, inner.Train);
        var stopInputs = features.Transform(table, inner.Validation);
        if (pretrained) model.Pretrain(fitInputs, stopInputs);   // self-supervised on the same training rows, labels unused
        model.Fit(fitInputs, inner.Train.Select(r => y[r]).ToArray(), stopInputs, inner.Validation.Select(r => y[r]).ToArray());
        return model.PredictProbability(features.Transform(table, test)).Select(v => (double)v).ToArray();
    }

    /// <summary>Runs <paramref name="fitPredict"/> on every fold; prints one line per output it gives (a learner, or an ensemble and its members).</summary>
    private static void Evaluate(string file, string learner, int rows, int[] y, List<Fold> folds, Func<int[], int[], Dictionary<string, double[]>> fitPredict)
    {
        var scores = new Dictionary<string, FoldScores>(StringComparer.Ordinal);
        var secs = new List<double>();
        foreach (var fold in folds)
        {
            var sw = Stopwatch.StartNew();
            var outputs = fitPredict(fold.Train, fold.Test);
            secs.Add(sw.Elapsed.TotalSeconds);
            foreach (var (key, p) in outputs)
            {
                if (!scores.TryGetValue(key, out var fs)) scores[key] = fs = new FoldScores();
                fs.Add(p, fold.Test.Select(i => y[i]).ToArray());
            }
            var aucs = string.Join(", ", outputs.Keys.Select(k => string.Create(CultureInfo.InvariantCulture, $"{k} {scores[k].Auc[^1]:F4}")));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file} {learner}: fold {fold.Index + 1} in {secs[^1]:F1} s: {aucs}"));
        }
        foreach (var (key, fs) in scores)
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["config"] = "tabular", ["dataset"] = file, ["learner"] = key, ["rows"] = rows, ["folds"] = fs.Auc.Count,
                ["auc"] = Math.Round(fs.Auc.Average(), 4), ["auc_std"] = Math.Round(FoldScores.Std(fs.Auc), 4),
                ["pr_auc"] = Math.Round(fs.PrAuc.Average(), 4), ["pr_auc_std"] = Math.Round(FoldScores.Std(fs.PrAuc), 4),
                ["ks"] = Math.Round(fs.Ks.Average(), 4), ["ks_std"] = Math.Round(FoldScores.Std(fs.Ks), 4), ["fit_s_per_fold"] = Math.Round(secs.Average(), 2),
            }));
    }
}
