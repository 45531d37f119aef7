namespace Jianwei.Tensors.Optim;

/// <summary>Gradient utilities.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients so their global L2 norm is at most <paramref name="maxNorm"/>
    /// (coefficient maxNorm/(norm + 1e-6), as torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        double sq = 0;
        foreach (var g in grads) { double n = System.Numerics.Tensors.TensorPrimitives.Norm(g.Data); sq += n * n; }
        float norm = (float)Math.Sqrt(sq);
        float coef = maxNorm / (norm + 1e-6f);
        if (coef < 1f)
            foreach (var g in grads) System.Numerics.Tensors.TensorPrimitives.Multiply(g.Data, coef, g.Data);
        return norm;
    }
}

/// <summary>Learning-rate multipliers by step: linear warm-up, then linear or cosine decay to zero.</summary>
public static class LearningRateSchedules
{
    /// <summary>step/warmup during warm-up, then linear decay to 0 at <paramref name="totalSteps"/> (Hugging Face's get_linear_schedule_with_warmup).</summary>
    public static float WarmupLinear(int step, int warmupSteps, int totalSteps)
    {
        if (step < warmupSteps) return (float)step / Math.Max(1, warmupSteps);
        return Math.Max(0f, (float)(totalSteps - step) / Math.Max(1, totalSteps - warmupSteps));
    }

    /// <summary>Warm-up, then half a cosine from 1 to 0 (Hugging Face's get_cosine_schedule_with_warmup).</summary>
    public static float WarmupCosine(int step, int warmupSteps, int totalSteps)
    {
        if (step < warmupSteps) return (float)step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return (float)Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * Math.Min(1.0, progress))));
    }
}

/// <summary>Sets each group's learning rate to base × schedule(step) before every optimizer step.</summary>
public sealed class LearningRateScheduler(Optimizer optimizer, Func<int, float> multiplier)
{
    /// <summary>Steps taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>Applies the multiplier for the current step and advances (call before optimizer.Step()).</summary>
    public void Advance()
    {
        float f = multiplier(Step);
        foreach (var g in optimizer.Groups) g.LearningRate = g.BaseLearningRate * f;
        Step++;
    }

    /// <summary>Restores the step after resuming.</summary>
    public void Reset(int step) => Step = step;
}
