using System.Numerics.Tensors;
using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors;

// Softmax and log-softmax over the last axis, and the fused attention form
// softmax(scale·scores + keyMaskBias). Rows are independent, so they run in parallel.
public sealed partial class Tensor
{
    private delegate void RowKernel(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>A row kernel over the last axis into a new tensor, rows in parallel; the result with its row count and row width.</summary>
    private (Tensor Y, int Rows, int N) EachLastAxisRow(string op, RowKernel kernel)
    {
        CheckFiniteInputs(op, this);
        int n = _dims.Length == 0 ? 1 : _dims[^1];
        int rows = n == 0 ? 0 : Length / n;
        var y = Empty(_dims);
        var xd = _data; var yd = y._data;
        Parallelism.For(rows, 4096 / Math.Max(n, 1) + 1, (s, e) =>
        {
            for (int r = s; r < e; r++) kernel(xd.AsSpan(r * n, n), yd.AsSpan(r * n, n));
        });
        return (y, rows, n);
    }

    /// <summary>Softmax over the last axis. Backward: dx = y ⊙ (g − ⟨g, y⟩).</summary>
    public Tensor Softmax()
    {
        var x = this;
        var (y, rows, n) = EachLastAxisRow("softmax", static (xr, yr) => SoftmaxRow(xr, yr, 1f, default));
        return Record(y, "softmax", g => SoftmaxBackward(x, y, g, rows, n, 1f), x);
    }

    /// <summary>
    /// Fused attention probabilities: softmax over keys of scale·scores, where keys whose
    /// <paramref name="keyMask"/> entry is 0 get the most negative float added (as Hugging Face does).
    /// scores: [batch, heads, queries, keys]; keyMask: [batch, keys] of 1 (attend) or 0 (padding), or null.
    /// </summary>
    public static Tensor AttentionSoftmax(Tensor scores, Tensor? keyMask, float scale)
    {
        if (scores.Rank != 4) throw new ArgumentException($"attention softmax: scores must be [batch, heads, queries, keys], got {ShapeUtil.Format(scores._dims)}.");
        int b = scores._dims[0], h = scores._dims[1], q = scores._dims[2], k = scores._dims[3];
        if (keyMask is not null && (keyMask.Rank != 2 || keyMask._dims[0] != b || keyMask._dims[1] != k))
            throw new ArgumentException($"attention softmax: key mask {ShapeUtil.Format(keyMask._dims)} must be [{b}, {k}] for scores {ShapeUtil.Format(scores._dims)}.");
        CheckFiniteInputs("attention_softmax", scores);
        var y = Empty(scores._dims);
        var sd = scores._data; var yd = y._data;
        float[]? bias = null;
        if (keyMask is not null)
        {
            bias = new float[b * k];
            for (int i = 0; i < bias.Length; i++) bias[i] = keyMask._data[i] == 0f ? float.MinValue : 0f;
        }
        int rows = b * h * q;
        Parallelism.For(rows, 4096 / Math.Max(k, 1) + 1, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                int batch = r / (h * q);
                SoftmaxRow(sd.AsSpan(r * k, k), yd.AsSpan(r * k, k), scale, bias is null ? default : bias.AsSpan(batch * k, k));
            }
        });
        return Record(y, "attention_softmax", g => SoftmaxBackward(scores, y, g, rows, k, scale), scores);
    }

    /// <summary>y = softmax(scale·x + bias) for one row (an empty bias adds nothing). Max is subtracted first, so nothing overflows.</summary>
    private static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, float scale, ReadOnlySpan<float> bias)
    {
        if (x.Length == 0) return;
        if (scale != 1f) TensorPrimitives.Multiply(x, scale, y); else x.CopyTo(y);
        if (!bias.IsEmpty) TensorPrimitives.Add(y, bias, y);
        float max = TensorPrimitives.Max(y);
        TensorPrimitives.Subtract(y, max, y);
        SimdMath.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Multiply(y, 1f / sum, y);
    }

    private static void SoftmaxBackward(Tensor x, Tensor y, Tensor g, int rows, int n, float scale)
    {
        var (gx, acc) = GradSink(x);
        var yd = y._data; var gd = g._data; var dd = gx._data;
        Parallelism.For(rows, 4096 / Math.Max(n, 1) + 1, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var yr = yd.AsSpan(r * n, n); var gr = gd.AsSpan(r * n, n); var dr = dd.AsSpan(r * n, n);
                float dot = TensorPrimitives.Dot(gr, yr);
                // dx = scale · y ⊙ (g − dot)
                for (int j = 0; j < n; j++)
                {
                    float v = scale * yr[j] * (gr[j] - dot);
                    dr[j] = acc ? dr[j] + v : v;
                }
            }
        });
    }

    /// <summary>Log-softmax over the last axis. Backward: dx = g − softmax(x)·Σg.</summary>
    public Tensor LogSoftmax()
    {
        var x = this;
        var (y, rows, n) = EachLastAxisRow("log_softmax", static (xr, yr) => LogSoftmaxRow(xr, yr));
        return Record(y, "log_softmax", g =>
        {
            var (gx, acc) = GradSink(x);
            var yd = y._data; var gd = g._data; var dd = gx._data;
            Parallelism.For(rows, 4096 / Math.Max(n, 1) + 1, (s, e) =>
            {
                for (int r = s; r < e; r++)
                {
                    var yr = yd.AsSpan(r * n, n); var gr = gd.AsSpan(r * n, n); var dr = dd.AsSpan(r * n, n);
                    float sum = TensorPrimitives.Sum(gr);
                    for (int j = 0; j < n; j++)
                    {
                        float v = gr[j] - MathF.Exp(yr[j]) * sum;
                        dr[j] = acc ? dr[j] + v : v;
                    }
                }
            });
        }, x);
    }

    /// <summary>y = x − max − ln Σ exp(x − max).</summary>
    internal static void LogSoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length == 0) return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        // exp into y temporarily is not possible (we need x − max afterwards), so sum exp in blocks.
        float sum = 0f;
        Span<float> tmp = stackalloc float[256];
        for (int i = 0; i < y.Length; i += 256)
        {
            int len = Math.Min(256, y.Length - i);
            SimdMath.Exp(y.Slice(i, len), tmp[..len]);
            sum += TensorPrimitives.Sum(tmp[..len]);
        }
        TensorPrimitives.Subtract(y, MathF.Log(sum), y);
    }
}
