using System.Globalization;

namespace Jianwei.Data;

/// <summary>
/// Parses cell text the way bank exports write it: missing-value markers, numbers with percent signs,
/// thousands separators, currency symbols and accounting negatives, booleans in English and Chinese,
/// and dates (ISO and 2023年5月1日).
/// </summary>
public sealed class ValueParser
{
    /// <summary>The markers read as missing unless configured otherwise (compared after trimming).</summary>
    public static readonly IReadOnlyList<string> DefaultMissingMarkers = ["", "NA", "N/A", "na", "n/a", "null", "NULL", "Null", "NaN", "nan", "-", "--", "无", "空", "暂无", "None"];

    private readonly HashSet<string> _missing;
    private readonly int _longestMarker;

    /// <summary>Creates a parser with the given missing-value markers (default: <see cref="DefaultMissingMarkers"/>).</summary>
    public ValueParser(IEnumerable<string>? missingMarkers = null)
    {
        _missing = new HashSet<string>(missingMarkers ?? DefaultMissingMarkers, StringComparer.Ordinal) { "" };
        _longestMarker = _missing.Max(m => m.Length);
    }

    /// <summary>The markers in use.</summary>
    public IReadOnlyCollection<string> MissingMarkers => _missing;

    /// <summary>True when the cell is a missing value.</summary>
    public bool IsMissing(string? s)
    {
        if (s is null) return true;
        // Long values (texts) cannot be markers unless padded: skip the trim and the hash.
        if (s.Length > _longestMarker && !char.IsWhiteSpace(s[0]) && !char.IsWhiteSpace(s[^1])) return false;
        return _missing.Contains(s.Trim());
    }

    private static readonly string[] CurrencySymbols = ["¥", "￥", "$", "€", "£", "RMB", "CNY", "USD"];

    /// <summary>
    /// A number from text such as <c>83.70%</c> (0.837), <c>1,234.5</c>, <c>¥12,000</c>, <c>(123)</c> (−123),
    /// <c>-4.5e3</c>, <c>12000元</c>. False for anything else, including missing values.
    /// </summary>
    public static bool TryParseNumber(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        s = s.Trim();
        if (s.IsEmpty) return false;
        bool negative = false, percent = false;
        if (s.Length > 2 && s[0] == '(' && s[^1] == ')') { negative = true; s = s[1..^1].Trim(); }
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+') && s.Length > 1 && !char.IsDigit(s[1]) && s[1] != '.')
        {
            // sign before a currency symbol: -¥12
            negative ^= s[0] == '-';
            s = s[1..].Trim();
        }
        foreach (var sym in CurrencySymbols)
            if (s.StartsWith(sym, StringComparison.Ordinal)) { s = s[sym.Length..].Trim(); break; }
        if (s.EndsWith("元", StringComparison.Ordinal)) s = s[..^1].Trim();
        if (s.Length > 0 && s[^1] is '%' or '％') { percent = true; s = s[..^1].Trim(); }
        if (s.IsEmpty) return false;
        // Thousands separators only in well-formed groups of three (1,234,567.8), so "1,2" is not 12.
        if (s.Contains(','))
        {
            Span<char> buf = stackalloc char[s.Length];
            int n = 0, intEnd = s.IndexOfAny('.', 'e', 'E');
            if (intEnd < 0) intEnd = s.Length;
            int sinceComma = -1;
            for (int i = 0; i < intEnd; i++)
            {
                char c = s[i];
                if (c == ',')
                {
                    if (sinceComma >= 0 && sinceComma != 3) return false;
                    if (n == 0 || (n == 1 && buf[0] is '-' or '+')) return false;
                    sinceComma = 0;
                    continue;
                }
                if (sinceComma >= 0) sinceComma++;
                buf[n++] = c;
            }
            if (sinceComma >= 0 && sinceComma != 3) return false;
            s[intEnd..].CopyTo(buf[n..]);
            n += s.Length - intEnd;
            if (!double.TryParse(buf[..n], NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return false;
        }
        else if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return false;
        if (!double.IsFinite(value)) return false;
        if (percent) value /= 100;
        if (negative) value = -value;
        return true;
    }

    private static readonly string[] TrueWords = ["true", "yes", "y", "t", "是", "真", "有"];
    private static readonly string[] FalseWords = ["false", "no", "n", "f", "否", "假", "没有"];

    /// <summary>A boolean from true/false, yes/no, y/n, t/f, 是/否 (case-insensitive).</summary>
    public static bool TryParseBoolean(string s, out bool value)
    {
        var t = s.Trim();
        foreach (var w in TrueWords) if (t.Equals(w, StringComparison.OrdinalIgnoreCase)) { value = true; return true; }
        foreach (var w in FalseWords) if (t.Equals(w, StringComparison.OrdinalIgnoreCase)) { value = false; return true; }
        value = false;
        return false;
    }

    /// <summary>
    /// The largest magnitude a number may have: float32's (about 3.4e38). Models compute in float32,
    /// so a larger value (1e39, -1e308) cannot be represented and is refused as invalid input, never
    /// turned into infinity or passed to a native library.
    /// </summary>
    public const double LargestMagnitude = float.MaxValue;

    /// <summary>
    /// A cell of a numeric, boolean or date column as a number: the value, 1/0 for booleans (true/false
    /// words or 0/1), days since 1970-01-01 for dates. NaN when the text is not a value of that type
    /// or its magnitude exceeds <see cref="LargestMagnitude"/> (<see cref="Problem"/> says which).
    /// </summary>
    public static double ToNumber(string s, ColumnType type)
    {
        double v = type switch
        {
            ColumnType.Numeric when TryParseNumber(s, out double d) => d,
            ColumnType.Boolean when TryParseBoolean(s, out bool b) => b ? 1 : 0,
            ColumnType.Boolean when TryParseNumber(s, out double d) && d is 0 or 1 => d,
            ColumnType.DateTime when TryParseDate(s, out var dt) => (dt - DateTime.UnixEpoch).TotalDays,
            _ => double.NaN,
        };
        return Math.Abs(v) <= LargestMagnitude ? v : double.NaN;
    }

    /// <summary>
    /// Why <paramref name="s"/> is not a value of <paramref name="type"/> (for a cell where
    /// <see cref="ToNumber"/> gave NaN), in words a message can end with.
    /// </summary>
    public static string Problem(string s, ColumnType type)
    {
        string shown = s.Length > 40 ? s[..40] + "…" : s;
        string kind = type.ToString().ToLowerInvariant();
        return type == ColumnType.Numeric && TryParseNumber(s, out double d) && Math.Abs(d) > LargestMagnitude
            ? $"'{shown}' is outside the range of numbers Jianwei computes with (±3.4e38, float32); fix the value or mark it missing."
            : $"'{shown}' is not a {kind} value.";
    }

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy/MM/dd", "yyyy.MM.dd", "yyyy-M-d", "yyyy/M/d", "yyyy-MM-dd HH:mm:ss", "yyyy/MM/dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss",
        "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fff", "yyyy-MM-dd HH:mm", "yyyy年M月d日", "yyyy年MM月dd日", "yyyy-MM", "yyyy年M月",
    ];

    /// <summary>A date or date-time in one of the common export formats.</summary>
    public static bool TryParseDate(string s, out DateTime value) =>
        DateTime.TryParseExact(s.Trim(), DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);
}
