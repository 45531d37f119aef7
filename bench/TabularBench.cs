using System.Diagnostics;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Features;
using Jianwei.Models.Logistic;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Neural;

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
        string? only = args.Length > 1 && args[1] != "all" ? args[1] : null;
        s_learnerFilter = args.Length > 2 ? args[2] : null;   // e.g. "tabnet": only learners whose name contains it
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
            FitPredict lr = (train, test) =>
            {
                var features = LinearFeatures.Fit(table, schema, train);
                return LogisticRegression.Fit(features.Transform(table, train), train.Select(r => y[r]).ToArray(), new LogisticRegressionOptions(C: 1))
                    .PredictProbability(features.Transform(table, test));
            };
            FitPredict xgb = (train, test) =>
            {
                // Early-stopping rows: a stratified 10 % of the training rows.
                var inner = DataSplits.StratifiedTrainValidTest(train.Select(r => y[r]).ToArray(), 0.1, 0, seed: 0);
                int[] fit = inner.Train.Select(r => train[r]).ToArray(), stop = inner.Validation.Select(r => train[r]).ToArray();
                var features = TreeFeatures.Fit(table, schema, fit);
                using var model = GradientBoostedTrees.Train(features.Transform(table, fit), fit.Select(r => y[r]).ToArray(),
                    new BoostingOptions { MaxRounds = 2000, LearningRate = 0.05, MaxDepth = 6, Subsample = 0.8, ColumnSample = 0.8, EarlyStoppingRounds = 50, Threads = 2 },
                    features.Transform(table, stop), stop.Select(r => y[r]).ToArray(), features.Names, features.Categorical);
                return model.PredictProbability(features.Transform(table, test)).Select(v => (double)v).ToArray();
            };
            Evaluate(file, "lr", table.RowCount, y, folds, lr);
            if (!withTrees) continue;
            foreach (bool pretrained in new[] { false, true })
                Evaluate(file, pretrained ? "tabnet-pretrained" : "tabnet", table.RowCount, y, folds, (train, test) =>
                {
                    var inner = DataSplits.StratifiedTrainValidTest(train.Select(r => y[r]).ToArray(), 0.1, 0, seed: 0);
                    int[] fit = inner.Train.Select(r => train[r]).ToArray(), stop = inner.Validation.Select(r => train[r]).ToArray();
                    var features = TokenFeatures.Fit(table, schema, fit);
                    var model = new TabNet(features.NumericCount, features.CategorySizes, new TabNetOptions { BatchSize = 256, VirtualBatch = 64, Patience = 20, MaxEpochs = 200 });
                    var fitInputs = features.Transform(table, fit);
                    var stopInputs = features.Transform(table, stop);
                    if (pretrained) model.Pretrain(fitInputs, stopInputs);   // self-supervised on the same training rows, labels unused
                    model.Fit(fitInputs, fit.Select(r => y[r]).ToArray(), stopInputs, stop.Select(r => y[r]).ToArray());
                    return model.PredictProbability(features.Transform(table, test));
                });
            Evaluate(file, "ft-transformer", table.RowCount, y, folds, (train, test) =>
            {
                // Validation rows for early stopping: a stratified 10 % of the training rows.
                var inner = DataSplits.StratifiedTrainValidTest(train.Select(r => y[r]).ToArray(), 0.1, 0, seed: 0);
                int[] fit = inner.Train.Select(r => train[r]).ToArray(), stop = inner.Validation.Select(r => train[r]).ToArray();
                var features = TokenFeatures.Fit(table, schema, fit);
                var model = new FtTransformer(features.NumericCount, features.CategorySizes, new FtTransformerOptions());
                model.Fit(features.Transform(table, fit), fit.Select(r => y[r]).ToArray(), features.Transform(table, stop), stop.Select(r => y[r]).ToArray());
                return model.PredictProbability(features.Transform(table, test));
            });
            Evaluate(file, "xgb", table.RowCount, y, folds, xgb);
            // Stacking: inner 5-fold out-of-fold predictions of the base learners train a logistic stacker.
            Evaluate(file, "stack", table.RowCount, y, folds, (train, test) =>
            {
                var innerFolds = DataSplits.StratifiedKFold(train.Select(r => y[r]).ToArray(), 5, seed: 0)
                    .Select(f => new Fold(f.Index, f.Train.Select(r => train[r]).ToArray(), f.Test.Select(r => train[r]).ToArray())).ToList();
                var bases = new[] { lr, xgb };
                var oof = bases.Select(b => Pick(CrossValidation.OutOfFold(innerFolds, y.Length, b), train)).ToList();
                var stacker = LogisticStacker.Fit(oof, train.Select(r => y[r]).ToArray());
                return stacker.Predict(bases.Select(b => b(train, test)).ToList());
            });
        }
        return 0;
    }

    private static double[] Pick(double[] all, int[] rows) => rows.Select(r => all[r]).ToArray();

    private static string? s_learnerFilter;

    private static void Evaluate(string file, string learner, int rows, int[] y, List<Fold> folds, FitPredict fitPredict)
    {
        if (s_learnerFilter is not null && !learner.Contains(s_learnerFilter, StringComparison.Ordinal)) return;
        var auc = new List<double>(); var pr = new List<double>(); var ks = new List<double>(); var secs = new List<double>();
        foreach (var fold in folds)
        {
            var sw = Stopwatch.StartNew();
            var p = fitPredict(fold.Train, fold.Test);
            secs.Add(sw.Elapsed.TotalSeconds);
            var t = fold.Test.Select(i => y[i]).ToArray();
            auc.Add(Metrics.RocAuc(p, t)); pr.Add(Metrics.PrAuc(p, t)); ks.Add(Metrics.Ks(p, t));
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["config"] = "tabular", ["dataset"] = file, ["learner"] = learner, ["rows"] = rows,
            ["auc"] = Math.Round(auc.Average(), 4), ["auc_std"] = Math.Round(Std(auc), 4), ["pr_auc"] = Math.Round(pr.Average(), 4), ["pr_auc_std"] = Math.Round(Std(pr), 4),
            ["ks"] = Math.Round(ks.Average(), 4), ["ks_std"] = Math.Round(Std(ks), 4), ["fit_s_per_fold"] = Math.Round(secs.Average(), 2),
        }));
    }

    private static double Std(List<double> v) { double m = v.Average(); return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1)); }
}
