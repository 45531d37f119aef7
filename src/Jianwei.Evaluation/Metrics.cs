namespace Jianwei.Evaluation;

/// <summary>Counts at one threshold: a row is predicted positive when its score is at least the threshold.</summary>
public sealed record Confusion(double Threshold, int TruePositive, int FalsePositive, int TrueNegative, int FalseNegative)
{
    /// <summary>(TP + TN) / n.</summary>
    public double Accuracy => (TruePositive + TrueNegative) / (double)Math.Max(1, TruePositive + FalsePositive + TrueNegative + FalseNegative);
    /// <summary>TP / (TP + FP); 0 when nothing is predicted positive.</summary>
    public double Precision => TruePositive + FalsePositive == 0 ? 0 : TruePositive / (double)(TruePositive + FalsePositive);
    /// <summary>TP / (TP + FN): the share of defaults caught.</summary>
    public double Recall => TruePositive + FalseNegative == 0 ? 0 : TruePositive / (double)(TruePositive + FalseNegative);
    /// <summary>Harmonic mean of precision and recall.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
    /// <summary>Share of rows predicted negative (approved, in credit terms).</summary>
    public double ApprovalRate => (TrueNegative + FalseNegative) / (double)Math.Max(1, TruePositive + FalsePositive + TrueNegative + FalseNegative);
}

/// <summary>A metric's value with a bootstrap percentile interval.</summary>
public sealed record Interval(double Value, double Lower, double Upper);

/// <summary>
/// Binary classification metrics on scores (higher = more likely positive) and 0/1 labels, with the
/// conventions of scikit-learn: ties share ranks in ROC-AUC, average precision steps at each distinct
/// score, KS is the largest gap between the cumulative score distributions of the two classes.
/// A metric that needs both classes throws when one is missing (a fold too small, say).
/// </summary>
public static class Metrics
{
    private static void Check(IReadOnlyList<double> scores, IReadOnlyList<int> labels, string metric, bool needBoth = true)
    {
        if (scores.Count != labels.Count) throw new ArgumentException($"{metric}: {scores.Count} scores for {labels.Count} labels.");
        if (scores.Count == 0) throw new ArgumentException($"{metric}: no rows.");
        foreach (var l in labels) if (l is not (0 or 1)) throw new ArgumentException($"{metric}: labels must be 0 or 1, found {l}.");
        foreach (var s in scores) if (double.IsNaN(s)) throw new ArgumentException($"{metric}: a score is NaN.");
        if (needBoth)
        {
            int pos = labels.Count(l => l == 1);
            if (pos == 0 || pos == labels.Count)
                throw new ArgumentException($"{metric} needs both classes, but all {labels.Count} labels are {(pos == 0 ? 0 : 1)}.");
        }
    }

