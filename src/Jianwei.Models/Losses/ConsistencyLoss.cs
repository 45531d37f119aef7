using Jianwei.Tensors;

namespace Jianwei.Models.Losses;

/// <summary>Agreement between two predictions of the same rows (R-Drop, Liang et al. 2021).</summary>
public static class ConsistencyLoss
{
    /// <summary>
    /// Mean over rows of the symmetric KL divergence ½(KL(p‖q) + KL(q‖p)) between the Bernoulli
    /// predictions σ(a) and σ(b) of two logit vectors [b]. For Bernoulli distributions the sum of the two
    /// KLs is exactly (p − q)(a − b), which is what is computed.
    /// </summary>
    public static Tensor SymmetricKl(Tensor a, Tensor b) => ((a.Sigmoid() - b.Sigmoid()) * (a - b)).MeanAll() * 0.5f;
}
