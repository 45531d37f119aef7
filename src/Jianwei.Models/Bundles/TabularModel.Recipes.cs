using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;
using Jianwei.Models.Neural;
using Jianwei.Models.Training;

namespace Jianwei.Models.Bundles;

/// <summary>Which learner a <see cref="TabularModel"/> fits.</summary>
public enum TabularLearner
{
    /// <summary>Logistic regression on standardized numbers, one-hot categories and TF-IDF of texts.</summary>
    Logistic,
    /// <summary>XGBoost on the table (native categoricals) and the most frequent TF-IDF terms of each text column, early-stopped on 10 % of the training rows.</summary>
    Boosting,
    /// <summary>LightGBM on the same features as XGBoost, early-stopped the same way (the seed's "tuned LightGBM" baseline).</summary>
    LightGbm,
    /// <summary>A logistic stacker over out-of-fold predictions of both.</summary>
    Stack,
    /// <summary>The co-pretrained multimodal transformer (needs a text column).</summary>
    Multimodal,
    /// <summary>The co-pretrained multimodal transformer and XGBoost, joined by a logistic stacker fitted on held-out rows.</summary>
    MultimodalStack,
    /// <summary>
    /// Every candidate bagged over k folds within a time limit, combined by greedy ensemble selection
    /// or a logistic stacker on their out-of-fold predictions, whichever validates better
    /// (<c>TabularModel.Ensemble.cs</c>); the multimodal transformer is a candidate when the table has text.
    /// </summary>
    Ensemble,
    /// <summary>The FT-Transformer on the table's numbers and categories (texts set aside), early-stopped on 10 % of its rows.</summary>
    FtTransformer,
    /// <summary>Logistic regression with texts as naive Bayes–scaled n-grams (NBSVM's features): an ensemble candidate on tables with text, not a recipe of its own.</summary>
    NaiveBayesLogistic,
    /// <summary>Logistic regression with numbers cut into quantile bins (a scorecard's shape): an ensemble candidate on tables with numbers, not a recipe of its own.</summary>
    BinnedLogistic,
}

/// <summary>Settings of <see cref="TabularModel.Fit"/>.</summary>
public sealed record TabularModelOptions
{
    /// <summary>The learner.</summary>
    public TabularLearner Learner { get; init; } = TabularLearner.Stack;
    /// <summary>Inner folds whose out-of-fold predictions train the stacker.</summary>
    public int StackFolds { get; init; } = 3;
    /// <summary>Boosting settings.</summary>
    public BoostingOptions Boosting { get; init; } = new();
    /// <summary>TF-IDF terms per text column that XGBoost sees (0: the table only).</summary>
    public int BoostingTextTerms { get; init; } = 100;
    /// <summary>Regularization of the logistic regression (C, as in scikit-learn).</summary>
    public double LogisticC { get; init; } = 1;
    /// <summary>Seed of the inner splits.</summary>
    public int Seed { get; init; }
    /// <summary>Settings of the multimodal learners.</summary>
    public MultimodalLearnerOptions Multimodal { get; init; } = new();
    /// <summary>Share of training rows the multimodal learners hold out for early stopping (and the stacker).</summary>
    public double MultimodalValidationFraction { get; init; } = 0.15;
    /// <summary>
    /// The ensemble's candidates, each a single-learner recipe, cheapest first (the order they run in):
    /// LR, on tables with text the naive Bayes–scaled LR, on tables with numbers the binned LR, LightGBM, XGBoost, the FT-Transformer and, on
    /// tables with text, the multimodal transformer.
    /// </summary>
    public IReadOnlyList<TabularLearner> EnsembleCandidates { get; init; } =
        [TabularLearner.Logistic, TabularLearner.NaiveBayesLogistic, TabularLearner.BinnedLogistic, TabularLearner.LightGbm, TabularLearner.Boosting, TabularLearner.FtTransformer, TabularLearner.Multimodal];
    /// <summary>Folds each ensemble candidate is bagged over.</summary>
    public int EnsembleFolds { get; init; } = 5;
    /// <summary>The time limit the ensemble's candidates share (started when training began); none by default.</summary>
    public TimeLimit Limit { get; init; } = TimeLimit.None;
    /// <summary>Refit each kept ensemble member once on all rows instead of keeping its k fold models (cheaper to serve).</summary>
    public bool RefitFull { get; init; }
    /// <summary>Keep ensemble members of weight 0 in the model (for comparisons that score every member; a bundle drops them).</summary>
    public bool KeepUnweighted { get; init; }
    /// <summary>Configurations the ensemble's tuning search tries per boosted-tree candidate (0: the <see cref="Boosting"/> settings as they are).</summary>
    public int BoostingTrials { get; init; }
    /// <summary>Whether the ensemble's logistic regression chooses its C (<see cref="LogisticSearch"/>) instead of taking <see cref="LogisticC"/>.</summary>
    public bool TuneLogistic { get; init; }
    /// <summary>Settings of the FT-Transformer.</summary>
    public FtTransformerOptions FtTransformer { get; init; } = new();
    /// <summary>
    /// A co-pretrained start for the ensemble's multimodal candidate, made elsewhere on these rows (and
    /// unlabeled ones, labels unused); its own co-pretraining is then skipped. Null: it co-pretrains.
    /// </summary>
    public CoPretrainedStart? MultimodalStart { get; init; }
}

