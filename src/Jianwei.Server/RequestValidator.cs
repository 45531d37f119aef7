using System.Globalization;
using System.Text.Json;
using Jianwei.Data;

namespace Jianwei.Server;

/// <summary>A validation problem: the field (or null for the whole request) and what is wrong.</summary>
public sealed record FieldError(string? Field, string Message);

/// <summary>Turns JSON rows into cells of the schema's columns, collecting every bad field.</summary>
internal sealed class RequestValidator
{
    private readonly int _maxText;
    private readonly ValueParser _parser;

    public RequestValidator(TableSchema schema, int maxTextLength)
    {
        _maxText = maxTextLength;
        _parser = new ValueParser(schema.MissingMarkers);
        Columns = schema.Columns.Where(c => c.Role is ColumnRole.Feature or ColumnRole.Identifier).ToArray();
        Header = Columns.Select(c => c.Name).ToArray();
    }

    public IReadOnlyList<ColumnSchema> Columns { get; }
    public string[] Header { get; }

    public (string[] Cells, List<FieldError> Errors, List<string> Warnings) Convert(JsonElement row, int index)
    {
        var cells = new string[Columns.Count];
        var errors = new List<FieldError>();
        var warnings = new List<string>();
        string Where(string name) => $"rows[{index}].{name}";
        for (int c = 0; c < Columns.Count; c++)
        {
            var col = Columns[c];
            if (!row.TryGetProperty(col.Name, out var v))
            {
                if (col.Role == ColumnRole.Feature) errors.Add(new FieldError(Where(col.Name), $"missing column (the model expects a {col.Type.ToString().ToLowerInvariant()} value; send null if it is unknown)."));
                cells[c] = "";
                continue;
            }
            string text;
            switch (v.ValueKind)
            {
                case JsonValueKind.Null: text = ""; break;
                case JsonValueKind.String:
                    // GetString throws on text that is not valid Unicode: invalid UTF-8 bytes, or an unpaired surrogate escape (\ud800).
                    try { text = v.GetString()!; }
                    catch (InvalidOperationException) { errors.Add(new FieldError(Where(col.Name), "the string is not valid text (invalid UTF-8 or an unpaired UTF-16 surrogate).")); continue; }
                    break;
                case JsonValueKind.Number: text = v.GetRawText(); break;
                case JsonValueKind.True: text = "true"; break;
                case JsonValueKind.False: text = "false"; break;
                default: errors.Add(new FieldError(Where(col.Name), $"expected a {col.Type.ToString().ToLowerInvariant()} value, got a JSON {v.ValueKind.ToString().ToLowerInvariant()}.")); continue;
            }
            if (col.Type is ColumnType.Numeric or ColumnType.Boolean or ColumnType.DateTime && !_parser.IsMissing(text) && double.IsNaN(ValueParser.ToNumber(text.Trim(), col.Type)))
                errors.Add(new FieldError(Where(col.Name), ValueParser.Problem(text.Trim(), col.Type)));
            if (col.Type == ColumnType.Text && text.Length > _maxText)
            {
                warnings.Add($"{Where(col.Name)}: text of {text.Length:N0} characters truncated to {_maxText:N0}.");
                text = text[.._maxText];
            }
            cells[c] = text;
        }
        return (cells, errors, warnings);
    }
}
