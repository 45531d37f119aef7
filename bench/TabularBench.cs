using System.Diagnostics;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Boosting;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Features;
using Jianwei.Models.Neural;
using Jianwei.Models.Bundles;

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
            var y = schema.Labels(table);
            var folds = DataSplits.StratifiedKFold(y, 5, seed: 0);
            // The bundle's recipes, with the anchors' settings: XGBoost on the table alone, two threads; a 5-fold stack.
            FitPredict Recipe(TabularLearner learner) => (train, test) =>
            {
                using var model = TabularModel.Fit(table, schema, y, train, new TabularModelOptions
                {
                    Learner = learner, Seed = 0, StackFolds = 5, BoostingTextTerms = 0, Boosting = new BoostingOptions { Threads = 2 },
                });
                return model.Predict(table, test);
            };
            Evaluate(file, "lr", table.RowCount, y, folds, Recipe(TabularLearner.Logistic));
            if (!withTrees) continue;
            foreach (bool pretrained in new[] { false, true })
                Evaluate(file, pretrained ? "tabnet-pretrained" : "tabnet", table.RowCount, y, folds, (train, test) =>
                {
                    var inner = DataSplits.StratifiedTrainValidTest(train, y, 0.1, 0, seed: 0);
                    var features = TokenFeatures.Fit(table, schema, inner.Train);
                    var model = new TabNet(features.NumericCount, features.CategorySizes, new TabNetOptions { BatchSize = 256, VirtualBatch = 64, Patience = 20, MaxEpochs = 200 });
                    var fitInputs = features.Transform(table, inner.Train);
                    var stopInputs = features.Transform(table, inner.Validation);
                    if (pretrained) model.Pretrain(fitInputs, stopInputs);   // self-supervised on the same training rows, labels unused
                    model.Fit(fitInputs, inner.Train.Select(r => y[r]).ToArray(), stopInputs, inner.Validation.Select(r => y[r]).ToArray());
                    return model.PredictProbability(features.Transform(table, test));
                });
            Evaluate(file, "ft-transformer", table.RowCount, y, folds, (train, test) =>
            {
                // Validation rows for early stopping: a stratified 10 % of the training rows.
                var inner = DataSplits.StratifiedTrainValidTest(train, y, 0.1, 0, seed: 0);
                var features = TokenFeatures.Fit(table, schema, inner.Train);
                var model = new FtTransformer(features.NumericCount, features.CategorySizes, new FtTransformerOptions());
                model.Fit(features.Transform(table, inner.Train), inner.Train.Select(r => y[r]).ToArray(), features.Transform(table, inner.Validation), inner.Validation.Select(r => y[r]).ToArray());
                return model.PredictProbability(features.Transform(table, test));
            });
            Evaluate(file, "xgb", table.RowCount, y, folds, Recipe(TabularLearner.Boosting));
            Evaluate(file, "lgb", table.RowCount, y, folds, Recipe(TabularLearner.LightGbm));
            Evaluate(file, "stack", table.RowCount, y, folds, Recipe(TabularLearner.Stack));
            Evaluate(file, "ensemble", table.RowCount, y, folds, Recipe(TabularLearner.Ensemble));
        }
        return 0;
    }

    private static string? s_learnerFilter;

    private static void Evaluate(string file, string learner, int rows, int[] y, List<Fold> folds, FitPredict fitPredict)
    {
        if (s_learnerFilter is not null && !learner.Contains(s_learnerFilter, StringComparison.Ordinal)) return;
        var scores = new FoldScores();
        var secs = new List<double>();
        foreach (var fold in folds)
        {
            var sw = Stopwatch.StartNew();
            var p = fitPredict(fold.Train, fold.Test);
            secs.Add(sw.Elapsed.TotalSeconds);
            scores.Add(p, fold.Test.Select(i => y[i]).ToArray());
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["config"] = "tabular", ["dataset"] = file, ["learner"] = learner, ["rows"] = rows,
            ["auc"] = Math.Round(scores.Auc.Average(), 4), ["auc_std"] = Math.Round(FoldScores.Std(scores.Auc), 4),
            ["pr_auc"] = Math.Round(scores.PrAuc.Average(), 4), ["pr_auc_std"] = Math.Round(FoldScores.Std(scores.PrAuc), 4),
            ["ks"] = Math.Round(scores.Ks.Average(), 4), ["ks_std"] = Math.Round(FoldScores.Std(scores.Ks), 4), ["fit_s_per_fold"] = Math.Round(secs.Average(), 2),
        }));
    }
}