/// <summary>
/// The recipes (<see cref="TabularLearner"/>): which learners a model holds and how they are fitted
/// and combined — a single learner; the stack of logistic regression and XGBoost with the stacker on
/// out-of-fold predictions; the co-pretrained multimodal transformer alone or stacked with XGBoost on
/// held-out rows.
/// </summary>
public sealed partial class TabularModel
{
    /// <summary>The recipe in words, for tables people read.</summary>
    public static string Describe(TabularLearner recipe) => recipe switch
    {
        TabularLearner.MultimodalStack => "co-pretrained multimodal transformer + XGBoost",
        TabularLearner.Multimodal => "co-pretrained multimodal transformer",
        TabularLearner.Stack => "stack: LR + XGBoost",
        TabularLearner.Ensemble => "validated ensemble (bagged candidates, selection or stacker on out-of-fold predictions)",
        TabularLearner.FtTransformer => "FT-Transformer (table)",
        TabularLearner.Boosting => "XGBoost (table + TF-IDF terms)",
        TabularLearner.LightGbm => "LightGBM (table + TF-IDF terms)",
        TabularLearner.NaiveBayesLogistic => "logistic regression (table + naive Bayes-scaled n-grams of texts)",
        TabularLearner.BinnedLogistic => "logistic regression (numbers in quantile bins + TF-IDF of texts)",
        _ => "logistic regression (table + TF-IDF of texts)",
    };

    /// <summary>The learners each recipe combines, in order.</summary>
    private static string[] LearnersOf(TabularLearner recipe) => recipe switch
    {
        TabularLearner.Logistic => ["logistic"],
        TabularLearner.Boosting => ["boosting"],
        TabularLearner.LightGbm => ["lightgbm"],
        TabularLearner.Stack => ["logistic", "boosting"],
        TabularLearner.Multimodal => ["multimodal"],
        TabularLearner.MultimodalStack => ["multimodal", "boosting"],
        TabularLearner.FtTransformer => ["ft-transformer"],
        _ => throw new ArgumentException($"the {recipe} recipe chooses its learners when fitted."),
    };

