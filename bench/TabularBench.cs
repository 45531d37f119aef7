using System.Diagnostics;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Features;
using Jianwei.Models.Linear;

namespace Jianwei.Bench;

/// <summary>
/// Tabular learners under the protocol of ../shared/anchors/baselines-dev.md: stratified 5-fold CV
/// over all rows (seed 0); XGBoost hist, learning rate 0.05, depth 6, subsample and column sample 0.8,
/// up to 2,000 trees with early stopping on 10 % of each training fold. One JSON line per dataset and learner.
/// </summary>
internal static class TabularBench
{
    private static readonly (string File, string Label, string Positive, string[] Ignore, bool Trees)[] Sets =
    [
        ("modeldata_lending_club.csv", "Class", "bad", [], true),
        ("modeldata_credit_data.csv", "Status", "bad", [], true),
        ("caret_GermanCredit.csv", "Class", "Bad", [], true),
        ("modeldata_small_fine_foods.csv", "score", "great", ["split"], false),   // text only, as in the anchors
        ("zh_waimai_10k.csv", "label", "1", [], false),
        ("zh_ChnSentiCorp_htl_all.csv", "label", "1", [], false),
    ];

    public static int Run(string[] args)
    {
        string shared = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "../../../../../shared");
        string? only = args.Length > 1 ? args[1] : null;
        foreach (var (file, label, positive, ignore, withTrees) in Sets)
        {
            if (only is not null && !file.Contains(only, StringComparison.Ordinal)) continue;
            var path = Path.Combine(shared, "datasets", file);
            if (!File.Exists(path)) { Console.Error.WriteLine($"bench tabular: {path} not found"); return 2; }
            var table = RawTable.Load(path);
            var inferred = SchemaInference.Infer(table, label, positive);
            var schema = inferred with { Columns = inferred.Columns.Select(c => ignore.Contains(c.Name) ? c with { Role = ColumnRole.Ignore } : c).ToArray() };
            int li = table.IndexOf(label);
            var y = table.Rows.Select(r => r[li].Trim() == positive ? 1 : 0).ToArray();
            var folds = DataSplits.StratifiedKFold(y, 5, seed: 0);
            RunLogistic(file, table, schema, y, folds);
            if (!withTrees) continue;
            var auc = new List<double>(); var pr = new List<double>(); var ks = new List<double>(); var secs = new List<double>(); var trees = new List<int>();
            foreach (var fold in folds)
            {
                var sw = Stopwatch.StartNew();
                // Early-stopping rows: a stratified 10 % of the training fold.
                var trainLabels = fold.Train.Select(i => y[i]).ToArray();
                var inner = DataSplits.StratifiedTrainValidTest(trainLabels, 0.1, 0, seed: 0);
                int[] fit = inner.Train.Select(i => fold.Train[i]).ToArray(), stop = inner.Validation.Select(i => fold.Train[i]).ToArray();
                var features = TreeFeatures.Fit(table, schema, fit);
                using var model = GradientBoostedTrees.Train(features.Transform(table, fit), fit.Select(i => y[i]).ToArray(),
                    new BoostingOptions { MaxRounds = 2000, LearningRate = 0.05, MaxDepth = 6, Subsample = 0.8, ColumnSample = 0.8, EarlyStoppingRounds = 50, Threads = 2 },
                    features.Transform(table, stop), stop.Select(i => y[i]).ToArray(), features.Names, features.Categorical);
                secs.Add(sw.Elapsed.TotalSeconds);
                trees.Add(model.BestRound + 1);
                var p = model.PredictProbability(features.Transform(table, fold.Test)).Select(v => (double)v).ToArray();
                var t = fold.Test.Select(i => y[i]).ToArray();
                auc.Add(Metrics.RocAuc(p, t)); pr.Add(Metrics.PrAuc(p, t)); ks.Add(Metrics.Ks(p, t));
            }
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["config"] = "tabular", ["dataset"] = file, ["learner"] = "xgb", ["rows"] = table.RowCount,
                ["auc"] = Math.Round(auc.Average(), 4), ["auc_std"] = Math.Round(Std(auc), 4), ["pr_auc"] = Math.Round(pr.Average(), 4), ["pr_auc_std"] = Math.Round(Std(pr), 4),
                ["ks"] = Math.Round(ks.Average(), 4), ["ks_std"] = Math.Round(Std(ks), 4), ["fit_s_per_fold"] = Math.Round(secs.Average(), 2), ["trees"] = Math.Round(trees.Average(), 0),
            }));
        }
        return 0;
    }

    private static void RunLogistic(string file, RawTable table, TableSchema schema, int[] y, List<Fold> folds)
    {
        var auc = new List<double>(); var pr = new List<double>(); var ks = new List<double>(); var secs = new List<double>();
        foreach (var fold in folds)
        {
            var sw = Stopwatch.StartNew();
            var features = LinearFeatures.Fit(table, schema, fold.Train);
            var model = LogisticRegression.Fit(features.Transform(table, fold.Train), fold.Train.Select(i => y[i]).ToArray(), new LogisticRegressionOptions(C: 1));
            secs.Add(sw.Elapsed.TotalSeconds);
            var p = model.PredictProbability(features.Transform(table, fold.Test));
            var t = fold.Test.Select(i => y[i]).ToArray();
            auc.Add(Metrics.RocAuc(p, t)); pr.Add(Metrics.PrAuc(p, t)); ks.Add(Metrics.Ks(p, t));
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["config"] = "tabular", ["dataset"] = file, ["learner"] = "lr", ["rows"] = table.RowCount,
            ["auc"] = Math.Round(auc.Average(), 4), ["auc_std"] = Math.Round(Std(auc), 4), ["pr_auc"] = Math.Round(pr.Average(), 4), ["pr_auc_std"] = Math.Round(Std(pr), 4),
            ["ks"] = Math.Round(ks.Average(), 4), ["ks_std"] = Math.Round(Std(ks), 4), ["fit_s_per_fold"] = Math.Round(secs.Average(), 2),
        }));
    }

    private static double Std(List<double> v) { double m = v.Average(); return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1)); }
}
