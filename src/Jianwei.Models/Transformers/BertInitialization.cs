using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

/// <summary>BERT's initialization: linear and embedding weights N(0, std²), biases 0, layer norms 1 and 0.</summary>
public static class BertInitialization
{
    /// <summary>Initializes every linear and embedding layer under <paramref name="root"/> (root included).</summary>
    public static void Apply(Module root, float std, Rng rng)
    {
        foreach (var (_, m) in root.NamedModules().Prepend(("", root)))
        {
            if (m is Linear linear)
            {
                Tensor.Normal(rng, 0f, std, linear.Weight.Shape.ToArray()).Data.CopyTo(linear.Weight.Data);
                linear.Bias?.Data.Clear();
            }
            else if (m is Embedding embedding)
                Tensor.Normal(rng, 0f, std, embedding.Weight.Shape.ToArray()).Data.CopyTo(embedding.Weight.Data);
        }
    }
}
