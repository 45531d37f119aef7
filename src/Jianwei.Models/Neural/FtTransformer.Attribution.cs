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
    /// integral is <see cref="Tensors.Nn.IntegratedGradients.Attribute"/>'s, over <paramref name="steps"/> points; dropout is off.
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
            var features = Tensors.Nn.IntegratedGradients.Attribute(input, baseline, [f, d], steps, points => _head.Forward(RepresentTokens(points)));   // points [steps, features, d]
            ZeroGrad();   // the backward pass also reached the weights
            return new Attribution(features, logit, baseLogit);
        }
        finally { Train(wasTraining); }
    }
}
