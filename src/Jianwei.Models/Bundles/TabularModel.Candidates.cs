using System.Globalization;
using Jianwei.Data;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Features;
using Jianwei.Models.Learners;

namespace Jianwei.Models.Bundles;

/// <summary>
/// The validated ensemble's candidates, each as <see cref="EnsembleSchedule"/> runs it: what it does once
/// (the tuning searches of logistic regression and the boosted trees, the multimodal transformer's co-pretraining) and how it fits each
/// fold model, and its share of the time left.
/// </summary>
public sealed partial class TabularModel
{
    /// <summary>
    /// Shares of the time left: the linear and tree learners need seconds, the FT-Transformer some
    /// epochs per fold, the multimodal transformer co-pretraining and then an epoch or more per fold.
    /// </summary>
    private static double ShareOf(TabularLearner learner) => learner switch
    {
        TabularLearner.FtTransformer => 2,
        TabularLearner.Multimodal => 6,
        _ => 1,
    };

    /// <summary>Share of its budget the multimodal candidate spends co-pretraining (capped by <see cref="MultimodalLearnerOptions.PretrainBudget"/>); the rest fine-tunes its fold models.</summary>
    private const double CoPretrainingShare = 0.35;

    /// <summary>Share of a tuned candidate's budget (logistic regression, boosted trees) its search may spend.</summary>
    private const double SearchShare = 0.5;

    /// <summary>
    /// Why <paramref name="candidate"/> cannot read a table of <paramref name="schema"/>, or null: the multimodal
    /// transformer and the naive Bayes–scaled LR need a text column (without one the latter is plain LR), the
    /// binned LR a number or a date (likewise), the FT-Transformer a number or a category.
    /// </summary>
    public static string? CannotRead(TabularLearner candidate, TableSchema schema) => candidate switch
    {
        TabularLearner.Multimodal or TabularLearner.NaiveBayesLogistic when !schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type == ColumnType.Text) => "the table has no text column",
        TabularLearner.BinnedLogistic when !schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type is ColumnType.Numeric or ColumnType.DateTime) => "the table has no numeric column",
        TabularLearner.FtTransformer when !schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text) => "the table has no numeric or categorical column",
        _ => null,
    };

    /// <summary>
    /// The candidates of <paramref name="options"/> in their order; one that cannot read the table
    /// (<see cref="CannotRead"/>) is marked so, and skipped with that reason.
    /// </summary>
    private static List<EnsembleCandidate> EnsembleCandidates(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, int[] unlabeled, TabularModelOptions options)
    {
        return options.EnsembleCandidates.Select(candidate => (candidate switch
        {
            TabularLearner.Logistic => LinearCandidate(LinearView.Plain),
            TabularLearner.NaiveBayesLogistic => LinearCandidate(LinearView.NaiveBayesText),
            TabularLearner.BinnedLogistic => LinearCandidate(LinearView.BinnedNumbers),
            TabularLearner.Boosting => BoostingCandidate("boosting", TreeLibrary.XGBoost),
            TabularLearner.LightGbm => BoostingCandidate("lightgbm", TreeLibrary.LightGbm),
            TabularLearner.FtTransformer => new EnsembleCandidate("ft-transformer", ShareOf(candidate), _ =>
                new CandidatePlan((fold, fit, budget) => FtTransformerLearner.Fit(table, schema, labels, fit, options.FtTransformer with { Seed = options.Seed + fold, TimeBudget = budget }))),
            TabularLearner.Multimodal => MultimodalCandidate(table, schema, labels, rows, unlabeled, options),
            _ => throw new ArgumentException($"an ensemble candidate is a single-learner recipe; {candidate} is not."),
        }) with { NotApplicable = CannotRead(candidate, schema) }).ToList();

        EnsembleCandidate LinearCandidate(LinearView view) => new(LogisticLearner.NameOf(view), ShareOf(TabularLearner.Logistic), budget =>
        {
            var (c, settings) = options.TuneLogistic ? LogisticSearch.Run(table, schema, labels, rows, options.Seed, budget * SearchShare, view) : (options.LogisticC, "");
            return new CandidatePlan((_, fit, _) => LogisticLearner.Fit(table, schema, labels, fit, c, view), settings);
        });

        EnsembleCandidate BoostingCandidate(string name, TreeLibrary library) => new(name, ShareOf(TabularLearner.Boosting), budget =>
        {
            var tuned = options.BoostingTrials > 1
                ? BoostingSearch.Run(table, schema, labels, rows, library, options.Boosting, options.BoostingTextTerms, options.BoostingTrials, options.Seed, budget * SearchShare)
                : new SearchResult(options.Boosting, "", 1);
            return new CandidatePlan((_, fit, _) => BoostingLearner.Fit(table, schema, labels, fit, tuned.Options, options.BoostingTextTerms, options.Seed, library), tuned.Settings);
        });
    }

    /// <summary>
    /// The multimodal transformer as a candidate: co-pretrained once on every training and unlabeled row
    /// (labels unused; or started from <see cref="TabularModelOptions.MultimodalStart"/>), then each fold model fine-tuned from that start on its fold's rows, early-stopped
    /// on a stratified share of them, so its out-of-fold predictions come from models that never saw those labels.
    /// </summary>
    private static EnsembleCandidate MultimodalCandidate(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, int[] unlabeled, TabularModelOptions options) =>
        new("multimodal", ShareOf(TabularLearner.Multimodal), budget =>
        {
            var o = options.Multimodal with { Seed = options.Seed };
            if (budget is TimeSpan b && b * CoPretrainingShare < o.PretrainBudget) o = o with { PretrainBudget = b * CoPretrainingShare };
            var start = options.MultimodalStart ?? MultimodalLearner.CoPretrain(table, schema, rows.Concat(unlabeled).ToArray(), o);
            string settings = options.MultimodalStart is not null ? "fine-tuned from a given co-pretrained start" : start.Steps == 0 ? "not co-pretrained"
                : string.Create(CultureInfo.InvariantCulture, $"co-pretrained {start.Steps:N0} steps in {start.Seconds:0} s on {rows.Length + unlabeled.Length:N0} rows ({unlabeled.Length:N0} unlabeled)");
            return new CandidatePlan((fold, fit, foldBudget) =>
            {
                var inner = DataSplits.StratifiedTrainValidTest(fit, labels, options.MultimodalValidationFraction, 0, options.Seed + fold);
                var fineTune = foldBudget is null ? o.FineTune : o.FineTune with { TimeBudget = foldBudget };
                return MultimodalLearner.FineTune(start, table, labels, inner.Train, inner.Validation, unlabeled, o with { Seed = options.Seed + fold, FineTune = fineTune });
            }, settings);
        });
}
