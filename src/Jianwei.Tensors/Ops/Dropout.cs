using System.Runtime.Intrinsics;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability <paramref name="p"/> and scales
    /// the rest by 1/(1 − p); the identity otherwise. The mask comes from <paramref name="rng"/> in order,
    /// so the same seed drops the same elements. Backward: dx = g·mask.
    /// </summary>
    public static unsafe Tensor Dropout(Tensor x, float p, bool training, Rng rng)
    {
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} must be in [0, 1).");
        if (!training || p == 0f) return x;
        int n = x.Length;
        // Each 64-bit word gives four 16-bit draws u; element i is kept when u ≥ p·65536 (p is
        // resolved to 1/65536, far below any use's precision). Words are drawn in bulk into scratch.
        int words = (n + 3) / 4;
        var scratch = Empty(2 * words);
        var mask = Empty(x._dims);                 // 0 or 1/(1 − p)
        float keep = 1f / (1f - p);
        uint threshold = (uint)Math.Round(p * 65536.0);
        fixed (float* sp = scratch._data, m = mask._data)
        {
            rng.Fill(new Span<ulong>(sp, words));
            ushort* u = (ushort*)sp;                // draw i is u[i] (little-endian words)
            int i = 0;
            if (Vector512.IsHardwareAccelerated && threshold < 65536)
            {
                var th = Vector512.Create(threshold); var kv = Vector512.Create(keep);
                for (; i <= n - 32; i += 32)
                {
                    var draws = Vector512.Load(u + i);                           // 32 draws
                    Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.WidenLower(draws), th).AsSingle(), kv, default).Store(m + i);
                    Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.WidenUpper(draws), th).AsSingle(), kv, default).Store(m + i + 16);
                }
            }
            for (; i < n; i++) m[i] = u[i] >= threshold ? keep : 0f;
        }
        var y = Empty(x._dims);
        Elementwise.Map(default(MulOp), x.Data, mask.Data, y.Data);
        return Record(y, "dropout", g =>
        {
            var (gx, acc) = GradSink(x);
            Elementwise.Map(default(MulOp), g.Data, mask.Data, gx.Data, acc);
        }, x);
    }
}
