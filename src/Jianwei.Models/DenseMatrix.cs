namespace Jianwei.Models;

/// <summary>A row-major float matrix of features; NaN marks a missing value.</summary>
public sealed record DenseMatrix(float[] Values, int Rows, int Columns)
{
    /// <summary>Checks that the values fill the shape.</summary>
    public DenseMatrix Validate()
    {
        if (Rows < 0 || Columns < 0 || (long)Rows * Columns != Values.Length)
            throw new ArgumentException($"A {Rows}×{Columns} matrix needs {(long)Rows * Columns} values, got {Values.Length}.");
        return this;
    }

    /// <summary>Row <paramref name="r"/>.</summary>
    public ReadOnlySpan<float> Row(int r) => Values.AsSpan(r * Columns, Columns);

    /// <summary>The rows at <paramref name="indices"/>, in that order.</summary>
    public DenseMatrix SelectRows(IReadOnlyList<int> indices)
    {
        var v = new float[indices.Count * Columns];
        for (int i = 0; i < indices.Count; i++) Row(indices[i]).CopyTo(v.AsSpan(i * Columns, Columns));
        return new DenseMatrix(v, indices.Count, Columns);
    }
}
