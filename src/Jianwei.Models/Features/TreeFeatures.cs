using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Features;

/// <summary>
/// The features of a table as trees want them: numbers as they are, booleans 0/1, dates as days since
/// 1970, categories as codes of a vocabulary fitted on training rows (unseen categories share the
/// "unknown" code; missing is NaN); and, when asked, each text column's most frequent TF-IDF terms as
/// dense columns (0 where a term is absent), fitted on training rows like the logistic model's.
/// </summary>
public sealed class TreeFeatures
{
    private readonly ColumnSchema[] _columns;
    private readonly Dictionary<string, CategoricalVocabulary> _vocabularies;
    private readonly ValueParser _parser;
    private readonly (string Name, TfidfVectorizer Tfidf)[] _text;

    private TreeFeatures(ColumnSchema[] columns, Dictionary<string, CategoricalVocabulary> vocabularies, ValueParser parser, (string, TfidfVectorizer)[] text)
    {
        _columns = columns; _vocabularies = vocabularies; _parser = parser; _text = text;
    }

    /// <summary>Number of features: the table's, then the text terms.</summary>
    public int Width => _columns.Length + _text.Sum(t => t.Tfidf.Terms.Length);
    /// <summary>
    /// Feature names as XGBoost gets them: table columns, then "column#k" for the k-th term (terms may
    /// hold characters XGBoost refuses in names, such as '[' or '&lt;'; <see cref="Term"/> reads them).
    /// </summary>
    public IReadOnlyList<string> Names => _columns.Select(c => c.Name).Concat(_text.SelectMany(t => t.Tfidf.Terms.Select((_, k) => $"{t.Name}#{k}"))).ToArray();
    /// <summary>The text term behind feature <paramref name="index"/>, or null for a table column.</summary>
    public string? Term(int index)
    {
        index -= _columns.Length;
        foreach (var (_, tfidf) in _text)
        {
            if (index >= 0 && index < tfidf.Terms.Length) return tfidf.Terms[index];
            index -= tfidf.Terms.Length;
        }
        return null;
    }
    /// <summary>The input column of each feature (a text term's is its text column).</summary>
    public IReadOnlyList<string> Sources => _columns.Select(c => c.Name).Concat(_text.SelectMany(t => t.Tfidf.Terms.Select(_ => t.Name))).ToArray();
    /// <summary>Which features are categorical codes.</summary>
    public IReadOnlyList<bool> Categorical => _columns.Select(c => c.Type == ColumnType.Categorical).Concat(_text.SelectMany(t => t.Tfidf.Terms.Select(_ => false))).ToArray();
    /// <summary>The table columns these features read, with the type each is read as.</summary>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => _columns.Select(c => (c.Name, c.Type)).Concat(_text.Select(t => (t.Name, ColumnType.Text)));
    /// <summary>The fitted vocabularies of categorical features.</summary>
    public IReadOnlyDictionary<string, CategoricalVocabulary> Vocabularies => _vocabularies;

