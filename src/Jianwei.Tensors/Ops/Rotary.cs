namespace Jianwei.Tensors;

// Rotary position embedding (RoFormer, Su et al. 2021): each head's vector is split into pairs
// (2j, 2j+1) and pair j is rotated by the angle pos·θ^(−2j/dh). A query at position p and a key at
// position q then score ⟨R_p·x, R_q·y⟩ = ⟨x, R_(q−p)·y⟩: attention sees only relative positions.
public sealed partial class Tensor
{
    /// <summary>
    /// Rotates the pairs of every head of x: [b, n, heads·dh] by positions: [b, n] (any order, so
    /// permuted layouts such as MPNet's work). dh must be even. Returns a new [b, n, heads·dh] tensor.
    /// </summary>
    public static Tensor Rotary(Tensor x, int heads, IntTensor positions, float theta = 10000f)
    {
        if (x.Rank != 3 || heads <= 0 || x._dims[2] % heads != 0 || (x._dims[2] / heads) % 2 != 0)
            throw new ArgumentException($"rotary: x must be [b, n, heads·dh] with even dh, got {ShapeUtil.Format(x._dims)} for {heads} heads.");
        if (positions.Rank != 2 || positions.Dim(0) != x._dims[0] || positions.Dim(1) != x._dims[1])
            throw new ArgumentException($"rotary: positions {ShapeUtil.Format(positions.Shape)} must be [{x._dims[0]}, {x._dims[1]}].");
        CheckFiniteInputs("rotary", x);
        int tokens = x._dims[0] * x._dims[1], width = x._dims[2], dh = width / heads, pairs = dh / 2;
        var pos = positions.Values;
        int maxPos = 0;
        foreach (int p in pos)
        {
            if (p < 0) throw new ArgumentException($"rotary: negative position {p}.");
            maxPos = Math.Max(maxPos, p);
        }
        // cos/sin per (position, pair), computed in double so long positions keep their precision.
        var cos = new float[(maxPos + 1) * pairs];
        var sin = new float[(maxPos + 1) * pairs];
        for (int j = 0; j < pairs; j++)
        {
            double frequency = Math.Pow(theta, -2.0 * j / dh);
            for (int p = 0; p <= maxPos; p++) { cos[p * pairs + j] = (float)Math.Cos(p * frequency); sin[p * pairs + j] = (float)Math.Sin(p * frequency); }
        }
        var y = Empty(x._dims);
        Rotate(x._data, y._data, pos, cos, sin, tokens, heads, pairs, width, inverse: false, accumulate: false);
        return Record(y, "rotary", g =>
        {
            // A rotation's transpose is its inverse: dx = R(−angle)·dy.
            var (gx, acc) = GradSink(x);
            Rotate(g._data, gx._data, pos, cos, sin, tokens, heads, pairs, width, inverse: true, accumulate: acc);
        }, x);
    }

    private static void Rotate(float[] src, float[] dst, int[] pos, float[] cos, float[] sin, int tokens, int heads, int pairs, int width,
                               bool inverse, bool accumulate)
    {
        float sign = inverse ? -1f : 1f;
        Kernels.Parallelism.For(tokens, 64, (s, e) =>
        {
            for (int t = s; t < e; t++)
            {
                int table = pos[t] * pairs;
                for (int h = 0; h < heads; h++)
                {
                    int baseIndex = t * width + h * pairs * 2;
                    for (int j = 0; j < pairs; j++)
                    {
                        float c = cos[table + j], sn = sign * sin[table + j];
                        float a = src[baseIndex + 2 * j], b = src[baseIndex + 2 * j + 1];
                        float r0 = a * c - b * sn, r1 = a * sn + b * c;
                        if (accumulate) { dst[baseIndex + 2 * j] += r0; dst[baseIndex + 2 * j + 1] += r1; }
                        else { dst[baseIndex + 2 * j] = r0; dst[baseIndex + 2 * j + 1] = r1; }
                    }
                }
            }
        });
    }
}
