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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MapRange<TOp>(TOp op, float* x, float* d, int n, bool acc) where TOp : struct, IUnaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) { var r = op.Invoke(Vector512.Load(x + i)); (acc ? Vector512.Load(d + i) + r : r).Store(d + i); }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) { var r = op.Invoke(Vector256.Load(x + i)); (acc ? Vector256.Load(d + i) + r : r).Store(d + i); }
        for (; i < n; i++) { float r = op.Invoke(x[i]); d[i] = acc ? d[i] + r : r; }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

/// <summary>Vectorized transcendental helpers shared by operators (erf for GELU, etc.).</summary>
public static class SimdMath
{
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
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(P) * ax);
        var poly = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(
            Vector256.Create(A5), t, Vector256.Create(A4)), t, Vector256.Create(A3)), t, Vector256.Create(A2)), t, Vector256.Create(A1)) * t;
        var y = Vector256<float>.One - poly * Vector256.Exp(-(ax * ax));
        return Vector256.CopySign(y, x);
    }

    /// <summary>Error function, 16 lanes.</summary>
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(P) * ax);
        var poly = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(
            Vector512.Create(A5), t, Vector512.Create(A4)), t, Vector512.Create(A3)), t, Vector512.Create(A2)), t, Vector512.Create(A1)) * t;
        var y = Vector512<float>.One - poly * Vector512.Exp(-(ax * ax));
        return Vector512.CopySign(y, x);
    }
}
