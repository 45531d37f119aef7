using Jianwei.Data;

namespace Jianwei.Models.Ensembles;

/// <summary>A learner as cross-validation sees it: fit on some rows, return probabilities for others.</summary>
public delegate double[] FitPredict(int[] trainRows, int[] predictRows);

/// <summary>Out-of-fold predictions: every row predicted by a model that never saw it.</summary>
public static class CrossValidation
{
    /// <summary>Runs <paramref name="learner"/> once per fold; returns one prediction per row (rows in no test fold stay NaN).</summary>
    public static double[] OutOfFold(IReadOnlyList<Fold> folds, int rows, FitPredict learner)
    {
        var oof = new double[rows];
        Array.Fill(oof, double.NaN);
        foreach (var fold in folds)
        {
            var p = learner(fold.Train, fold.Test);
            if (p.Length != fold.Test.Length) throw new InvalidOperationException($"the learner returned {p.Length} predictions for {fold.Test.Length} rows.");
            for (int i = 0; i < p.Length; i++) oof[fold.Test[i]] = p[i];
        }
        return oof;
    }
}
