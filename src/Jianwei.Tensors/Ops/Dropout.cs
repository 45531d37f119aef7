using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability <paramref name="p"/> and scales
    /// the rest by 1/(1 − p); the identity otherwise. The mask comes from <paramref name="rng"/> in order,
    /// so the same seed drops the same elements. Backward: dx = g·mask.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Rng rng)
    {
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} must be in [0, 1).");
        if (!training || p == 0f) return x;
        var mask = Empty(x._dims);      // 0 or 1/(1 − p)
        var md = mask._data;
        float keep = 1f / (1f - p);
        uint threshold = (uint)Math.Min(uint.MaxValue, p * 4294967296.0);
        int n = x.Length, i = 0;
        for (; i + 1 < n; i += 2)
        {
            ulong bits = rng.NextUInt64();
            md[i] = (uint)bits >= threshold ? keep : 0f;
            md[i + 1] = (uint)(bits >> 32) >= threshold ? keep : 0f;
        }
        if (i < n) md[i] = (uint)rng.NextUInt64() >= threshold ? keep : 0f;
        var y = Empty(x._dims);
        Elementwise.Map(default(MulOp), x.Data, mask.Data, y.Data);
        return Record(y, "dropout", g =>
        {
            var (gx, acc) = GradSink(x);
            Elementwise.Map(default(MulOp), g.Data, mask.Data, gx.Data, acc);
        }, x);
    }
}
