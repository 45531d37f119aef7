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
        // The mask is kept as one byte per element (a quarter of a float mask's memory), in a pooled
        // buffer seen as bytes.
        var maskStore = Empty((x.Length + 3) / 4);
        float keep = 1f / (1f - p);
        uint threshold = (uint)Math.Min(uint.MaxValue, p * 4294967296.0);
        int n = x.Length, i = 0;
        var mask = System.Runtime.InteropServices.MemoryMarshal.AsBytes(maskStore._data.AsSpan()).Slice(0, n);
        for (; i + 1 < n; i += 2)
        {
            ulong bits = rng.NextUInt64();
            mask[i] = (uint)bits >= threshold ? (byte)1 : (byte)0;
            mask[i + 1] = (uint)(bits >> 32) >= threshold ? (byte)1 : (byte)0;
        }
        if (i < n) mask[i] = (uint)rng.NextUInt64() >= threshold ? (byte)1 : (byte)0;
        var y = Empty(x._dims);
        ApplyMask(x._data, maskStore._data, n, keep, y._data, accumulate: false);
        return Record(y, "dropout", g =>
        {
            var (gx, acc) = GradSink(x);
            ApplyMask(g._data, maskStore._data, n, keep, gx._data, acc);
        }, x);
    }

    /// <summary>dst (+)= src·mask·scale over n elements, with the byte mask stored in a float buffer; parallel over large arrays.</summary>
    private static void ApplyMask(float[] src, float[] maskStore, int n, float scale, float[] dst, bool accumulate)
    {
        Parallelism.For(n, 1 << 15, (s, e) =>
        {
            var mask = System.Runtime.InteropServices.MemoryMarshal.AsBytes(maskStore.AsSpan());
            for (int i = s; i < e; i++)
            {
                float v = mask[i] != 0 ? src[i] * scale : 0f;
                dst[i] = accumulate ? dst[i] + v : v;
            }
        });
    }
}
