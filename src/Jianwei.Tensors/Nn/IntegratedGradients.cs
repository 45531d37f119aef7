namespace Jianwei.Tensors.Nn;

/// <summary>
/// Integrated Gradients (Sundararajan et al. 2017): the attribution of input element e is
/// (x − x′)ₑ · the mean of ∂f/∂xₑ along the straight path from the baseline x′ to x, here a midpoint
/// Riemann sum over <c>steps</c> points run as one batch. Completeness: the attributions add up to
/// f(x) − f(x′), to the sum's error. The caller puts the model in evaluation mode (no dropout) and
/// clears the gradients the backward pass leaves on its weights.
/// </summary>
public static class IntegratedGradients
{
    /// <summary>
    /// Attributions of <paramref name="input"/> (one point of shape <paramref name="shape"/>, flattened)
    /// against <paramref name="baseline"/>, summed over each group of elements that share a leading index
    /// (per position of a [positions, width] input, say). <paramref name="f"/> maps the path points
    /// [steps, ..shape] to one output each [steps] (or any shape whose sum is theirs).
    /// </summary>
    public static float[] Attribute(float[] input, float[] baseline, int[] shape, int steps, Func<Tensor, Tensor> f)
    {
        int size = input.Length;
        if (baseline.Length != size || shape.Aggregate(1, (a, b) => a * b) != size) throw new ArgumentException("the input, the baseline and the shape must agree.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one step.");
        // x_k = x′ + αₖ (x − x′), αₖ = (k + ½) / steps.
        var path = new float[steps * size];
        for (int k = 0; k < steps; k++)
        {
            float alpha = (k + 0.5f) / steps;
            for (int i = 0; i < size; i++) path[k * size + i] = baseline[i] + alpha * (input[i] - baseline[i]);
        }
        var points = Tensor.Wrap(path, [steps, .. shape]);                                    // [steps, ..shape]
        points.RequiresGrad = true;
        f(points).SumAll().Backward();
        var grad = points.Grad!.Data;
        int groups = shape[0], width = size / groups;
        var attributions = new float[groups];
        for (int g = 0; g < groups; g++)
        {
            double sum = 0;
            for (int k = 0; k < steps; k++)
                for (int j = 0; j < width; j++)
                {
                    int e = g * width + j;
                    sum += (input[e] - baseline[e]) * grad[k * size + e];
                }
            attributions[g] = (float)(sum / steps);
        }
        return attributions;
    }
}