    /// <summary>Area under the ROC curve (Mann–Whitney: average ranks for ties).</summary>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        Check(scores, labels, "ROC-AUC");
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        long pos = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) if (labels[order[k]] == 1) { rankSum += rank; pos++; }
            i = j + 1;
        }
        long neg = scores.Count - pos;
        return (rankSum - pos * (pos + 1) / 2.0) / (pos * (double)neg);
    }

    /// <summary>Gini coefficient, 2·AUC − 1 (the credit-scoring convention).</summary>
    public static double Gini(IReadOnlyList<double> scores, IReadOnlyList<int> labels) => 2 * RocAuc(scores, labels) - 1;

    /// <summary>Average precision (area under the precision–recall curve as scikit-learn computes it).</summary>
    public static double PrAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        Check(scores, labels, "PR-AUC");
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double positives = labels.Count(l => l == 1), ap = 0, prevRecall = 0;
        int tp = 0, fp = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            for (int k = i; k <= j; k++) { if (labels[order[k]] == 1) tp++; else fp++; }
            double recall = tp / positives, precision = tp / (double)(tp + fp);
            ap += (recall - prevRecall) * precision;
            prevRecall = recall;
            i = j + 1;
        }
        return ap;
    }

    /// <summary>Kolmogorov–Smirnov statistic: max over thresholds of TPR − FPR.</summary>
    public static double Ks(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        Check(scores, labels, "KS");
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double pos = labels.Count(l => l == 1), neg = labels.Count - pos, best = 0;
        int tp = 0, fp = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            for (int k = i; k <= j; k++) { if (labels[order[k]] == 1) tp++; else fp++; }
            best = Math.Max(best, tp / pos - fp / neg);
            i = j + 1;
        }
        return best;
    }

    /// <summary>Counts at a threshold (score ≥ threshold → positive).</summary>
    public static Confusion At(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double threshold)
    {
        Check(scores, labels, "confusion", needBoth: false);
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            bool predicted = scores[i] >= threshold;
            if (labels[i] == 1) { if (predicted) tp++; else fn++; }
            else { if (predicted) fp++; else tn++; }
        }
        return new Confusion(threshold, tp, fp, tn, fn);
    }

    /// <summary>The threshold (one of the scores) with the highest F1, and its counts.</summary>
    public static Confusion BestF1(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        Check(scores, labels, "best-F1 threshold");
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        int pos = labels.Count(l => l == 1), tp = 0, fp = 0;
        double bestF1 = -1, bestT = double.PositiveInfinity;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            for (int k = i; k <= j; k++) { if (labels[order[k]] == 1) tp++; else fp++; }
            double f1 = 2.0 * tp / (tp + fp + pos);
            if (f1 > bestF1) { bestF1 = f1; bestT = scores[order[i]]; }
            i = j + 1;
        }
        return At(scores, labels, bestT);
    }

    /// <summary>
    /// The threshold that approves (predicts negative) as close as possible to <paramref name="approvalRate"/>
    /// of the rows: the lowest-scored rows are approved first; ties are never split.
    /// </summary>
    public static Confusion ForApprovalRate(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double approvalRate)
    {
        if (approvalRate is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(approvalRate), "the approval rate must be in [0, 1].");
        Check(scores, labels, "approval-rate threshold", needBoth: false);
        var sorted = scores.Order().ToArray();
        int target = (int)Math.Round(approvalRate * sorted.Length);
        if (target >= sorted.Length) return At(scores, labels, double.PositiveInfinity);
        if (target <= 0) return At(scores, labels, double.NegativeInfinity);
        // Rows with score < t are approved; t = the score at the target position, moved to keep ties together.
        double candidate = sorted[target];
        int below = Array.BinarySearch(sorted, candidate);
        while (below > 0 && sorted[below - 1] == candidate) below--;
        int above = below;
        while (above < sorted.Length && sorted[above] == candidate) above++;
        double t = Math.Abs(below - target) <= Math.Abs(above - target) ? candidate : (above < sorted.Length ? sorted[above] : double.PositiveInfinity);
        return At(scores, labels, t);
    }

    /// <summary>Mean negative log-likelihood of probabilities (clipped to [1e-15, 1 − 1e-15]).</summary>
    public static double LogLoss(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels)
    {
        Check(probabilities, labels, "log loss", needBoth: false);
        double sum = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            double p = Math.Clamp(probabilities[i], 1e-15, 1 - 1e-15);
            sum -= labels[i] == 1 ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / labels.Count;
    }

    /// <summary>Mean squared error of probabilities.</summary>
    public static double Brier(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels)
    {
        Check(probabilities, labels, "Brier score", needBoth: false);
        double sum = 0;
        for (int i = 0; i < labels.Count; i++) sum += (probabilities[i] - labels[i]) * (probabilities[i] - labels[i]);
        return sum / labels.Count;
    }

    /// <summary>
    /// Expected calibration error with <paramref name="bins"/> equal-width probability bins:
    /// Σ_b (n_b / n)·|mean predicted − observed rate| (probability 1 falls in the last bin).
    /// </summary>
    public static double ExpectedCalibrationError(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels, int bins = 10)
    {
        Check(probabilities, labels, "calibration error", needBoth: false);
        var sumP = new double[bins]; var sumY = new double[bins]; var count = new int[bins];
        for (int i = 0; i < labels.Count; i++)
        {
            int b = Math.Clamp((int)(probabilities[i] * bins), 0, bins - 1);
            sumP[b] += probabilities[i]; sumY[b] += labels[i]; count[b]++;
        }
        double ece = 0;
        for (int b = 0; b < bins; b++) if (count[b] > 0) ece += count[b] / (double)labels.Count * Math.Abs(sumP[b] / count[b] - sumY[b] / count[b]);
        return ece;
    }

    /// <summary>
    /// Bootstrap percentile interval of a metric: <paramref name="resamples"/> draws of n rows with
    /// replacement (seeded); draws with a single class are redrawn. Returns the full-data value and the
    /// (1 − level)/2 and (1 + level)/2 percentiles.
    /// </summary>
    public static Interval Bootstrap(Func<IReadOnlyList<double>, IReadOnlyList<int>, double> metric, IReadOnlyList<double> scores, IReadOnlyList<int> labels,
                                     int resamples = 1000, double level = 0.95, int seed = 0)
    {
        double value = metric(scores, labels);
        var rng = new Random(seed);
        var values = new double[resamples];
        int n = scores.Count;
        var s = new double[n]; var l = new int[n];
        for (int r = 0; r < resamples; r++)
        {
            int pos;
            do
            {
                pos = 0;
                for (int i = 0; i < n; i++) { int k = rng.Next(n); s[i] = scores[k]; l[i] = labels[k]; pos += l[i]; }
            } while (pos == 0 || pos == n);
            values[r] = metric(s, l);
        }
        Array.Sort(values);
        double Pct(double q) { double pos = q * (resamples - 1); int lo = (int)pos, hi = Math.Min(lo + 1, resamples - 1); return values[lo] + (pos - lo) * (values[hi] - values[lo]); }
        return new Interval(value, Pct((1 - level) / 2), Pct((1 + level) / 2));
    }
}
