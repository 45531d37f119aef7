using Jianwei.Tensors.Nn;

namespace Jianwei.Tensors.Tests;

/// <summary>Integrated Gradients against hand-worked values and its completeness on a nonlinear function.</summary>
public class IntegratedGradientsTests
{
    [Fact]
    public void QuadraticFormGetsItsExactTermsPerGroup()
    {
        // f(x) = Σ wᵢ xᵢ² from a zero baseline: the path gradient is 2 wᵢ α xᵢ, whose midpoint mean over α is
        // exactly wᵢ xᵢ, so element i is attributed wᵢ xᵢ² exactly; groups of two elements add theirs.
        float[] x = [1, -2, 3, 0.5f], w = [0.5f, 1, -1, 4];
        var weights = Tensor.FromArray(w, 2, 2);
        var a = IntegratedGradients.Attribute(x, new float[4], [2, 2], 8, points =>
            points * points * weights);   // points [steps, 2, 2]: each step's terms, summed by Attribute
        Assert.Equal(0.5f * 1 + 1 * 4, a[0], 5);
        Assert.Equal(-1 * 9 + 4 * 0.25f, a[1], 5);
    }

    [Fact]
    public void AttributionsAddUpToTheChangeOfANonlinearFunction()
    {
        // f(x) = σ(w·x + b) from a nonzero baseline; with 64 points the sum is within 1e-3 of f(x) − f(x′).
        float[] x = [0.8f, -1.5f, 2.0f], baseline = [0.1f, 0.2f, -0.3f], w = [1.2f, 0.7f, -0.9f];
        float F(float[] v) => 1 / (1 + MathF.Exp(-(v.Zip(w, (p, q) => p * q).Sum() + 0.3f)));
        var weights = Tensor.FromArray(w, 3, 1);
        var a = IntegratedGradients.Attribute(x, baseline, [3], 64, points => (Tensor.MatMul(points, weights) + 0.3f).Sigmoid());
        Assert.Equal(F(x) - F(baseline), a.Sum(), 1e-3);
        Assert.True(a[0] > 0 && a[1] < 0 && a[2] < 0, string.Join(", ", a));   // each moved f the way its weight and move say
    }
}
