using System.Globalization;

namespace Jianwei.Data;

/// <summary>
/// Streams rows parsed under a schema: numeric, boolean and date columns as numbers (NaN when
/// missing; booleans 0/1; dates as days since 1970-01-01), categorical and text columns as strings
/// (null when missing). For CSV, numbers are parsed straight from the UTF-8 bytes and only string
/// columns are decoded, which is what makes scoring large files fast. Memory stays bounded: one row
/// at a time.
/// </summary>
public sealed class TypedRowReader : IDisposable
{
    private readonly TableReader _reader;
    private readonly CsvTableReader? _csv;
    private readonly ValueParser _parser;
    private readonly int[] _fileIndex;        // schema column → position in the file (−1: absent)
    private readonly ColumnType[] _types;
    private readonly int[] _slot;             // schema column → index into Numbers or Strings
    private readonly byte[][] _missingUtf8;
    private readonly int _longestMissingUtf8;

    /// <summary>Opens a file for the schema's columns (label included when the file has it).</summary>
    public TypedRowReader(string path, TableSchema schema, ReadOptions? options = null, bool needLabel = false)
    {
        _reader = TableReader.Open(path, options);
        schema.CheckHeader(_reader.Header, path, needLabel);
        _csv = _reader as CsvTableReader;
        _parser = new ValueParser(schema.MissingMarkers);
        _missingUtf8 = schema.MissingMarkers.Select(m => System.Text.Encoding.UTF8.GetBytes(m)).ToArray();
        _longestMissingUtf8 = _missingUtf8.Max(m => m.Length);
        Columns = schema.Columns.Where(c => c.Role != ColumnRole.Ignore && _reader.Header.Contains(c.Name)).ToArray();
        _fileIndex = Columns.Select(c => _reader.Header.ToList().IndexOf(c.Name)).ToArray();
        _types = Columns.Select(c => c.Role == ColumnRole.Label ? ColumnType.Categorical : c.Type).ToArray();
        int numbers = 0, strings = 0;
        _slot = _types.Select(t => IsNumeric(t) ? numbers++ : strings++).ToArray();
        Numbers = new double[numbers];
        Strings = new string?[strings];
    }

    private static bool IsNumeric(ColumnType t) => t is ColumnType.Numeric or ColumnType.Boolean or ColumnType.DateTime;

    /// <summary>The columns read, in schema order.</summary>
    public IReadOnlyList<ColumnSchema> Columns { get; }
    /// <summary>Numeric values of the current row (numeric, boolean and date columns, in schema order).</summary>
    public double[] Numbers { get; }
    /// <summary>String values of the current row (categorical, text and label columns, in schema order).</summary>
    public string?[] Strings { get; }
    /// <summary>Index into <see cref="Numbers"/> or <see cref="Strings"/> of each of <see cref="Columns"/>.</summary>
    public IReadOnlyList<int> Slots => _slot;
    /// <summary>1-based line of the current row.</summary>
    public long LineNumber => _reader.LineNumber;
    /// <summary>Rows skipped as malformed.</summary>
    public IReadOnlyList<SkippedRow> SkippedRows => _reader.SkippedRows;

    /// <summary>Reads the next row; a value that does not fit its column's type is an error naming line and column.</summary>
    public bool Read() => _csv is not null ? ReadCsv() : ReadStrings();

    private bool ReadCsv()
    {
        if (!_csv!.ReadRaw()) return false;
        var csv = _csv.Csv;
        for (int c = 0; c < _fileIndex.Length; c++)
        {
            int i = _fileIndex[c];
            var type = _types[c];
            if (IsNumeric(type))
            {
                var raw = i < csv.FieldCount ? csv.GetRawSpan(i) : default;
                if (type == ColumnType.Numeric && TryParseUtf8Number(raw, out double fast) && Math.Abs(fast) <= ValueParser.LargestMagnitude)
                {
                    Numbers[_slot[c]] = fast;
                    continue;
                }
                if (IsMissingUtf8(raw)) { Numbers[_slot[c]] = double.NaN; continue; }
                Numbers[_slot[c]] = ParseNumeric(csv.GetString(i), type, c);
            }
            else
            {
                if (i >= csv.FieldCount) { Strings[_slot[c]] = null; continue; }
                if (!_csv.TryDecodeField(i, out var s))
                    throw new DataFormatException(_reader.Source, LineNumber, Columns[c].Name, _csv.UndecodableProblem);
                Strings[_slot[c]] = _parser.IsMissing(s) ? null : s;
            }
        }
        return true;
    }

    private bool ReadStrings()
    {
        if (!_reader.Read()) return false;
        var row = _reader.Current;
        for (int c = 0; c < _fileIndex.Length; c++)
        {
            var s = _fileIndex[c] < row.Length ? row[_fileIndex[c]] : "";
            if (IsNumeric(_types[c])) Numbers[_slot[c]] = _parser.IsMissing(s) ? double.NaN : ParseNumeric(s, _types[c], c);
            else Strings[_slot[c]] = _parser.IsMissing(s) ? null : s;
        }
        return true;
    }

