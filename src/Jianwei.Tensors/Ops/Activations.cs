using System.Runtime.Intrinsics;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Element-wise functions. Each is a forward operator struct and a backward operator struct side by
// side; the backward struct maps (saved value, upstream gradient) to the input gradient, where the
// saved value is the input x or the output y, whichever makes the derivative cheaper.
public sealed partial class Tensor
{
    private Tensor Unary<TF, TB>(TF forward, TB backward, string name, bool backwardTakesOutput)
        where TF : struct, IUnaryOperator where TB : struct, IBinaryOperator
    {
        CheckFiniteInputs(name, this);
        var x = this;
        var y = Empty(_dims);
        Elementwise.Map(forward, Data, y.Data);
        return Record(y, name, g =>
        {
            var (gx, acc) = GradSink(x);
            Elementwise.Map(backward, backwardTakesOutput ? y.Data : x.Data, g.Data, gx.Data, acc);
        }, x);
    }

    // ---- exp: y = eˣ;  dx = g·y
    /// <summary>Element-wise eˣ.</summary>
    public Tensor Exp() => Unary(default(ExpOp), default(MulOp), "exp", backwardTakesOutput: true);
    internal readonly struct ExpOp : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Exp(x);
        public Vector256<float> Invoke(Vector256<float> x) => SimdMath.Exp(x);
        public Vector512<float> Invoke(Vector512<float> x) => SimdMath.Exp(x);
    }

    // ---- log: y = ln x;  dx = g / x
    /// <summary>Element-wise natural logarithm.</summary>
    public Tensor Log() => Unary(default(LogOp), default(LogGrad), "log", backwardTakesOutput: false);
    internal readonly struct LogOp : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Log(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Log(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Log(x);
    }
    internal readonly struct LogGrad : IBinaryOperator
    {
        public float Invoke(float x, float g) => g / x;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> g) => g / x;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> g) => g / x;
    }

    // ---- sqrt: y = √x;  dx = g / (2y)
    /// <summary>Element-wise square root.</summary>
    public Tensor Sqrt() => Unary(default(SqrtOp), default(SqrtGrad), "sqrt", backwardTakesOutput: true);
    internal readonly struct SqrtOp : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Sqrt(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Sqrt(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Sqrt(x);
    }
    internal readonly struct SqrtGrad : IBinaryOperator
    {
        public float Invoke(float y, float g) => 0.5f * g / y;
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> g) => Vector256.Create(0.5f) * g / y;
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> g) => Vector512.Create(0.5f) * g / y;
    }

    // ---- pow: y = xᵖ;  dx = g·p·xᵖ⁻¹
    /// <summary>Element-wise power with a constant exponent.</summary>
    public Tensor Pow(float p)
    {
        CheckFiniteInputs("pow", this);
        var x = this;
        var y = Empty(_dims);
        if (p == 2f) Elementwise.Map(default(MulOp), Data, Data, y.Data);
        else System.Numerics.Tensors.TensorPrimitives.Pow(Data, p, y.Data);
        return Record(y, "pow", g =>
        {
            var d = Empty(x._dims);
            if (p == 2f) Elementwise.MapScalar(default(MulOp), x.Data, 2f, d.Data);
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Pow(x.Data, p - 1f, d.Data);
                Elementwise.MapScalar(default(MulOp), d.Data, p, d.Data);
            }
            var (gx, acc) = GradSink(x);
            Elementwise.Map(default(MulOp), d.Data, g.Data, gx.Data, acc);
        }, x);
    }

    // ---- tanh: y = tanh x;  dx = g·(1 − y²)
    /// <summary>Element-wise hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary(default(TanhOp), default(TanhGrad), "tanh", backwardTakesOutput: true);
    internal readonly struct TanhOp : IUnaryOperator
    {
        // tanh x = 1 − 2/(e²ˣ + 1): exact limits ±1 when e²ˣ overflows or underflows.
        public float Invoke(float x) => MathF.Tanh(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One - Vector256.Create(2f) / (SimdMath.Exp(x + x) + Vector256<float>.One);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One - Vector512.Create(2f) / (SimdMath.Exp(x + x) + Vector512<float>.One);
    }
    internal readonly struct TanhGrad : IBinaryOperator
    {
        public float Invoke(float y, float g) => g * (1f - y * y);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> g) => g * (Vector256<float>.One - y * y);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> g) => g * (Vector512<float>.One - y * y);
    }

    // ---- sigmoid: y = 1/(1 + e⁻ˣ);  dx = g·y·(1 − y)
    /// <summary>Element-wise logistic sigmoid.</summary>
    public Tensor Sigmoid() => Unary(default(SigmoidOp), default(SigmoidGrad), "sigmoid", backwardTakesOutput: true);
    internal readonly struct SigmoidOp : IUnaryOperator
    {
        public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + SimdMath.Exp(-x));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + SimdMath.Exp(-x));
    }
    internal readonly struct SigmoidGrad : IBinaryOperator
    {
        public float Invoke(float y, float g) => g * y * (1f - y);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> g) => g * y * (Vector256<float>.One - y);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> g) => g * y * (Vector512<float>.One - y);
    }

    // ---- relu: y = max(x, 0);  dx = g·[x > 0]
    /// <summary>Element-wise rectifier.</summary>
    public Tensor Relu() => Unary(default(ReluOp), default(ReluGrad), "relu", backwardTakesOutput: false);
    internal readonly struct ReluOp : IUnaryOperator
    {
        public float Invoke(float x) => x > 0f ? x : 0f;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
    }
    internal readonly struct ReluGrad : IBinaryOperator
    {
        public float Invoke(float x, float g) => x > 0f ? g : 0f;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> g) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, Vector256<float>.Zero);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> g) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, Vector512<float>.Zero);
    }

    // ---- GELU, erf form (as BERT): y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  dx = g·(Φ(x) + x·φ(x)), φ(x) = e^{−x²/2}/√(2π)
    /// <summary>Gaussian error linear unit in its exact erf form.</summary>
    public Tensor Gelu() => Unary(default(GeluOp), default(GeluGrad), "gelu", backwardTakesOutput: false);
    internal readonly struct GeluOp : IUnaryOperator
    {
        private const float InvSqrt2 = 0.70710678118654752f;
        public float Invoke(float x) => 0.5f * x * (1f + SimdMath.Erf(x * InvSqrt2));
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(0.5f) * x * (Vector256<float>.One + SimdMath.Erf(x * Vector256.Create(InvSqrt2)));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Create(0.5f) * x * (Vector512<float>.One + SimdMath.Erf(x * Vector512.Create(InvSqrt2)));
    }
    internal readonly struct GeluGrad : IBinaryOperator
    {
        private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f;
        public float Invoke(float x, float g) => g * (0.5f * (1f + SimdMath.Erf(x * InvSqrt2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x));
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> g)
        {
            var cdf = Vector256.Create(0.5f) * (Vector256<float>.One + SimdMath.Erf(x * Vector256.Create(InvSqrt2)));
            var pdf = Vector256.Create(InvSqrt2Pi) * SimdMath.Exp(Vector256.Create(-0.5f) * x * x);
            return g * (cdf + x * pdf);
        }
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> g)
        {
            var cdf = Vector512.Create(0.5f) * (Vector512<float>.One + SimdMath.Erf(x * Vector512.Create(InvSqrt2)));
            var pdf = Vector512.Create(InvSqrt2Pi) * SimdMath.Exp(Vector512.Create(-0.5f) * x * x);
            return g * (cdf + x * pdf);
        }
    }

    // ---- ELU: y = x (x > 0) or α(eˣ − 1);  dx = g (x > 0) or g·(y + α)
    /// <summary>Exponential linear unit.</summary>
    public Tensor Elu(float alpha = 1f) => Unary(new EluOp(alpha), new EluGrad(alpha), "elu", backwardTakesOutput: true);
    internal readonly struct EluOp(float alpha) : IUnaryOperator
    {
        public float Invoke(float x) => x > 0f ? x : alpha * (MathF.Exp(x) - 1f);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256.Create(alpha) * (SimdMath.Exp(Vector256.Min(x, Vector256<float>.Zero)) - Vector256<float>.One));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, Vector512.Create(alpha) * (SimdMath.Exp(Vector512.Min(x, Vector512<float>.Zero)) - Vector512<float>.One));
    }
    internal readonly struct EluGrad(float alpha) : IBinaryOperator
    {
        // Uses the output: for x ≤ 0, dy/dx = αeˣ = y + α. For α > 0, y > 0 exactly when x > 0.
        public float Invoke(float y, float g) => y > 0f ? g : g * (y + alpha);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> g) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), g, g * (y + Vector256.Create(alpha)));
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> g) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), g, g * (y + Vector512.Create(alpha)));
    }

    // ---- softplus: y = ln(1 + eˣ) (y = x above 20, as PyTorch);  dx = g·σ(x)
    /// <summary>Smooth rectifier ln(1 + eˣ).</summary>
    public Tensor Softplus() => Unary(default(SoftplusOp), default(SoftplusGrad), "softplus", backwardTakesOutput: false);
    internal readonly struct SoftplusOp : IUnaryOperator
    {
        // max(x,0) + ln(1 + e^{-|x|}) is exact to float round-off for all x and never overflows.
        public float Invoke(float x) => x > 20f ? x : MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(20f)), x,
            Vector256.Max(x, Vector256<float>.Zero) + Vector256.Log(Vector256<float>.One + SimdMath.Exp(-Vector256.Abs(x))));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(20f)), x,
            Vector512.Max(x, Vector512<float>.Zero) + Vector512.Log(Vector512<float>.One + SimdMath.Exp(-Vector512.Abs(x))));
    }
    internal readonly struct SoftplusGrad : IBinaryOperator
    {
        public float Invoke(float x, float g) => x > 20f ? g : g / (1f + MathF.Exp(-x));
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> g) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(20f)), g, g / (Vector256<float>.One + SimdMath.Exp(-x)));
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> g) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(20f)), g, g / (Vector512<float>.One + SimdMath.Exp(-x)));
    }
}
