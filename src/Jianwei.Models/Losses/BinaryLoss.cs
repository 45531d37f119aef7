using Jianwei.Tensors;

namespace Jianwei.Models.Losses;

/// <summary>The supervised loss of a binary classifier's logits.</summary>
public static class BinaryLoss
{
    /// <summary>
    /// The loss of logits [b] against 0/1 targets: binary cross-entropy with label smoothing ε
    /// (targets y(1 − ε) + ε/2) and a positive-class weight, optionally focal ((1 − p_t)^γ per row,
    /// Lin et al. 2017), then flooding at level b (|L − b| + b, Ishida et al. 2020; 0: off).
    /// </summary>
    public static Tensor Of(Tensor logits, float[] y, float positiveWeight = 1f, float labelSmoothing = 0f, float focalGamma = 0f, float flooding = 0f)
    {
        int b = y.Length;
        var target = y.Select(v => v * (1 - labelSmoothing) + labelSmoothing / 2).ToArray();
        var weights = y.Select(v => v > 0.5f ? positiveWeight : 1f).ToArray();
        var t = Tensor.FromArray(target, b);
        var perRow = logits.Softplus() - logits * t;                                          // BCE with logits, per row
        if (focalGamma > 0)
        {
            var p = logits.Sigmoid();
            var pt = p * t + (p.RSubScalar(1f)) * t.RSubScalar(1f);                           // probability of the true class
            perRow = perRow * pt.RSubScalar(1f).Pow(focalGamma);
        }
        var loss = (perRow * Tensor.FromArray(weights, b)).SumAll() * (1f / weights.Sum());
        if (flooding > 0)
        {
            var gap = loss - flooding;
            loss = gap.Relu() + (-gap).Relu() + flooding;                                    // |L − b| + b
        }
        return loss;
    }
}
