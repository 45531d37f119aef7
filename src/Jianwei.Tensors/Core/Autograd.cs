namespace Jianwei.Tensors;

/// <summary>Computes input gradients from the output gradient of one recorded op.</summary>
internal delegate void BackwardFn(Tensor gradOutput);

/// <summary>One recorded op: its output, its inputs and the closure that pushes gradients back.</summary>
internal sealed class GradNode(string op, Tensor output, Tensor[] inputs, BackwardFn backward)
{
    public readonly string Op = op;
    public readonly Tensor Output = output;
    public readonly Tensor[] Inputs = inputs;
    public BackwardFn? Backward = backward;   // null once freed
    public int Visit;                          // topological-sort mark, per pass
}

public sealed partial class Tensor
{
    private static int s_visitStamp;

    /// <summary>
    /// Records <paramref name="output"/> as produced by <paramref name="op"/> from <paramref name="inputs"/>,
    /// when gradients are enabled and some input requires them. Returns <paramref name="output"/>.
    /// </summary>
    internal static Tensor Record(Tensor output, string op, BackwardFn backward, params Tensor[] inputs)
    {
        if (OpProfiler.Enabled) OpProfiler.Forward(op);
        if (!GradMode.IsEnabled) return output;
        bool any = false;
        foreach (var t in inputs) any |= t.RequiresGrad;
        if (!any) return output;
        output.RequiresGrad = true;
        output.Node = new GradNode(op, output, inputs, backward);
        return output;
    }

    /// <summary>
    /// Where a backward function writes the gradient of <paramref name="t"/>: the existing gradient
    /// buffer (accumulate = true, add into it) or a fresh uninitialized one (accumulate = false, overwrite).
    /// Leaves get unpooled buffers so their gradients survive the step's <see cref="TensorScope"/>.
    /// </summary>
    /// A leaf keeps its gradient buffer across <see cref="ZeroGrad"/> (which only clears the
    /// reference), so steady-state training allocates no gradient memory.
    internal static (Tensor Grad, bool Accumulate) GradSink(Tensor t)
    {
        if (t.Grad is not null) return (t.Grad, true);
        if (t.IsLeaf) t.Grad = t._spareGrad ??= TensorScope.Unpooled(() => Empty(t._dims));
        else t.Grad = Empty(t._dims);
        return (t.Grad, false);
    }

    /// <summary>Adds <paramref name="g"/> into the gradient of <paramref name="t"/>.</summary>
    internal static void AccumulateGrad(Tensor t, ReadOnlySpan<float> g)
    {
        var (grad, acc) = GradSink(t);
        if (acc) System.Numerics.Tensors.TensorPrimitives.Add(grad.Data, g, grad.Data);
        else g.CopyTo(grad.Data);
    }

    /// <summary>
    /// Reverse-mode differentiation from this scalar: accumulates d(this)/d(leaf) into every leaf's
    /// <see cref="Grad"/> that requires gradients. Intermediate gradients are dropped as soon as they
    /// are used. Unless <paramref name="retainGraph"/>, the graph is freed and a second backward
    /// through it throws.
    /// </summary>
    public void Backward(bool retainGraph = false) => Backward(null, retainGraph);

    /// <summary>Backward from a non-scalar output, seeded with <paramref name="gradient"/> (same shape).</summary>
    public void Backward(Tensor? gradient, bool retainGraph = false)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require gradients: no parameter it depends on has RequiresGrad, or it was computed under GradMode.NoGrad().");
        if (gradient is null && Length != 1)
            throw new InvalidOperationException($"Backward() without a gradient needs a scalar, got shape {ShapeUtil.Format(_dims)}.");
        if (gradient is not null) ShapeUtil.RequireSame(this, gradient, "Backward gradient");

        var order = TopologicalOrder();
        using (GradMode.NoGrad())
        {
            if (gradient is null)
            {
                var (g, acc) = GradSink(this);
                if (acc) g._data[0] += 1f; else g._data[0] = 1f;
            }
            else AccumulateGrad(this, gradient.Data);

            for (int i = order.Count - 1; i >= 0; i--)
            {
                var node = order[i];
                var gOut = node.Output.Grad;
                if (gOut is null) continue;
                var backward = node.Backward ?? throw new InvalidOperationException(
                    $"Trying to backward through the graph a second time (op '{node.Op}'): its buffers were freed after the first Backward(). Pass retainGraph: true to the first call if you need to.");
                if (OpProfiler.Enabled)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    backward(gOut);
                    OpProfiler.Backward(node.Op, System.Diagnostics.Stopwatch.GetTimestamp() - t0);
                }
                else backward(gOut);
                if (!retainGraph) node.Backward = null;
                // Non-leaf gradients are not kept (as in PyTorch); the buffer goes straight back to
                // the pool so the rest of the backward pass reuses it.
                node.Output.Grad = null;
                if (!ReferenceEquals(gOut._data, node.Output._data)) TensorScope.ReturnEarly(gOut);
            }
        }
    }

    /// <summary>Nodes reachable from this tensor, inputs before the ops that consume them.</summary>
    private List<GradNode> TopologicalOrder()
    {
        int stamp = Interlocked.Increment(ref s_visitStamp);
        var order = new List<GradNode>();
        if (Node is null) return order;
        // Iterative post-order DFS: deep graphs (long sequences of ops) must not overflow the stack.
        var stack = new Stack<(GradNode Node, int NextInput)>();
        Node.Visit = stamp;
        stack.Push((Node, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = node.Inputs[next].Node;
                if (child is not null && child.Visit != stamp)
                {
                    child.Visit = stamp;
                    stack.Push((child, 0));
                }
            }
            else order.Add(node);
        }
        return order;
    }
}
