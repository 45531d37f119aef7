using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Jianwei.Tensors.Kernels;

/// <summary>An element-wise function of one input, with its scalar, 256-bit and 512-bit paths together.</summary>
public interface IUnaryOperator
{
    /// <summary>Scalar path (tails and non-SIMD machines).</summary>
    float Invoke(float x);
    /// <summary>256-bit path.</summary>
    Vector256<float> Invoke(Vector256<float> x);
    /// <summary>512-bit path.</summary>
    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>An element-wise function of two inputs, with its scalar, 256-bit and 512-bit paths together.</summary>
public interface IBinaryOperator
{
    /// <summary>Scalar path.</summary>
    float Invoke(float x, float y);
    /// <summary>256-bit path.</summary>
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    /// <summary>512-bit path.</summary>
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>
/// The one driver for element-wise kernels: widest vectors first, then 256-bit, then a scalar tail;
/// large arrays are split across cores. Operators are structs so each call is specialized and inlined.
/// </summary>
public static unsafe class Elementwise
{
    /// <summary>Below this many elements a kernel runs on the calling thread.</summary>
    public const int ParallelThreshold = 1 << 16;

    /// <summary>dst[i] = op(x[i]) (or dst[i] += op(x[i]) when <paramref name="accumulate"/>).</summary>
    public static void Map<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> dst, bool accumulate = false) where TOp : struct, IUnaryOperator
    {
        if (x.Length != dst.Length) throw new ArgumentException($"Element-wise lengths differ: {x.Length} vs {dst.Length}.");
        fixed (float* px = x, pd = dst)
        {
            if (x.Length < ParallelThreshold) MapRange(op, px, pd, x.Length, accumulate);
            else
            {
                float* sx = px, sd = pd;
                Parallelism.For(x.Length, ParallelThreshold / 2, (s, e) => MapRange(op, sx + s, sd + s, e - s, accumulate));
            }
        }
    }

    /// <summary>dst[i] = op(x[i], y[i]) (or += when <paramref name="accumulate"/>).</summary>
    public static void Map<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst, bool accumulate = false) where TOp : struct, IBinaryOperator
    {
        if (x.Length != dst.Length || y.Length != dst.Length)
            throw new ArgumentException($"Element-wise lengths differ: {x.Length}, {y.Length}, {dst.Length}.");
        fixed (float* px = x, py = y, pd = dst)
        {
            if (x.Length < ParallelThreshold) MapRange(op, px, py, pd, x.Length, accumulate);
            else
            {
                float* sx = px, sy = py, sd = pd;
                Parallelism.For(x.Length, ParallelThreshold / 2, (s, e) => MapRange(op, sx + s, sy + s, sd + s, e - s, accumulate));
            }
        }
    }

    /// <summary>dst[i] = op(x[i], y) with a scalar second operand.</summary>
    public static void MapScalar<TOp>(TOp op, ReadOnlySpan<float> x, float y, Span<float> dst, bool accumulate = false) where TOp : struct, IBinaryOperator
        => Map(new BindSecond<TOp>(op, y), x, dst, accumulate);

    /// <summary>dst[i] = op(x, y[i]) with a scalar first operand.</summary>
    public static void MapScalarFirst<TOp>(TOp op, float x, ReadOnlySpan<float> y, Span<float> dst, bool accumulate = false) where TOp : struct, IBinaryOperator
        => Map(new BindFirst<TOp>(op, x), y, dst, accumulate);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MapRange<TOp>(TOp op, float* x, float* d, int n, bool acc) where TOp : struct, IUnaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) { var r = op.Invoke(Vector512.Load(x + i)); (acc ? Vector512.Load(d + i) + r : r).Store(d + i); }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) { var r = op.Invoke(Vector256.Load(x + i)); (acc ? Vector256.Load(d + i) + r : r).Store(d + i); }
        for (; i < n; i++) { float r = op.Invoke(x[i]); d[i] = acc ? d[i] + r : r; }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MapRange<TOp>(TOp op, float* x, float* y, float* d, int n, bool acc) where TOp : struct, IBinaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) { var r = op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)); (acc ? Vector512.Load(d + i) + r : r).Store(d + i); }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) { var r = op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)); (acc ? Vector256.Load(d + i) + r : r).Store(d + i); }
        for (; i < n; i++) { float r = op.Invoke(x[i], y[i]); d[i] = acc ? d[i] + r : r; }
    }

    private readonly struct BindSecond<TOp>(TOp op, float y) : IUnaryOperator where TOp : struct, IBinaryOperator
    {
        public float Invoke(float x) => op.Invoke(x, y);
        public Vector256<float> Invoke(Vector256<float> x) => op.Invoke(x, Vector256.Create(y));
        public Vector512<float> Invoke(Vector512<float> x) => op.Invoke(x, Vector512.Create(y));
    }

    private readonly struct BindFirst<TOp>(TOp op, float x) : IUnaryOperator where TOp : struct, IBinaryOperator
    {
        public float Invoke(float y) => op.Invoke(x, y);
        public Vector256<float> Invoke(Vector256<float> y) => op.Invoke(Vector256.Create(x), y);
        public Vector512<float> Invoke(Vector512<float> y) => op.Invoke(Vector512.Create(x), y);
    }
}

