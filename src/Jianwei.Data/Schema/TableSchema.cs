using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jianwei.Data;

/// <summary>What a column is for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnRole>))]
public enum ColumnRole
{
    /// <summary>An input to the model.</summary>
    Feature,
    /// <summary>The outcome to predict.</summary>
    Label,
    /// <summary>Unique per row (an id): carried to outputs, never a feature.</summary>
    Identifier,
    /// <summary>Groups rows for group k-fold (e.g. a company id).</summary>
    Group,
    /// <summary>Orders rows for a time-ordered split.</summary>
    Time,
    /// <summary>Left out.</summary>
    Ignore,
}

/// <summary>How a column's values are read.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnType>))]
public enum ColumnType
{
    /// <summary>Numbers (percentages, thousands separators, currency and accounting negatives understood).</summary>
    Numeric,
    /// <summary>Two values (true/false, yes/no, 是/否, 0/1).</summary>
    Boolean,
    /// <summary>A limited set of labels.</summary>
    Categorical,
    /// <summary>Free text for the tokenizer.</summary>
    Text,
    /// <summary>Dates or date-times.</summary>
    DateTime,
}

/// <summary>One column's role and type.</summary>
public sealed record ColumnSchema(string Name, ColumnRole Role, ColumnType Type);

/// <summary>
/// The columns of a table, its label and positive class. Written by <c>jianwei inspect --schema-out</c>
/// for the user to edit (<see cref="ToJson"/>; the CLI writes it atomically), and saved with every model; scoring data must agree with it.
/// </summary>
public sealed record TableSchema
{
    /// <summary>Columns in file order.</summary>
    public required IReadOnlyList<ColumnSchema> Columns { get; init; }
    /// <summary>The label column, if any.</summary>
    public string? Label { get; init; }
    /// <summary>The label value that counts as positive (default, bad, 1...).</summary>
    public string? PositiveClass { get; init; }
    /// <summary>
    /// Every value the label takes in the training rows, sorted (recorded at training so that scoring
    /// can refuse a label value the model never saw instead of counting it as negative); null when unknown.
    /// </summary>
    public IReadOnlyList<string>? LabelClasses { get; init; }
    /// <summary>Cell texts read as missing.</summary>
    public IReadOnlyList<string> MissingMarkers { get; init; } = ValueParser.DefaultMissingMarkers;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The label of every row of <paramref name="table"/> as 0/1: 1 where the trimmed value is the
    /// positive class (missing and other values are 0; which rows are labeled is the caller's question).
    /// </summary>
    public int[] Labels(RawTable table)
    {
        int li = Label is null ? -1 : table.IndexOf(Label);
        if (li < 0) throw new DataFormatException(table.Source, 1, Label, "the label column is missing.");
        return table.Rows.Select(r => (li < r.Length ? r[li] : "").Trim() == PositiveClass ? 1 : 0).ToArray();
    }

    /// <summary>The column with a name, or null.</summary>
    public ColumnSchema? Find(string name) => Columns.FirstOrDefault(c => c.Name == name);

    /// <summary>Columns with a role.</summary>
    public IEnumerable<ColumnSchema> WithRole(ColumnRole role) => Columns.Where(c => c.Role == role);

    /// <summary>JSON text of the schema.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a schema file; problems name the file and the field.</summary>
    public static TableSchema Load(string path)
    {
        if (Directory.Exists(path)) throw new DataFormatException(path, null, null, "is a directory, not a schema file.");
        if (!File.Exists(path)) throw new DataFormatException(path, null, null, "schema file not found.");
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Reads schema JSON text; <paramref name="source"/> names it in errors.</summary>
    public static TableSchema FromJson(string json, string source)
    {
        string path = source;
        TableSchema? s;
        try { s = JsonSerializer.Deserialize<TableSchema>(json, Json); }
        catch (JsonException e) { throw new DataFormatException(path, e.LineNumber + 1, null, $"invalid schema: {e.Message.Split(". Path")[0]}"); }
        catch (InvalidOperationException e) { throw new DataFormatException(path, null, null, $"invalid schema: {e.Message}"); }
        if (s is null) throw new DataFormatException(path, null, null, "the schema is empty.");
        if (s.Columns is null) throw new DataFormatException(path, null, null, "the schema has no \"columns\".");
        for (int i = 0; i < s.Columns.Count; i++)
            if (s.Columns[i] is null || string.IsNullOrEmpty(s.Columns[i].Name))
                throw new DataFormatException(path, null, null, $"columns[{i}] has no name.");
        if (s.MissingMarkers is null || s.MissingMarkers.Any(m => m is null)) throw new DataFormatException(path, null, null, "\"missingMarkers\" must be a list of strings.");
        if (s.LabelClasses is not null && s.LabelClasses.Any(c => c is null)) throw new DataFormatException(path, null, null, "\"labelClasses\" must be a list of strings.");
        var dup = s.Columns.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new DataFormatException(path, null, dup.Key, "listed twice in the schema.");
        if (s.Label is not null && s.Find(s.Label) is null) throw new DataFormatException(path, null, s.Label, "the label is not among the schema's columns.");
        return s;
    }

    /// <summary>
    /// Checks that a file's header has every column this schema uses (features, label when
    /// <paramref name="needLabel"/>, identifiers). Extra columns are fine; they are ignored.
    /// </summary>
    public void CheckHeader(IReadOnlyList<string> header, string source, bool needLabel)
    {
        var have = new HashSet<string>(header, StringComparer.Ordinal);
        foreach (var c in Columns)
        {
            if (c.Role == ColumnRole.Ignore || (c.Role == ColumnRole.Label && !needLabel)) continue;
            if (!have.Contains(c.Name))
                throw new DataFormatException(source, 1, c.Name, c.Role == ColumnRole.Label
                    ? "the label column is missing."
                    : $"the column is missing (the model's schema has it as a {c.Type.ToString().ToLowerInvariant()} {c.Role.ToString().ToLowerInvariant()}).");
        }
    }
}
