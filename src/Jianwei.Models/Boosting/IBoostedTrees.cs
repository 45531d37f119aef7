namespace Jianwei.Models.Boosting;

/// <summary>What a learner needs of fitted trees, whichever library grew them (<see cref="GradientBoostedTrees"/>, <see cref="LightGbmTrees"/>).</summary>
public interface IBoostedTrees : IDisposable
{
    /// <summary>Probability of the positive class for each row.</summary>
    double[] Probabilities(DenseMatrix m);
    /// <summary>SHAP contributions to the log-odds, [rows, features + 1] row-major, the bias last.</summary>
    double[] Contributions(DenseMatrix m);
    /// <summary>Total gain of each feature's splits (features never used are absent).</summary>
    Dictionary<string, double> GainImportance();
}
