using Jianwei.Models.Features;
using Jianwei.Tensors;

namespace Jianwei.Models.Neural;

public sealed partial class FtTransformer
{
    /// <summary>Integrated Gradients of one row.</summary>
    /// <param name="Features">Per input feature (the tokenizer's order): Σₑ (x − x′)ₑ · mean ∂logit/∂xₑ along the path.</param>
    /// <param name="Logit">The row's logit.</param>
    /// <param name="BaselineLogit">The baseline's logit; completeness: Σ features ≈ logit − baseline logit.</param>
    public sealed record Attribution(float[] Features, float Logit, float BaselineLogit);

    /// <summary>
    /// Integrated Gradients (Sundararajan et al. 2017) on the feature tokens of row <paramref name="row"/>
    /// of <paramref name="inputs"/>. The baseline is the value-free row: every token its column's bias
    /// (numbers at their median, no category; <see cref="Layers.FeatureTokenizer.ColumnBiases"/>). The path
    /// integral is a midpoint Riemann sum over <paramref name="steps"/> points, run as one batch; dropout is off.
    /// </summary>
    public Attribution IntegratedGradients(TokenInputs inputs, int row, int steps = 32)
    {
        bool wasTraining = IsTraining;
        Eval();
        try
        {
            float[] input, baseline;
            int f, d;
            float logit, baseLogit;
            using (GradMode.NoGrad())
            {
                var x = _tokenizer.Forward(inputs, [row], 0, 1);                                         // [1, features, d]
                f = x.Dim(1); d = x.Dim(2);
                var x0 = _tokenizer.ColumnBiases().Reshape(1, f, d);
                input = x.Data.ToArray(); baseline = x0.Data.ToArray();
                logit = _head.Forward(RepresentTokens(x)).Item();
                baseLogit = _head.Forward(RepresentTokens(x0)).Item();
            }
            // x_k = x′ + αₖ (x − x′), αₖ = (k + ½) / steps, all in one batch.
            var path = new float[steps * f * d];
            for (int k = 0; k < steps; k++)
            {
                float alpha = (k + 0.5f) / steps;
                for (int i = 0; i < f * d; i++) path[k * f * d + i] = baseline[i] + alpha * (input[i] - baseline[i]);
            }
            var points = Tensor.Wrap(path, steps, f, d);                                                 // [steps, features, d]
            points.RequiresGrad = true;
            _head.Forward(RepresentTokens(points)).SumAll().Backward();
            var grad = points.Grad!.Data;
            var features = new float[f];
            for (int j = 0; j < f; j++)
            {
                double sum = 0;
                for (int k = 0; k < steps; k++)
                    for (int e = 0; e < d; e++)
                        sum += (input[j * d + e] - baseline[j * d + e]) * grad[(k * f + j) * d + e];
                features[j] = (float)(sum / steps);
            }
            ZeroGrad();   // the backward pass also reached the weights
            return new Attribution(features, logit, baseLogit);
        }
        finally { Train(wasTraining); }
    }
}