    /// <summary>
    /// Fits on <paramref name="trainRows"/> of <paramref name="table"/> with 0/1 <paramref name="labels"/> for
    /// every row of the table. The multimodal learners also co-pretrain on <paramref name="unlabeledRows"/>.
    /// </summary>
    public static TabularModel Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, IReadOnlyList<int> trainRows, TabularModelOptions? options = null,
                                   IReadOnlyList<int>? unlabeledRows = null)
    {
        options ??= new TabularModelOptions();
        var o = options;
        var rows = trainRows.ToArray();
        ILearner Logistic(int[] fit) => LogisticLearner.Fit(table, schema, labels, fit, o.LogisticC);
        ILearner Boosting(int[] fit) => BoostingLearner.Fit(table, schema, labels, fit, o.Boosting, o.BoostingTextTerms, o.Seed);
        return options.Learner switch
        {
            TabularLearner.Logistic => new(options.Learner, [Logistic(rows)], null),
            TabularLearner.Boosting => new(options.Learner, [Boosting(rows)], null),
            TabularLearner.LightGbm => new(options.Learner, [BoostingLearner.Fit(table, schema, labels, rows, o.Boosting, o.BoostingTextTerms, o.Seed, TreeLibrary.LightGbm)], null),
            TabularLearner.Stack => FitStack(table, labels, rows, options, [Logistic, Boosting]),
            TabularLearner.FtTransformer => new(options.Learner, [FtTransformerLearner.Fit(table, schema, labels, rows, o.FtTransformer with { Seed = o.Seed })], null),
            TabularLearner.Ensemble => FitEnsemble(table, schema, labels, rows, unlabeledRows?.ToArray() ?? [], options),
            TabularLearner.NaiveBayesLogistic or TabularLearner.BinnedLogistic => throw new ArgumentException($"{options.Learner} is an ensemble candidate, not a recipe."),
            _ => FitMultimodal(table, schema, labels, rows, options, unlabeledRows?.ToArray() ?? []),
        };
    }

    /// <summary>
    /// The stack: each learner fitted on all <paramref name="rows"/>, and the stacker on their
    /// out-of-fold predictions over <see cref="TabularModelOptions.StackFolds"/> inner folds.
    /// </summary>
    private static TabularModel FitStack(RawTable table, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options, Func<int[], ILearner>[] fits)
    {
        var learners = fits.Select(fit => fit(rows)).ToArray();
        var folds = DataSplits.StratifiedKFold(rows, labels, options.StackFolds, options.Seed);
        var oof = fits.Select(fit =>
        {
            var all = CrossValidation.OutOfFold(folds, table.RowCount, (train, predict) => { using var inner = fit(train); return inner.Predict(table, predict); });
            return rows.Select(r => all[r]).ToArray();
        }).ToList();
        return new(options.Learner, learners, LogisticStacker.Fit(oof, rows.Select(r => labels[r]).ToArray()));
    }

    /// <summary>
    /// The multimodal recipes: the transformer fine-tunes on most of the rows and early-stops on the
    /// rest; for the stack, XGBoost fits on the same rows and the stacker on the held-out ones (neither
    /// base learner saw them, so it learns how far to trust each).
    /// </summary>
    private static TabularModel FitMultimodal(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, TabularModelOptions options, int[] unlabeled)
    {
        var inner = DataSplits.StratifiedTrainValidTest(rows, labels, options.MultimodalValidationFraction, 0, options.Seed);
        int[] fit = inner.Train, valid = inner.Validation;
        var multimodal = MultimodalLearner.Fit(table, schema, labels, fit, valid, unlabeled, options.Multimodal with { Seed = options.Seed });
        if (options.Learner == TabularLearner.Multimodal) return new(options.Learner, [multimodal], null);
        options.Multimodal.Progress?.WriteLine($"boosting on {fit.Length:N0} rows, then stacking on {valid.Length:N0} held-out rows ...");
        var trees = BoostingLearner.Fit(table, schema, labels, fit, options.Boosting, options.BoostingTextTerms, options.Seed);
        double[][] held = [multimodal.Predict(table, valid), trees.Predict(table, valid)];
        return new(options.Learner, [multimodal, trees], LogisticStacker.FitNonNegative(held, valid.Select(r => labels[r]).ToArray()));
    }
}
