namespace Jianwei.Tensors;

/// <summary>Shape arithmetic and the error messages that print shapes.</summary>
internal static class ShapeUtil
{
    public static int Product(ReadOnlySpan<int> dims)
    {
        int n = 1;
        foreach (int d in dims) n *= d;
        return n;
    }

    public static int CheckedProduct(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Negative size in shape {Format(dims)}.");
            n *= d;
            if (n > Array.MaxLength) throw new ArgumentException($"Shape {Format(dims)} has more elements than an array can hold.");
        }
        return (int)n;
    }

    public static string Format(ReadOnlySpan<int> dims) => "[" + string.Join(", ", dims.ToArray()) + "]";

    public static int NormalizeAxis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if ((uint)a >= (uint)rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for rank {rank}.");
        return a;
    }

    public static int FlatIndex(ReadOnlySpan<int> dims, ReadOnlySpan<int> index)
    {
        if (index.Length != dims.Length)
            throw new ArgumentException($"Index of rank {index.Length} for shape {Format(dims)}.");
        int flat = 0;
        for (int i = 0; i < dims.Length; i++)
        {
            if ((uint)index[i] >= (uint)dims[i])
                throw new IndexOutOfRangeException($"Index {Format(index)} is out of range for shape {Format(dims)}.");
            flat = flat * dims[i] + index[i];
        }
        return flat;
    }

    /// <summary>Resolves one -1 in a requested shape, and checks the element count.</summary>
    public static int[] InferShape(ReadOnlySpan<int> requested, int length, ReadOnlySpan<int> from)
    {
        var shape = requested.ToArray();
        int infer = -1, known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Only one -1 is allowed in shape {Format(requested)}.");
                infer = i;
            }
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || length % known != 0)
                throw new ArgumentException($"Cannot reshape {Format(from)} ({length} elements) to {Format(requested)}.");
            shape[infer] = length / known;
        }
        if (Product(shape) != length)
            throw new ArgumentException($"Cannot reshape {Format(from)} ({length} elements) to {Format(requested)}.");
        return shape;
    }

    /// <summary>Number of elements before, along and after an axis: the [outer, n, inner] view of a tensor.</summary>
    public static (int Outer, int N, int Inner) Split(ReadOnlySpan<int> dims, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= dims[i];
        for (int i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        return (outer, dims[axis], inner);
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static void RequireSame(Tensor a, Tensor b, string op)
    {
        if (!SameShape(a.Shape, b.Shape))
            throw new ArgumentException($"{op}: shapes {Format(a.Shape)} and {Format(b.Shape)} must be equal.");
    }
}
