using System.Text.Json.Nodes;
using Jianwei.Data;

namespace Jianwei.Models.Features;

/// <summary>
/// The tabular features of a table as trees want them: numbers as they are, booleans 0/1, dates as
/// days since 1970, categories as codes of a vocabulary fitted on training rows (unseen categories
/// share the "unknown" code; missing is NaN). Text columns are left to text features.
/// </summary>
public sealed class TreeFeatures
{
    private readonly ColumnSchema[] _columns;
    private readonly Dictionary<string, CategoricalVocabulary> _vocabularies;
    private readonly ValueParser _parser;

    private TreeFeatures(ColumnSchema[] columns, Dictionary<string, CategoricalVocabulary> vocabularies, ValueParser parser)
    {
        _columns = columns; _vocabularies = vocabularies; _parser = parser;
    }

    /// <summary>Feature names, in column order.</summary>
    public IReadOnlyList<string> Names => _columns.Select(c => c.Name).ToArray();
    /// <summary>Which features are categorical codes.</summary>
    public IReadOnlyList<bool> Categorical => _columns.Select(c => c.Type == ColumnType.Categorical).ToArray();
    /// <summary>The fitted vocabularies of categorical features.</summary>
    public IReadOnlyDictionary<string, CategoricalVocabulary> Vocabularies => _vocabularies;

    /// <summary>Fits category vocabularies on <paramref name="trainRows"/> of <paramref name="table"/>.</summary>
    public static TreeFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, int minCategoryCount = 1)
    {
        var parser = new ValueParser(schema.MissingMarkers);
        var columns = schema.Columns.Where(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text).ToArray();
        var vocab = new Dictionary<string, CategoricalVocabulary>();
        foreach (var c in columns.Where(c => c.Type == ColumnType.Categorical))
        {
            int idx = Index(table, c.Name);
            vocab[c.Name] = CategoricalVocabulary.Fit(trainRows.Select(r => Value(table.Rows[r], idx, parser)), minCategoryCount);
        }
        return new TreeFeatures(columns, vocab, parser);
    }

    /// <summary>The feature matrix of <paramref name="rows"/>; a value that does not parse is an error naming its line and column.</summary>
    public DenseMatrix Transform(RawTable table, IReadOnlyList<int> rows)
    {
        var idx = _columns.Select(c => Index(table, c.Name)).ToArray();
        var values = new float[rows.Count * _columns.Length];
        for (int i = 0; i < rows.Count; i++)
        {
            var row = table.Rows[rows[i]];
            for (int j = 0; j < _columns.Length; j++)
            {
                var s = Value(row, idx[j], _parser);
                var col = _columns[j];
                if (s is null) { values[i * _columns.Length + j] = float.NaN; continue; }
                double v = col.Type == ColumnType.Categorical ? _vocabularies[col.Name].Transform(s) : ValueParser.ToNumber(s, col.Type);
                if (double.IsNaN(v))
                    throw new DataFormatException(table.Source, table.Lines[rows[i]], col.Name, $"'{s}' is not a {col.Type.ToString().ToLowerInvariant()} value.");
                values[i * _columns.Length + j] = (float)v;
            }
        }
        return new DenseMatrix(values, rows.Count, _columns.Length);
    }

    /// <summary>The fitted state as JSON (columns, category vocabularies, missing markers).</summary>
    public JsonObject ToJson() => new()
    {
        ["columns"] = new JsonArray(_columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type.ToString() }).ToArray()),
        ["vocabularies"] = new JsonObject(_vocabularies.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonArray(kv.Value.Categories.Select(v => (JsonNode)v!).ToArray())))),
        ["missing_markers"] = new JsonArray(_parser.MissingMarkers.Select(m => (JsonNode)m!).ToArray()),
    };

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    public static TreeFeatures FromJson(JsonObject json)
    {
        var columns = json["columns"]!.AsArray().Select(c => new ColumnSchema(c!["name"]!.GetValue<string>(), ColumnRole.Feature,
            Enum.Parse<ColumnType>(c["type"]!.GetValue<string>()))).ToArray();
        var vocab = json["vocabularies"]!.AsObject().ToDictionary(kv => kv.Key,
            kv => new CategoricalVocabulary(kv.Value!.AsArray().Select(v => v!.GetValue<string>()).ToArray()));
        var markers = json["missing_markers"]!.AsArray().Select(m => m!.GetValue<string>()).ToArray();
        return new TreeFeatures(columns, vocab, new ValueParser(markers));
    }

    private static int Index(RawTable table, string name) => table.IndexOf(name) is var i and >= 0 ? i
        : throw new DataFormatException(table.Source, 1, name, "the column is missing.");

    private static string? Value(string[] row, int idx, ValueParser parser)
    {
        var s = idx < row.Length ? row[idx] : null;
        return parser.IsMissing(s) ? null : s!.Trim();
    }
}
