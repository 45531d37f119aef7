using Jianwei.Tensors;

namespace Jianwei.Models.Training;

/// <summary>
/// The fast gradient method (Miyato et al. 2017): adversarial training on embeddings. After the clean
/// backward pass, the embeddings move by ε·g/‖g‖ along their gradient, a second pass adds its
/// gradient, and the embeddings move back.
/// </summary>
public static class Fgm
{
    /// <summary>
    /// Moves each tensor by ε·g/‖g‖ along its own gradient g (tensors without gradient stay); returns
    /// the action that puts the exact original values back.
    /// </summary>
    public static Action PerturbAlongGradient(IReadOnlyList<Tensor> tensors, float epsilon)
    {
        var saved = new List<(Tensor Tensor, float[] Values)>();
        foreach (var t in tensors)
        {
            if (t.Grad is null) continue;
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(t.Grad.Data);
            if (!(norm > 0) || !float.IsFinite(norm)) continue;
            saved.Add((t, t.Data.ToArray()));
            var data = t.Data; var grad = t.Grad.Data;
            for (int i = 0; i < data.Length; i++) data[i] += epsilon * grad[i] / norm;
        }
        return () => { foreach (var (t, values) in saved) values.CopyTo(t.Data); };
    }
}
