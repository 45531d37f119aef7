namespace Jianwei.Models;

/// <summary>Compressed sparse rows: row r holds Values[RowStart[r]..RowStart[r+1]) at columns ColumnIndex[...].</summary>
public sealed record SparseMatrix(int[] RowStart, int[] ColumnIndex, float[] Values, int Rows, int Columns)
{
    /// <summary>x_r · w (+ bias).</summary>
    public double Dot(int r, ReadOnlySpan<double> w)
    {
        double s = 0;
        for (int k = RowStart[r]; k < RowStart[r + 1]; k++) s += Values[k] * w[ColumnIndex[k]];
        return s;
    }

    /// <summary>The stored entries of row r.</summary>
    public IEnumerable<(int Column, float Value)> Row(int r)
    {
        for (int k = RowStart[r]; k < RowStart[r + 1]; k++) yield return (ColumnIndex[k], Values[k]);
    }

    /// <summary>w += a · row r.</summary>
    public void AddScaledRow(int r, double a, Span<double> w)
    {
        for (int k = RowStart[r]; k < RowStart[r + 1]; k++) w[ColumnIndex[k]] += a * Values[k];
    }

    /// <summary>Builds a matrix from rows of (column, value) pairs (columns need not be sorted; duplicates add up).</summary>
    public static SparseMatrix FromRows(IReadOnlyList<IReadOnlyList<(int Column, float Value)>> rows, int columns)
    {
        var start = new int[rows.Count + 1];
        var cols = new List<int>(); var vals = new List<float>();
        for (int r = 0; r < rows.Count; r++)
        {
            foreach (var g in rows[r].GroupBy(e => e.Column).OrderBy(g => g.Key))
            {
                if (g.Key < 0 || g.Key >= columns) throw new ArgumentOutOfRangeException(nameof(rows), $"column {g.Key} outside [0, {columns}).");
                cols.Add(g.Key); vals.Add(g.Sum(e => e.Value));
            }
            start[r + 1] = cols.Count;
        }
        return new SparseMatrix(start, [.. cols], [.. vals], rows.Count, columns);
    }

    /// <summary>The rows at <paramref name="indices"/>.</summary>
    public SparseMatrix SelectRows(IReadOnlyList<int> indices)
    {
        var start = new int[indices.Count + 1];
        int nnz = indices.Sum(r => RowStart[r + 1] - RowStart[r]);
        var cols = new int[nnz]; var vals = new float[nnz];
        int p = 0;
        for (int i = 0; i < indices.Count; i++)
        {
            int r = indices[i], len = RowStart[r + 1] - RowStart[r];
            Array.Copy(ColumnIndex, RowStart[r], cols, p, len);
            Array.Copy(Values, RowStart[r], vals, p, len);
            p += len;
            start[i + 1] = p;
        }
        return new SparseMatrix(start, cols, vals, indices.Count, Columns);
    }
}
