using Jianwei.Tensors;

namespace Jianwei.Models.Losses;

/// <summary>Metric losses on row representations [b, d] with 0/1 labels: rows of a class pulled together, the classes apart.</summary>
public static class MetricLosses
{
    /// <summary>
    /// Supervised contrastive loss (Khosla et al. 2020, the "L_out" form) of representations [b, d]
    /// with 0/1 labels: rows are normalized to unit length; for every anchor with at least one other
    /// row of its class, −mean over those positives p of log(exp(zᵢ·z_p/τ) / Σ_{a≠i} exp(zᵢ·z_a/τ));
    /// averaged over such anchors.
    /// </summary>
    public static Tensor SupervisedContrastive(Tensor features, float[] y, float temperature)
    {
        int b = y.Length;
        var z = Normalize(features);                                                          // [b, d], unit rows
        var self = new float[b * b]; var positive = new float[b * b]; var anchors = new float[b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++)
            {
                if (i == j) { self[i * b + j] = -1e4f; continue; }                            // an anchor never competes with itself
                if (y[i] == y[j]) { positive[i * b + j] = 1f; anchors[i] += 1f; }
            }
        int used = anchors.Count(c => c > 0);
        if (used == 0) return Tensor.Zeros(1).SumAll();
        var similarity = Tensor.MatMul(z, z, transB: true) * (1f / temperature) + Tensor.Wrap(self, b, b);   // [b, b]
        var logProbability = similarity.LogSoftmax();                                          // over a ≠ i
        var perAnchor = (logProbability * Tensor.Wrap(positive, b, b)).Sum(1);                // [b] Σ over positives
        var weights = anchors.Select(c => c > 0 ? -1f / (c * used) : 0f).ToArray();
        return (perAnchor * Tensor.FromArray(weights, b)).SumAll();
    }

    /// <summary>
    /// Triplet loss with batch-hard mining (Hermans et al. 2017) on unit-normalized representations
    /// [b, d]: for each anchor with a same-class partner and an other-class row,
    /// max(0, d(anchor, farthest positive) − d(anchor, nearest negative) + margin), d the squared
    /// Euclidean distance 2 − 2 cos; averaged over those anchors.
    /// </summary>
    public static Tensor Triplet(Tensor features, float[] y, float margin)
    {
        int b = y.Length;
        var z = Normalize(features);
        var distance = (Tensor.MatMul(z, z, transB: true) * -2f).AddScalar(2f);              // [b, b]
        var notPositive = new float[b * b]; var notNegative = new float[b * b]; var valid = new float[b];
        for (int i = 0; i < b; i++)
        {
            bool hasPositive = false, hasNegative = false;
            for (int j = 0; j < b; j++)
            {
                bool pos = i != j && y[i] == y[j], neg = y[i] != y[j];
                hasPositive |= pos; hasNegative |= neg;
                notPositive[i * b + j] = pos ? 0f : -1e4f;
                notNegative[i * b + j] = neg ? 0f : 1e4f;
            }
            valid[i] = hasPositive && hasNegative ? 1f : 0f;
        }
        float used = valid.Sum();
        if (used == 0) return Tensor.Zeros(1).SumAll();
        var hardestPositive = (distance + Tensor.Wrap(notPositive, b, b)).Max(1);             // [b] farthest same-class row
        var hardestNegative = -((-distance) - Tensor.Wrap(notNegative, b, b)).Max(1);         // [b] nearest other-class row
        return ((hardestPositive - hardestNegative).AddScalar(margin).Relu() * Tensor.FromArray(valid, b)).SumAll() * (1f / used);
    }

    /// <summary>Rows of [b, d] scaled to unit length.</summary>
    private static Tensor Normalize(Tensor x) => x / ((x * x).Sum(1, keepDim: true).AddScalar(1e-12f).Sqrt());
}
