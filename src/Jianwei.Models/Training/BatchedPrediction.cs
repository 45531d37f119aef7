using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Training;

/// <summary>
/// Probabilities from a network's logits over many rows: evaluation mode and no gradients, batches
/// taken in a given order (by length, say, for little padding), results back in input order, and
/// the model's training mode restored afterwards.
/// </summary>
public static class BatchedPrediction
{
    /// <summary>
    /// Runs <paramref name="logits"/>(start, count) — the logits [count] of rows
    /// <paramref name="order"/>[start..start+count) — in batches of <paramref name="batchSize"/>, and
    /// returns each row's probability at its own index.
    /// </summary>
    public static double[] Probabilities(Module model, int[] order, int batchSize, Func<int, int, Tensor> logits)
    {
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            var p = new double[order.Length];
            for (int s = 0; s < order.Length; s += batchSize)
            {
                int count = Math.Min(batchSize, order.Length - s);
                using var scope = new TensorScope();
                var z = logits(s, count).Data;
                for (int i = 0; i < count; i++) p[order[s + i]] = LogOdds.Probability(z[i]);
            }
            return p;
        }
        finally { model.Train(wasTraining); }
    }
}
