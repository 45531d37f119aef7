namespace Jianwei.Evaluation;

/// <summary>
/// A learner's test scores over cross-validation folds: ROC-AUC, PR-AUC and KS per fold, accuracy
/// when a threshold is given, and their mean and sample standard deviation.
/// </summary>
public sealed class FoldScores
{
    private readonly List<double> _auc = [], _prAuc = [], _ks = [], _accuracy = [];

    /// <summary>ROC-AUC of each fold so far.</summary>
    public IReadOnlyList<double> Auc => _auc;
    /// <summary>PR-AUC of each fold so far.</summary>
    public IReadOnlyList<double> PrAuc => _prAuc;
    /// <summary>KS of each fold so far.</summary>
    public IReadOnlyList<double> Ks => _ks;
    /// <summary>Accuracy at each fold's threshold (folds scored with one).</summary>
    public IReadOnlyList<double> Accuracy => _accuracy;
    /// <summary>Folds scored.</summary>
    public int Count => _auc.Count;

    /// <summary>Scores one fold's test probabilities against its labels; with <paramref name="threshold"/>, also the accuracy at it.</summary>
    public void Add(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels, double? threshold = null)
    {
        _auc.Add(Metrics.RocAuc(probabilities, labels));
        _prAuc.Add(Metrics.PrAuc(probabilities, labels));
        _ks.Add(Metrics.Ks(probabilities, labels));
        if (threshold is double t) _accuracy.Add(Metrics.At(probabilities, labels, t).Accuracy);
    }

    /// <summary>The sample standard deviation (n − 1), 0 for fewer than two values.</summary>
    public static double Std(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (values.Count - 1));
    }
}
