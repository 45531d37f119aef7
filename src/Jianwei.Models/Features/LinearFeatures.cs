using System.Globalization;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Features;

/// <summary>
/// Sparse features for linear models, fitted on training rows: numbers median-imputed and
/// standardized, each with a missing indicator; booleans 0/1 with an indicator; categories one-hot
/// (unseen ones get no column, missing is a category of its own); texts as TF-IDF (character 1–3-grams
/// for Chinese text, word 1–2-grams otherwise).
/// </summary>
public sealed class LinearFeatures
{
    // Parts name their column; its position is looked up in each table transformed (files may order columns differently).
    private sealed record NumericPart(string Name, ColumnType Type, double Median, Standardizer Scale, int Column, int MissingColumn);
    private sealed record CategoricalPart(string Name, Dictionary<string, int> Columns, int MissingColumn);
    private sealed record TextPart(string Name, TfidfVectorizer Tfidf, int Offset);

    private readonly List<NumericPart> _numeric = new();
    private readonly List<CategoricalPart> _categorical = new();
    private readonly List<TextPart> _text = new();
    private readonly ValueParser _parser;

    /// <summary>Number of columns.</summary>
    public int Columns { get; private set; }

    private LinearFeatures(ValueParser parser) => _parser = parser;

    /// <summary>Fits on <paramref name="trainRows"/>.</summary>
    public static LinearFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, int minDf = 2, int maxTextFeatures = 50_000)
    {
        var f = new LinearFeatures(new ValueParser(schema.MissingMarkers));
        int col = 0;
        foreach (var c in schema.Columns.Where(c => c.Role == ColumnRole.Feature))
        {
            int idx = table.IndexOf(c.Name);
            if (idx < 0) throw new DataFormatException(table.Source, 1, c.Name, "the column is missing.");
            var values = trainRows.Select(r => f.Cell(table.Rows[r], idx)).ToList();
            switch (c.Type)
            {
                case ColumnType.Numeric or ColumnType.Boolean or ColumnType.DateTime:
                    var nums = values.Select(v => v is null ? double.NaN : ValueParser.ToNumber(v, c.Type)).ToArray();
                    var present = nums.Where(double.IsFinite).Order().ToArray();
                    double median = present.Length == 0 ? 0 : present.Length % 2 == 1 ? present[present.Length / 2] : (present[present.Length / 2 - 1] + present[present.Length / 2]) / 2;
                    var scale = Standardizer.Fit(nums.Select(v => double.IsFinite(v) ? v : median));
                    f._numeric.Add(new NumericPart(c.Name, c.Type, median, scale, col, col + 1));
                    col += 2;
                    break;
                case ColumnType.Categorical:
                    var cats = values.Where(v => v is not null).Distinct().Order(StringComparer.Ordinal).ToArray();
                    f._categorical.Add(new CategoricalPart(c.Name, cats.Select((v, i) => (v!, i)).ToDictionary(x => x.Item1, x => col + x.i), col + cats.Length));
                    col += cats.Length + 1;
                    break;
                case ColumnType.Text:
                    bool chinese = IsMostlyChinese(values);
                    var tfidf = chinese ? TfidfVectorizer.Fit(values, TextAnalyzer.Char, 1, 3, minDf, maxTextFeatures) : TfidfVectorizer.Fit(values, TextAnalyzer.Word, 1, 2, minDf, maxTextFeatures);
                    f._text.Add(new TextPart(c.Name, tfidf, col));
                    col += tfidf.Terms.Length;
                    break;
            }
        }
        f.Columns = col;
        return f;
    }

    private string? Cell(string[] row, int idx) { var s = idx < row.Length ? row[idx] : null; return _parser.IsMissing(s) ? null : s!.Trim(); }

    /// <summary>The sparse feature rows of <paramref name="rows"/>.</summary>
    public SparseMatrix Transform(RawTable table, IReadOnlyList<int> rows)
    {
        int Index(string name) => table.IndexOf(name) is var i and >= 0 ? i : throw new DataFormatException(table.Source, 1, name, "the column is missing.");
        var numericIdx = _numeric.Select(p => Index(p.Name)).ToArray();
        var categoricalIdx = _categorical.Select(p => Index(p.Name)).ToArray();
        var textIdx = _text.Select(p => Index(p.Name)).ToArray();
        var result = new List<IReadOnlyList<(int, float)>>(rows.Count);
        foreach (int r in rows)
        {
            var row = table.Rows[r];
            var entries = new List<(int, float)>();
            for (int k = 0; k < _numeric.Count; k++)
            {
                var p = _numeric[k];
                var s = Cell(row, numericIdx[k]);
                double v = s is null ? double.NaN : ValueParser.ToNumber(s, p.Type);
                if (s is not null && double.IsNaN(v))
                    throw new DataFormatException(table.Source, table.Lines[r], p.Name, ValueParser.Problem(s, p.Type));
                entries.Add((p.Column, (float)p.Scale.Transform(double.IsFinite(v) ? v : p.Median)));
                if (!double.IsFinite(v)) entries.Add((p.MissingColumn, 1f));
            }
            for (int k = 0; k < _categorical.Count; k++)
            {
                var p = _categorical[k];
                var s = Cell(row, categoricalIdx[k]);
                if (s is null) entries.Add((p.MissingColumn, 1f));
                else if (p.Columns.TryGetValue(s, out int c)) entries.Add((c, 1f));   // unseen categories: no column
            }
            for (int k = 0; k < _text.Count; k++) entries.AddRange(_text[k].Tfidf.Transform(Cell(row, textIdx[k]), _text[k].Offset));
            result.Add(entries);
        }
        return SparseMatrix.FromRows(result, Columns);
    }

    /// <summary>The table columns these features read, with the type each is read as.</summary>
    public IEnumerable<(string Name, ColumnType Type)> Inputs =>
        _numeric.Select(p => (p.Name, p.Type)).Concat(_categorical.Select(p => (p.Name, ColumnType.Categorical))).Concat(_text.Select(p => (p.Name, ColumnType.Text)));

    /// <summary>Human-readable name of each column ("income", "income (missing)", "industry=retail", "profile:tfidf 信用").</summary>
    public string[] ColumnNames()
    {
        var names = new string[Columns];
        foreach (var p in _numeric) { names[p.Column] = p.Name; names[p.MissingColumn] = p.Name + " (missing)"; }
        foreach (var p in _categorical) { foreach (var (v, c) in p.Columns) names[c] = $"{p.Name}={v}"; names[p.MissingColumn] = p.Name + " (missing)"; }
        foreach (var p in _text) for (int i = 0; i < p.Tfidf.Terms.Length; i++) names[p.Offset + i] = $"{p.Name}:{p.Tfidf.Terms[i]}";
        return names;
    }

    /// <summary>The source column of each feature column.</summary>
    public string[] ColumnSources()
    {
        var names = new string[Columns];
        foreach (var p in _numeric) { names[p.Column] = p.Name; names[p.MissingColumn] = p.Name; }
        foreach (var p in _categorical) { foreach (var (_, c) in p.Columns) names[c] = p.Name; names[p.MissingColumn] = p.Name; }
        foreach (var p in _text) for (int i = 0; i < p.Tfidf.Terms.Length; i++) names[p.Offset + i] = p.Name;
        return names;
    }

    /// <summary>The fitted state as JSON.</summary>
    public JsonObject ToJson() => new()
    {
        ["columns"] = Columns,
        ["missing_markers"] = new JsonArray(_parser.MissingMarkers.Select(m => (JsonNode)m!).ToArray()),
        ["numeric"] = new JsonArray(_numeric.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name, ["type"] = p.Type.ToString(), ["median"] = p.Median, ["mean"] = p.Scale.Mean, ["std"] = p.Scale.Std,
            ["column"] = p.Column, ["missing_column"] = p.MissingColumn,
        }).ToArray()),
        ["categorical"] = new JsonArray(_categorical.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name, ["missing_column"] = p.MissingColumn,
            ["categories"] = new JsonObject(p.Columns.OrderBy(kv => kv.Value).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        }).ToArray()),
        ["text"] = new JsonArray(_text.Select(p => (JsonNode)p.Tfidf.WriteTo(new JsonObject { ["name"] = p.Name, ["offset"] = p.Offset })).ToArray()),
    };

    /// <summary>
    /// Reads what <see cref="ToJson"/> wrote, checking that every index lies inside the
    /// <c>columns</c> it declares and every number is finite (a standard deviation positive).
    /// </summary>
    public static LinearFeatures FromJson(JsonFields json)
    {
        int columns = json.Int("columns", 0, 50_000_000);
        var f = new LinearFeatures(new ValueParser(json.Strings("missing_markers"))) { Columns = columns };
        var used = new bool[columns];
        int Claim(JsonFields at, string field, int index)
        {
            if (used[index]) throw at.Error(field, $"column {index} is used twice.");
            used[index] = true;
            return index;
        }
        foreach (var n in json.Objects("numeric"))
        {
            var type = n.Enum<ColumnType>("type");
            if (type is not (ColumnType.Numeric or ColumnType.Boolean or ColumnType.DateTime)) throw n.Error("type", $"{type} is not a numeric type.");
            f._numeric.Add(new NumericPart(n.String("name"), type, n.Number("median"), new Standardizer(n.Number("mean"), n.Number("std", 1e-12)),
                Claim(n, "column", n.Int("column", 0, columns - 1)), Claim(n, "missing_column", n.Int("missing_column", 0, columns - 1))));
        }
        foreach (var n in json.Objects("categorical"))
        {
            var categories = n.Object("categories");
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (name, value) in categories.Properties()) map[name] = Claim(categories, name, categories.MapInt(name, value, 0, columns - 1));
            f._categorical.Add(new CategoricalPart(n.String("name"), map, Claim(n, "missing_column", n.Int("missing_column", 0, columns - 1))));
        }
        foreach (var n in json.Objects("text"))
        {
            var tfidf = TfidfVectorizer.FromJson(n);
            int offset = n.Int("offset", 0, columns);
            if ((long)offset + tfidf.Terms.Length > columns) throw n.Error("terms", $"{tfidf.Terms.Length} terms from column {offset} run past the {columns} columns.");
            for (int i = 0; i < tfidf.Terms.Length; i++) Claim(n, "offset", offset + i);
            f._text.Add(new TextPart(n.String("name"), tfidf, offset));
        }
        return f;
    }

    /// <summary>Whether most of the first 500 non-missing texts contain CJK ideographs (then character n-grams suit them).</summary>
    internal static bool IsMostlyChinese(IReadOnlyList<string?> values) =>
        values.Take(500).Count(v => v is not null && v.Any(ch => ch is >= '\u4E00' and <= '\u9FFF')) > values.Take(500).Count(v => v is not null) / 2;
}
