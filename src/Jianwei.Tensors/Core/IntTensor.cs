namespace Jianwei.Tensors;

/// <summary>
/// Integer indices with a shape: token ids, class targets, gather indices. Never differentiated.
/// </summary>
public sealed class IntTensor
{
    internal readonly int[] _dims;

    /// <summary>The values, row-major.</summary>
    public int[] Values { get; }

    /// <summary>Creates an index tensor over <paramref name="values"/> (not copied).</summary>
    public IntTensor(int[] values, params int[] shape)
    {
        int n = ShapeUtil.CheckedProduct(shape);
        if (n != values.Length)
            throw new ArgumentException($"{values.Length} indices cannot fill shape {ShapeUtil.Format(shape)} ({n} elements).");
        Values = values;
        _dims = (int[])shape.Clone();
    }

    /// <summary>A one-axis index tensor.</summary>
    public static IntTensor FromArray(params int[] values) => new(values, values.Length);

    /// <summary>The shape.</summary>
    public ReadOnlySpan<int> Shape => _dims;

    /// <summary>Number of axes.</summary>
    public int Rank => _dims.Length;

    /// <summary>Number of elements.</summary>
    public int Length => Values.Length;

    /// <summary>Size of one axis; negative axes count from the end.</summary>
    public int Dim(int axis) => _dims[ShapeUtil.NormalizeAxis(axis, _dims.Length)];

    /// <summary>Same values, another shape with the same element count.</summary>
    public IntTensor Reshape(params int[] shape) => new(Values, ShapeUtil.InferShape(shape, Values.Length, _dims));

    /// <inheritdoc/>
    public override string ToString() => $"IntTensor{ShapeUtil.Format(_dims)}";
}
