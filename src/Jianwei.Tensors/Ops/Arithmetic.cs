using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Broadcasting add, sub, mul, div, and their scalar forms. Gradients of broadcast operands are
// summed back to the operand's shape.
public sealed partial class Tensor
{
    /// <summary>a + b with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    /// <summary>a - b with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    /// <summary>a * b (element-wise) with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    /// <summary>a / b with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    /// <summary>a + s.</summary>
    public static Tensor operator +(Tensor a, float s) => a.AddScalar(s);
    /// <summary>a - s.</summary>
    public static Tensor operator -(Tensor a, float s) => a.AddScalar(-s);
    /// <summary>a * s.</summary>
    public static Tensor operator *(Tensor a, float s) => a.MulScalar(s);
    /// <summary>s * a.</summary>
    public static Tensor operator *(float s, Tensor a) => a.MulScalar(s);
    /// <summary>a / s.</summary>
    public static Tensor operator /(Tensor a, float s) => a.MulScalar(1f / s);
    /// <summary>-a.</summary>
    public static Tensor operator -(Tensor a) => a.MulScalar(-1f);

    /// <summary>a + b with broadcasting. d/da = 1, d/db = 1.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var (y, plan) = BroadcastForward(a, b, default(AddOp), "add");
        return Record(y, "add", g =>
        {
            if (a.RequiresGrad) { var (ga, acc) = GradSink(a); BroadcastPlan.SumInto(g.Data, plan.OutDims, a._dims, ga.Data, acc); }
            if (b.RequiresGrad) { var (gb, acc) = GradSink(b); BroadcastPlan.SumInto(g.Data, plan.OutDims, b._dims, gb.Data, acc); }
        }, a, b);
    }

    /// <summary>a - b with broadcasting. d/da = 1, d/db = -1.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var (y, plan) = BroadcastForward(a, b, default(SubOp), "sub");
        return Record(y, "sub", g =>
        {
            if (a.RequiresGrad) { var (ga, acc) = GradSink(a); BroadcastPlan.SumInto(g.Data, plan.OutDims, a._dims, ga.Data, acc); }
            if (b.RequiresGrad)
            {
                var neg = Empty(plan.OutDims);
                TensorPrimitives.Negate(g.Data, neg.Data);
                var (gb, acc) = GradSink(b);
                BroadcastPlan.SumInto(neg.Data, plan.OutDims, b._dims, gb.Data, acc);
            }
        }, a, b);
    }

    /// <summary>a * b with broadcasting. d/da = b, d/db = a.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var (y, plan) = BroadcastForward(a, b, default(MulOp), "mul");
        return Record(y, "mul", g =>
        {
            if (a.RequiresGrad) GradThroughBroadcast(a, g, plan, b, default(MulOp));
            if (b.RequiresGrad) GradThroughBroadcast(b, g, plan, a, default(MulOp));
        }, a, b);
    }

    /// <summary>a / b with broadcasting. d/da = 1/b, d/db = -a/b² = -y/b.</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        var (y, plan) = BroadcastForward(a, b, default(DivOp), "div");
        return Record(y, "div", g =>
        {
            if (a.RequiresGrad) GradThroughBroadcast(a, g, plan, b, default(DivOp));   // g / b
            if (b.RequiresGrad)
            {
                // -g·y/b, computed at output size, then summed to b's shape.
                var t = Empty(plan.OutDims);
                Elementwise.Map(default(MulOp), g.Data, y.Data, t.Data);
                var full = Empty(plan.OutDims);
                Apply(plan, t.Data, b.Data, full.Data, default(DivOp));
                TensorPrimitives.Negate(full.Data, full.Data);
                var (gb, acc) = GradSink(b);
                BroadcastPlan.SumInto(full.Data, plan.OutDims, b._dims, gb.Data, acc);
            }
        }, a, b);
    }

    /// <summary>x + s. d/dx = 1.</summary>
    public Tensor AddScalar(float s)
    {
        var x = this;
        var y = Empty(_dims);
        Elementwise.MapScalar(default(AddOp), Data, s, y.Data);
        return Record(y, "add_scalar", g => AccumulateGrad(x, g.Data), x);
    }

    /// <summary>x · s. d/dx = s.</summary>
    public Tensor MulScalar(float s)
    {
        var x = this;
        var y = Empty(_dims);
        Elementwise.MapScalar(default(MulOp), Data, s, y.Data);
        return Record(y, "mul_scalar", g =>
        {
            var (gx, acc) = GradSink(x);
            Elementwise.MapScalar(default(MulOp), g.Data, s, gx.Data, acc);
        }, x);
    }

    /// <summary>s - x.</summary>
    public Tensor RSubScalar(float s) => MulScalar(-1f).AddScalar(s);

    // ---------------------------------------------------------------- drivers

    private static (Tensor Y, BroadcastPlan Plan) BroadcastForward<TOp>(Tensor a, Tensor b, TOp op, string name) where TOp : struct, IBinaryOperator
    {
        CheckFiniteInputs(name, a, b);
        var plan = BroadcastPlan.Create(a._dims, b._dims, name);
        var y = Empty(plan.OutDims);
        Apply(plan, a.Data, b.Data, y.Data, op);
        return (y, plan);
    }

    /// <summary>dst = op(a, b) over the broadcast plan, one output row at a time.</summary>
    private static void Apply<TOp>(BroadcastPlan plan, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst, TOp op) where TOp : struct, IBinaryOperator
    {
        if (a.Length == dst.Length && b.Length == dst.Length) { Elementwise.Map(op, a, b, dst); return; }
        if (b.Length == 1) { Elementwise.MapScalar(op, a, b[0], dst); return; }
        if (a.Length == 1) { Elementwise.MapScalarFirst(op, a[0], b, dst); return; }
        int inner = plan.Inner;
        for (int r = 0; r < plan.Rows; r++)
        {
            plan.RowOffsets(r, out int oa, out int ob);
            var d = dst.Slice(r * inner, inner);
            if (plan.AMovesInRow && plan.BMovesInRow) Elementwise.Map(op, a.Slice(oa, inner), b.Slice(ob, inner), d);
            else if (plan.AMovesInRow) Elementwise.MapScalar(op, a.Slice(oa, inner), b[ob], d);
            else if (plan.BMovesInRow) Elementwise.MapScalarFirst(op, a[oa], b.Slice(ob, inner), d);
            else d.Fill(op.Invoke(a[oa], b[ob]));
        }
    }

    /// <summary>grad(target) += sum_to_shape(op(g, other)), where other is broadcast like in the forward.</summary>
    private static void GradThroughBroadcast<TOp>(Tensor target, Tensor g, BroadcastPlan plan, Tensor other, TOp op) where TOp : struct, IBinaryOperator
    {
        var (gt, acc) = GradSink(target);
        if (target.Length == g.Length && other.Length == g.Length)
        {
            Elementwise.Map(op, g.Data, other.Data, gt.Data, acc);
            return;
        }
        // Re-broadcast `other` against the output, combine with g, then reduce to target's shape.
        var full = Empty(plan.OutDims);
        var planGo = BroadcastPlan.Create(plan.OutDims, other._dims, "grad");
        Apply(planGo, g.Data, other.Data, full.Data, op);
        BroadcastPlan.SumInto(full.Data, plan.OutDims, target._dims, gt.Data, acc);
    }

    internal static void CheckFiniteInputs(string op, params ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.CheckFinite) return;
        foreach (var t in inputs)
        {
            var d = t.Data;
            for (int i = 0; i < d.Length; i++)
                if (!float.IsFinite(d[i]))
                    throw new ArithmeticException($"{op}: input {t.Name ?? ShapeUtil.Format(t._dims)} holds {d[i]} at flat index {i} (GradMode.CheckFinite is on).");
        }
    }

    // ---------------------------------------------------------------- operators

    internal readonly struct AddOp : IBinaryOperator
    {
        public float Invoke(float x, float y) => x + y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
    }

    internal readonly struct SubOp : IBinaryOperator
    {
        public float Invoke(float x, float y) => x - y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x - y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x - y;
    }

    internal readonly struct MulOp : IBinaryOperator
    {
        public float Invoke(float x, float y) => x * y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y;
    }

    internal readonly struct DivOp : IBinaryOperator
    {
        public float Invoke(float x, float y) => x / y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x / y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x / y;
    }
}