    /// <summary>
    /// Fits category vocabularies on <paramref name="trainRows"/> of <paramref name="table"/>, and with
    /// <paramref name="termsPerText"/> &gt; 0 that many TF-IDF terms per text column (character 1–3-grams
    /// for Chinese, word 1–2-grams otherwise, seen in at least 5 rows, the most frequent kept).
    /// </summary>
    public static TreeFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, int minCategoryCount = 1, int termsPerText = 0)
    {
        var parser = new ValueParser(schema.MissingMarkers);
        var columns = schema.Columns.Where(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text).ToArray();
        var vocab = new Dictionary<string, CategoricalVocabulary>();
        foreach (var c in columns.Where(c => c.Type == ColumnType.Categorical))
        {
            int idx = Index(table, c.Name);
            vocab[c.Name] = CategoricalVocabulary.Fit(trainRows.Select(r => Value(table.Rows[r], idx, parser)), minCategoryCount);
        }
        var text = new List<(string, TfidfVectorizer)>();
        if (termsPerText > 0)
            foreach (var c in schema.Columns.Where(c => c.Role == ColumnRole.Feature && c.Type == ColumnType.Text))
            {
                int idx = Index(table, c.Name);
                var values = trainRows.Select(r => Value(table.Rows[r], idx, parser)).ToList();
                bool chinese = LinearFeatures.IsMostlyChinese(values);
                text.Add((c.Name, TfidfVectorizer.Fit(values, chinese ? TextAnalyzer.Char : TextAnalyzer.Word, 1, chinese ? 3 : 2, minDf: 5, maxFeatures: termsPerText)));
            }
        return new TreeFeatures(columns, vocab, parser, [.. text]);
    }

    /// <summary>The feature matrix of <paramref name="rows"/>; a value that does not parse is an error naming its line and column.</summary>
    public DenseMatrix Transform(RawTable table, IReadOnlyList<int> rows)
    {
        var idx = _columns.Select(c => Index(table, c.Name)).ToArray();
        var textIdx = _text.Select(t => Index(table, t.Name)).ToArray();
        int width = Width;
        var values = new float[rows.Count * width];
        for (int i = 0; i < rows.Count; i++)
        {
            var row = table.Rows[rows[i]];
            for (int j = 0; j < _columns.Length; j++)
            {
                var s = Value(row, idx[j], _parser);
                var col = _columns[j];
                if (s is null) { values[i * width + j] = float.NaN; continue; }
                double v = col.Type == ColumnType.Categorical ? _vocabularies[col.Name].Transform(s) : ValueParser.ToNumber(s, col.Type);
                if (double.IsNaN(v))
                    throw new DataFormatException(table.Source, table.Lines[rows[i]], col.Name, ValueParser.Problem(s, col.Type));
                values[i * width + j] = (float)v;
            }
            for (int k = 0, offset = _columns.Length; k < _text.Length; offset += _text[k].Tfidf.Terms.Length, k++)
                foreach (var (column, value) in _text[k].Tfidf.Transform(Value(row, textIdx[k], _parser), offset))
                    values[i * width + column] = value;                                        // absent terms stay 0, not missing
        }
        return new DenseMatrix(values, rows.Count, width);
    }

    /// <summary>The fitted state as JSON (columns, category vocabularies, missing markers).</summary>
    public JsonObject ToJson() => new()
    {
        ["columns"] = new JsonArray(_columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type.ToString() }).ToArray()),
        ["vocabularies"] = new JsonObject(_vocabularies.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonArray(kv.Value.Categories.Select(v => (JsonNode)v!).ToArray())))),
        ["missing_markers"] = new JsonArray(_parser.MissingMarkers.Select(m => (JsonNode)m!).ToArray()),
        ["text"] = new JsonArray(_text.Select(t => (JsonNode)t.Tfidf.WriteTo(new JsonObject { ["name"] = t.Name })).ToArray()),
    };

    /// <summary>Reads what <see cref="ToJson"/> wrote; every categorical column needs its vocabulary of distinct categories.</summary>
    public static TreeFeatures FromJson(JsonFields json)
    {
        var columns = json.Objects("columns").Select(c =>
        {
            var type = c.Enum<ColumnType>("type");
            if (type == ColumnType.Text) throw c.Error("type", "a text column is not a table feature (its terms are listed under \"text\").");
            return new ColumnSchema(c.String("name"), ColumnRole.Feature, type);
        }).ToArray();
        var vocabularies = json.Object("vocabularies");
        var vocab = new Dictionary<string, CategoricalVocabulary>();
        foreach (var c in columns.Where(c => c.Type == ColumnType.Categorical))
        {
            if (!vocabularies.Has(c.Name)) throw vocabularies.Error(c.Name, "the categorical column has no vocabulary.");
            var categories = vocabularies.Strings(c.Name);
            if (categories.Distinct(StringComparer.Ordinal).Count() != categories.Length) throw vocabularies.Error(c.Name, "a category appears twice.");
            vocab[c.Name] = new CategoricalVocabulary(categories);
        }
        var text = json.Has("text") ? json.Objects("text").Select(n => (n.String("name"), TfidfVectorizer.FromJson(n))).ToArray() : [];
        return new TreeFeatures(columns, vocab, new ValueParser(json.Strings("missing_markers")), text);
    }

    private static int Index(RawTable table, string name) => table.IndexOf(name) is var i and >= 0 ? i
        : throw new DataFormatException(table.Source, 1, name, "the column is missing.");

    private static string? Value(string[] row, int idx, ValueParser parser)
    {
        var s = idx < row.Length ? row[idx] : null;
        return parser.IsMissing(s) ? null : s!.Trim();
    }
}
