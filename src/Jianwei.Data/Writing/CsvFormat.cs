namespace Jianwei.Data;

/// <summary>
/// CSV as Jianwei writes it (RFC 4180): a field is quoted when it holds a comma, a quote or a line
/// break, or starts or ends with a space (so a reader that trims keeps it whole); quotes inside are
/// doubled; null is an empty field. Lines end with LF.
/// </summary>
public static class CsvFormat
{
    /// <summary>One field.</summary>
    public static string Field(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        return s.IndexOfAny([',', '"', '\n', '\r']) >= 0 || s[0] == ' ' || s[^1] == ' ' ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }

    /// <summary>One line: the fields joined by commas, with its LF.</summary>
    public static string Line(IEnumerable<string?> fields) => string.Join(",", fields.Select(Field)) + "\n";
}
