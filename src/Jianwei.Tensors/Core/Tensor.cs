using System.Runtime.CompilerServices;
using System.Text;

namespace Jianwei.Tensors;

/// <summary>
/// A float32 tensor: contiguous row-major storage plus a shape, and the autograd bookkeeping that
/// records how it was computed. Reshapes are views that share storage; every other op writes a new
/// tensor. Ops live in <c>Ops/</c>, one family per file, each forward beside its backward.
/// </summary>
public sealed partial class Tensor
{
    // Invariants: _data.Length >= Length; the first Length floats are the values; offset is always 0.
    internal float[] _data;
    internal readonly int[] _dims;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Whether gradients flow into this tensor. Set on parameters; outputs of recorded ops inherit it.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Accumulated gradient (same shape), or null before the first backward pass reaches it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>A leaf's gradient buffer, reused after the gradient is cleared (see GradSink).</summary>
    internal Tensor? _spareGrad;

    /// <summary>The op that produced this tensor, when it was recorded for autograd (null for leaves).</summary>
    internal GradNode? Node;

    /// <summary>Optional name used in error messages (parameters get their dotted name).</summary>
    public string? Name { get; set; }

    internal Tensor(float[] data, int[] dims)
    {
        _dims = dims;
        Length = ShapeUtil.Product(dims);
        if (data.Length < Length)
            throw new ArgumentException($"Storage of {data.Length} floats cannot hold shape {ShapeUtil.Format(dims)} ({Length} elements).");
        _data = data;
    }

    /// <summary>The shape, outermost axis first.</summary>
    public ReadOnlySpan<int> Shape => _dims;

    /// <summary>A copy of the shape as an array.</summary>
    public int[] ShapeArray => (int[])_dims.Clone();

    /// <summary>Number of axes.</summary>
    public int Rank => _dims.Length;

    /// <summary>Size of one axis; negative axes count from the end.</summary>
    public int Dim(int axis) => _dims[ShapeUtil.NormalizeAxis(axis, _dims.Length)];

    /// <summary>The values, row-major. Writing through this span bypasses autograd.</summary>
    public Span<float> Data => _data.AsSpan(0, Length);

    /// <summary>True for tensors not produced by a recorded op (parameters, inputs).</summary>
    public bool IsLeaf => Node is null;

    /// <summary>Value of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, got shape {ShapeUtil.Format(_dims)}.");
        return _data[0];
    }

    /// <summary>Element at a multi-index (slow; for tests and debugging).</summary>
    [IndexerName("At")]
    public float this[params int[] index]
    {
        get => _data[ShapeUtil.FlatIndex(_dims, index)];
        set => _data[ShapeUtil.FlatIndex(_dims, index)] = value;
    }

    /// <summary>Copies the values into a new array.</summary>
    public float[] ToArray() => Data.ToArray();

    // ---------------------------------------------------------------- creation

    /// <summary>A tensor whose values are unspecified (pooled inside a <see cref="TensorScope"/>).</summary>
    public static Tensor Empty(params int[] shape) => new(TensorScope.Rent(ShapeUtil.CheckedProduct(shape)), (int[])shape.Clone());

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape)
    {
        var t = Empty(shape);
        t.Data.Clear();
        return t;
    }

    /// <summary>A tensor filled with one value.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = Empty(shape);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A one-element tensor of shape [].</summary>
    public static Tensor Scalar(float value)
    {
        var t = Empty();
        t._data[0] = value;
        return t;
    }

    /// <summary>Wraps a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        int n = ShapeUtil.CheckedProduct(shape);
        if (n != values.Length)
            throw new ArgumentException($"{values.Length} values cannot fill shape {ShapeUtil.Format(shape)} ({n} elements).");
        var t = Empty(shape);
        values.CopyTo(t.Data);
        return t;
    }

    /// <summary>Takes ownership of <paramref name="values"/> without copying (never pooled).</summary>
    public static Tensor Wrap(float[] values, params int[] shape) => new(values, (int[])shape.Clone());

    /// <summary>Uniform values in [low, high).</summary>
    public static Tensor Uniform(Rng rng, float low, float high, params int[] shape)
    {
        var t = Empty(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = low + (high - low) * rng.NextFloat();
        return t;
    }

    /// <summary>Normal values with the given mean and standard deviation.</summary>
    public static Tensor Normal(Rng rng, float mean, float std, params int[] shape)
    {
        var t = Empty(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = mean + std * rng.NextNormal();
        return t;
    }

    /// <summary>A leaf copy with no history; values shared with nothing.</summary>
    public Tensor Detach()
    {
        var t = Empty(_dims);
        Data.CopyTo(t.Data);
        return t;
    }

    /// <summary>A new leaf tensor that requires gradients (handy for parameters and tests).</summary>
    public Tensor AsParameter(string? name = null)
    {
        RequiresGrad = true;
        Name = name ?? Name;
        return this;
    }

    /// <summary>Clears the gradient. The buffer is reused by the next backward pass, so a reference to
    /// the old <see cref="Grad"/> taken before this call will see it overwritten.</summary>
    public void ZeroGrad() => Grad = null;

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor").Append(ShapeUtil.Format(_dims));
        if (Name is not null) sb.Append(" '").Append(Name).Append('\'');
        sb.Append(" [");
        int n = Math.Min(Length, 8);
        for (int i = 0; i < n; i++) sb.Append(i > 0 ? ", " : "").Append(_data[i].ToString("G5", System.Globalization.CultureInfo.InvariantCulture));
        if (Length > n) sb.Append(", ...");
        return sb.Append(']').ToString();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool AnyRequiresGrad(Tensor a) => a.RequiresGrad && GradMode.IsEnabled;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool AnyRequiresGrad(Tensor a, Tensor b) => (a.RequiresGrad || b.RequiresGrad) && GradMode.IsEnabled;
}
