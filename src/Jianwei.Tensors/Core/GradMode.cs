namespace Jianwei.Tensors;

/// <summary>Whether ops record the graph for autograd on this thread.</summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabledDepth;

    /// <summary>False inside a <see cref="NoGrad"/> scope.</summary>
    public static bool IsEnabled => t_disabledDepth == 0;

    /// <summary>Inference scope: ops inside record nothing and keep no intermediate values for backward.</summary>
    public static NoGradScope NoGrad()
    {
        t_disabledDepth++;
        return new NoGradScope();
    }

    /// <summary>Ends a no-grad region.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <summary>Re-enables recording (if no outer no-grad scope is open).</summary>
        public void Dispose() => t_disabledDepth--;
    }

    /// <summary>
    /// When set, every op checks its inputs for NaN and infinity and throws naming the op.
    /// Costs a pass over each input; for debugging.
    /// </summary>
    public static bool CheckFinite { get; set; }
}