    private static ReadOnlySpan<byte> Yen => "¥"u8;
    private static ReadOnlySpan<byte> FullWidthYen => "￥"u8;

    /// <summary>
    /// The common number forms straight from UTF-8: plain (12.5, -3e4), percent (17.40%) and a
    /// leading currency sign (¥446.6, $12). Anything else (thousands separators, accounting
    /// negatives, padding) returns false and goes through <see cref="ValueParser.TryParseNumber"/>.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static bool TryParseUtf8Number(ReadOnlySpan<byte> field, out double value)
    {
        scoped ReadOnlySpan<byte> raw = field;
        value = 0;
        if (raw.IsEmpty || raw.Length > 40) return false;
        bool percent = raw[^1] == (byte)'%';
        if (percent) raw = raw[..^1];
        if (raw.StartsWith(Yen)) raw = raw[Yen.Length..];
        else if (raw.StartsWith(FullWidthYen)) raw = raw[FullWidthYen.Length..];
        else if (!raw.IsEmpty && raw[0] == (byte)'$') raw = raw[1..];
        if (raw.IsEmpty) return false;
        if (raw.Contains((byte)','))
        {
            Span<byte> ungrouped = stackalloc byte[40];
            // Thousands separators only in well-formed groups of three before the point (1,234,567.8).
            int n = 0, sinceComma = -1, point = raw.IndexOf((byte)'.');
            int intEnd = point < 0 ? raw.Length : point;
            for (int i = 0; i < intEnd; i++)
            {
                if (raw[i] == (byte)',')
                {
                    if ((sinceComma >= 0 && sinceComma != 3) || n == 0 || (n == 1 && raw[0] == (byte)'-')) return false;
                    sinceComma = 0;
                    continue;
                }
                if (sinceComma >= 0) sinceComma++;
                ungrouped[n++] = raw[i];
            }
            if (sinceComma != 3 || raw[intEnd..].Contains((byte)',')) return false;
            raw[intEnd..].CopyTo(ungrouped[n..]);
            raw = ungrouped[..(n + raw.Length - intEnd)];
        }
        if (!TryParseSimpleDecimal(raw, out value))
        {
            foreach (byte b in raw) if (!(b is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'-' or (byte)'+' or (byte)'e' or (byte)'E')) return false;
            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !double.IsFinite(value)) return false;
        }
        if (percent) value /= 100;
        return true;
    }

    private static readonly double[] PowersOfTen = Enumerable.Range(0, 23).Select(k => Math.Pow(10, k)).ToArray();

    /// <summary>
    /// [-]digits[.digits] with at most 15 significant digits: the integer mantissa and 10^k are both
    /// exact doubles, so their quotient is the correctly rounded value (Clinger's fast path) — the
    /// same bits double.Parse gives, several times faster.
    /// </summary>
    private static bool TryParseSimpleDecimal(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        bool negative = s[0] == (byte)'-';
        int i = negative || s[0] == (byte)'+' ? 1 : 0;
        long mantissa = 0;
        int digits = 0, fraction = -1;
        for (; i < s.Length; i++)
        {
            byte b = s[i];
            if (b == (byte)'.') { if (fraction >= 0) return false; fraction = 0; continue; }
            if (b is < (byte)'0' or > (byte)'9') return false;
            if (mantissa != 0 || b != (byte)'0') digits++;
            if (digits > 15) return false;
            mantissa = mantissa * 10 + (b - '0');
            if (fraction >= 0) fraction++;
        }
        if (digits == 0 && mantissa == 0 && (s.Length == (negative ? 1 : 0) + (fraction >= 0 ? 1 : 0))) return false;   // "", "-", "."
        int scale = Math.Max(fraction, 0);
        if (scale > 22) return false;
        value = mantissa / PowersOfTen[scale];
        if (negative) value = -value;
        return true;
    }

    private bool IsMissingUtf8(ReadOnlySpan<byte> raw)
    {
        if (raw.Length > _longestMissingUtf8 + 4) return false;   // room for quotes and padding
        raw = raw.Trim((byte)' ');
        if (raw.Length >= 2 && raw[0] == '"' && raw[^1] == '"') raw = raw[1..^1].Trim((byte)' ');
        foreach (var m in _missingUtf8) if (raw.SequenceEqual(m)) return true;
        return false;
    }

    private double ParseNumeric(string s, ColumnType type, int column)
    {
        double v = ValueParser.ToNumber(s, type);
        if (!double.IsNaN(v)) return v;
        throw new DataFormatException(_reader.Source, LineNumber, Columns[column].Name,
            ValueParser.TryParseNumber(s, out _) ? ValueParser.Problem(s, type)
                : ValueParser.Problem(s, type).TrimEnd('.') + $" (the schema says {type.ToString().ToLowerInvariant()}; edit the schema if the column changed type).");
    }

    /// <inheritdoc/>
    public void Dispose() => _reader.Dispose();
}
