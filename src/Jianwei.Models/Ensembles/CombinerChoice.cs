using Jianwei.Data;
using Jianwei.Evaluation;

namespace Jianwei.Models.Ensembles;

/// <summary>
/// How the ensemble combines its members' out-of-fold predictions: greedy selection, the non-negative
/// logistic stacker or the best member alone, by their ROC-AUC on rows they were not fitted on. Each way
/// is fitted on one half of the rows and scored on the other (a stratified 2-fold split, both ways), over
/// <c>repeats</c> different splits (5: ten scores each). The blend with the higher mean score (ties to
/// selection) is kept when it beats the best member alone by more than one standard error of their paired
/// differences (Breiman et al.'s one-standard-error rule: the simpler model unless the more complex one is
/// better beyond the noise of the estimate). On the rows it is fitted on, selection is never below its best
/// member, but what it adds there may be noise: on Lending Club (5 % positives) a blend that won a single
/// split lost on the outer folds, and the rule keeps the best member there (bench/README.md, 2026-12-08).
/// The winner is refitted on all rows.
/// </summary>
public static class CombinerChoice
{
    /// <summary>The combiner for out-of-fold predictions <paramref name="oof"/> [member][row] of labels <paramref name="y"/>.</summary>
    public static ICombiner Choose(IReadOnlyList<double[]> oof, IReadOnlyList<int> y, int seed, int repeats = 5, bool oneStandardError = true)
    {
        if (oof.Count == 1) return BestMember(oof, y);
        List<double> selection = [], stacker = [], single = [];
        for (int repeat = 0; repeat < repeats; repeat++)
            foreach (var half in DataSplits.StratifiedKFold(y, 2, seed + repeat))
            {
                var fit = oof.Select(p => half.Train.Select(i => p[i]).ToArray()).ToList();
                var test = oof.Select(p => half.Test.Select(i => p[i]).ToArray()).ToList();
                int[] yFit = half.Train.Select(i => y[i]).ToArray(), yTest = half.Test.Select(i => y[i]).ToArray();
                selection.Add(Metrics.RocAuc(GreedyEnsemble.Fit(fit, yFit, Metrics.RocAuc).Predict(test), yTest));
                stacker.Add(Metrics.RocAuc(LogisticStacker.FitNonNegative(fit, yFit).Predict(test), yTest));
                single.Add(Metrics.RocAuc(BestMember(fit, yFit).Predict(test), yTest));
            }
        bool selectionFirst = selection.Sum() >= stacker.Sum();
        var blend = selectionFirst ? selection : stacker;
        var gain = blend.Zip(single, (b, s) => b - s).ToList();
        double margin = oneStandardError && gain.Count > 1 ? StandardError(gain) : 0;
        if (gain.Average() < margin) return BestMember(oof, y);
        return selectionFirst ? GreedyEnsemble.Fit(oof, y, Metrics.RocAuc) : LogisticStacker.FitNonNegative(oof, y);
    }

    private static double StandardError(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) / values.Count);
    }

    /// <summary>The member with the highest ROC-AUC alone (weight 1, the rest 0): selection stopped after its first pick.</summary>
    public static GreedyEnsemble BestMember(IReadOnlyList<double[]> oof, IReadOnlyList<int> y) => GreedyEnsemble.Fit(oof, y, Metrics.RocAuc, steps: 1);
}
