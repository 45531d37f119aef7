namespace Jianwei.Data;

/// <summary>A whole table in memory as strings (training data), with each row's line number for messages.</summary>
public sealed class RawTable
{
    /// <summary>Creates a table.</summary>
    public RawTable(string source, IReadOnlyList<string> header, List<string[]> rows, List<long> lines, IReadOnlyList<SkippedRow>? skipped = null)
    {
        Source = source; Header = header; Rows = rows; Lines = lines; SkippedRows = skipped ?? [];
    }

    /// <summary>Where it came from (for messages).</summary>
    public string Source { get; }
    /// <summary>Column names.</summary>
    public IReadOnlyList<string> Header { get; }
    /// <summary>Rows of fields.</summary>
    public List<string[]> Rows { get; }
    /// <summary>1-based line of each row.</summary>
    public List<long> Lines { get; }
    /// <summary>Rows skipped as malformed.</summary>
    public IReadOnlyList<SkippedRow> SkippedRows { get; }

    /// <summary>Number of rows.</summary>
    public int RowCount => Rows.Count;

    /// <summary>Index of a column, or -1.</summary>
    public int IndexOf(string column)
    {
        for (int i = 0; i < Header.Count; i++) if (Header[i] == column) return i;
        return -1;
    }

    /// <summary>All values of one column.</summary>
    public string[] Column(int index) => Rows.Select(r => index < r.Length ? r[index] : "").ToArray();

    /// <summary>
    /// This table followed by the rows of <paramref name="more"/>, matched by column name (its columns
    /// may come in another order; extra ones are dropped). A column of this table that
    /// <paramref name="more"/> lacks is an error naming it, except <paramref name="mayBeAbsent"/> (a
    /// label, for unlabeled rows), which is left empty.
    /// </summary>
    public RawTable Append(RawTable more, string? mayBeAbsent = null)
    {
        var map = Header.Select(h => more.IndexOf(h) is var i and >= 0 ? i : h == mayBeAbsent ? -1
            : throw new DataFormatException(more.Source, 1, h, $"the column is missing (these rows join {Path.GetFileName(Source)} and need its columns).")).ToArray();
        var rows = Rows.Concat(more.Rows.Select(r => map.Select(i => i >= 0 && i < r.Length ? r[i] : "").ToArray())).ToList();
        return new RawTable(Source, Header, rows, Lines.Concat(more.Lines).ToList());
    }

    /// <summary>Reads a whole file.</summary>
    public static RawTable Load(string path, ReadOptions? options = null)
    {
        using var reader = TableReader.Open(path, options);
        var rows = new List<string[]>();
        var lines = new List<long>();
        while (reader.Read()) { rows.Add(reader.Current); lines.Add(reader.LineNumber); }
        return new RawTable(path, reader.Header, rows, lines, reader.SkippedRows);
    }
}
