namespace Jianwei.Models.Training;

/// <summary>
/// FixMatch's pseudo-labels for a binary model (Sohn et al. 2020): a row whose predicted probability
/// is at least the threshold becomes a positive, at most one minus it a negative; rows in between are
/// left out. Only the model's own prediction for the row is read.
/// </summary>
public static class PseudoLabels
{
    /// <summary>
    /// The confident rows among <paramref name="logits"/> (indices, ascending) and their hard labels
    /// (1 or 0); <paramref name="threshold"/> is in (0.5, 1].
    /// </summary>
    public static (int[] Rows, float[] Labels) Select(ReadOnlySpan<float> logits, float threshold)
    {
        if (!(threshold > 0.5f && threshold <= 1f)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "a confidence threshold in (0.5, 1].");
        // σ(z) ≥ t ⇔ z ≥ logit(t): compared in log-odds, so a threshold of 1 admits nothing finite.
        double cut = threshold == 1f ? double.PositiveInfinity : Math.Log(threshold / (1.0 - threshold));
        var rows = new List<int>(); var labels = new List<float>();
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] >= cut) { rows.Add(i); labels.Add(1f); }
            else if (logits[i] <= -cut) { rows.Add(i); labels.Add(0f); }
        }
        return ([.. rows], [.. labels]);
    }
}