/// <summary>Vectorized transcendental helpers shared by operators (exp, erf for GELU, etc.).</summary>
public static class SimdMath
{
    // exp in float only (Cephes expf): x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial,
    // 2ⁿ by building the float's exponent bits. About 1 ulp; the framework's Vector512.Exp widens to
    // double and costs several times more, which shows in GELU, softmax and sigmoid.
    private const float ExpHi = 88.3762626647949f, ExpLo = -87.3365478515625f;
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    /// <summary>eˣ, 8 lanes (0 below −87.3, +∞ above 88.4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var over = Vector256.GreaterThan(x, Vector256.Create(ExpHi));
        var under = Vector256.LessThan(x, Vector256.Create(ExpLo));
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLo)), Vector256.Create(ExpHi));
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(E0), r, Vector256.Create(E1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        // 2ⁿ split as 2^(n/2)·2^(n − n/2) so n = 128 (x near 88.4) does not overflow the exponent field
        var ni = Vector256.ConvertToInt32(n);
        var half = Vector256.ShiftRightArithmetic(ni, 1);
        var s1 = Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle();
        var s2 = Vector256.ShiftLeft(ni - half + Vector256.Create(127), 23).AsSingle();
        var y = p * s1 * s2;
        y = Vector256.ConditionalSelect(over, Vector256.Create(float.PositiveInfinity), y);
        return Vector256.ConditionalSelect(under, Vector256<float>.Zero, y);
    }

    /// <summary>eˣ, 16 lanes (0 below −87.3, +∞ above 88.4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var over = Vector512.GreaterThan(x, Vector512.Create(ExpHi));
        var under = Vector512.LessThan(x, Vector512.Create(ExpLo));
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLo)), Vector512.Create(ExpHi));
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(E0), r, Vector512.Create(E1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var ni = Vector512.ConvertToInt32(n);
        var half = Vector512.ShiftRightArithmetic(ni, 1);
        var s1 = Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle();
        var s2 = Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
        var y = p * s1 * s2;
        y = Vector512.ConditionalSelect(over, Vector512.Create(float.PositiveInfinity), y);
        return Vector512.ConditionalSelect(under, Vector512<float>.Zero, y);
    }

    /// <summary>dst = exp(src) over spans (the softmax inner loop).</summary>
    public static void Exp(ReadOnlySpan<float> src, Span<float> dst)
    {
        int i = 0, n = src.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Exp(Vector512.Create(src.Slice(i, 16))).CopyTo(dst.Slice(i, 16));
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Exp(Vector256.Create(src.Slice(i, 8))).CopyTo(dst.Slice(i, 8));
        for (; i < n; i++) dst[i] = MathF.Exp(src[i]);
    }

    // Abramowitz & Stegun 7.1.26: erf(x) = 1 - (a1 t + ... + a5 t^5) e^{-x^2}, t = 1/(1 + p|x|).
    // Absolute error below 1.5e-7, i.e. float32 round-off, which is what the BERT parity needs.
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    /// <summary>Error function.</summary>
    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        float t = 1f / (1f + P * ax);
        float y = 1f - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * MathF.Exp(-ax * ax);
        return MathF.CopySign(y, x);
    }

    /// <summary>Error function, 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(P) * ax);
        var poly = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(
            Vector256.Create(A5), t, Vector256.Create(A4)), t, Vector256.Create(A3)), t, Vector256.Create(A2)), t, Vector256.Create(A1)) * t;
        var y = Vector256<float>.One - poly * Exp(-(ax * ax));
        return Vector256.CopySign(y, x);
    }

    /// <summary>Error function, 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(P) * ax);
        var poly = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(
            Vector512.Create(A5), t, Vector512.Create(A4)), t, Vector512.Create(A3)), t, Vector512.Create(A2)), t, Vector512.Create(A1)) * t;
        var y = Vector512<float>.One - poly * Exp(-(ax * ax));
        return Vector512.CopySign(y, x);
    }
}
