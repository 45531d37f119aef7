using System.Globalization;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Features;

/// <summary>Which features a linear model reads (<see cref="LinearFeatures.Fit(RawTable, TableSchema, IReadOnlyList{int}, LinearView, IReadOnlyList{int})"/>).</summary>
public enum LinearView
{
    /// <summary>Standardized numbers, one-hot categories, TF-IDF of texts.</summary>
    Plain,
    /// <summary>As plain, with texts as naive Bayes–scaled n-grams (<see cref="LinearFeatures.FitNaiveBayes"/>).</summary>
    NaiveBayesText,
    /// <summary>As plain, with numbers cut into quantile bins (<see cref="LinearFeatures.FitBinned"/>).</summary>
    BinnedNumbers,
}

/// <summary>
/// Sparse features for linear models, fitted on training rows: numbers median-imputed and
/// standardized, each with a missing indicator; booleans 0/1 with an indicator; categories one-hot
/// (unseen ones get no column, missing is a category of its own); texts as TF-IDF (character 1–3-grams
/// for Chinese text, word 1–2-grams otherwise). <see cref="FitNaiveBayes"/> weighs text terms as NBSVM
/// does instead (Wang and Manning 2012): wider n-grams, each term's TF-IDF scaled by its naive Bayes
/// log-count ratio, so that a linear model starts from what each term says about the label.
/// <see cref="FitBinned"/> cuts each number at its training quantiles into one-hot bins instead, as a
/// credit scorecard does, so that a linear model can bend along each number.
/// </summary>
public sealed class LinearFeatures
{
    // Parts name their column; its position is looked up in each table transformed (files may order columns differently).
    // Edges: where the bins of a binned number start (bin b at Column + b holds values in [Edges[b-1], Edges[b])); null: standardized at Column.
    private sealed record NumericPart(string Name, ColumnType Type, double Median, Standardizer Scale, int Column, int MissingColumn, double[]? Edges = null);
    private sealed record CategoricalPart(string Name, Dictionary<string, int> Columns, int MissingColumn);
    // Ratio: the naive Bayes log-count ratio each term's value is scaled by (null: plain TF-IDF).
    private sealed record TextPart(string Name, TfidfVectorizer Tfidf, int Offset, double[]? Ratio = null);

    private readonly List<NumericPart> _numeric = new();
    private readonly List<CategoricalPart> _categorical = new();
    private readonly List<TextPart> _text = new();
    private readonly ValueParser _parser;

    /// <summary>Number of columns.</summary>
    public int Columns { get; private set; }

    private LinearFeatures(ValueParser parser) => _parser = parser;

    /// <summary>Fits on <paramref name="trainRows"/>.</summary>
    public static LinearFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, int minDf = 2, int maxTextFeatures = 50_000) =>
        Fit(table, schema, trainRows, LinearView.Plain, null, minDf, maxTextFeatures, 0);

    /// <summary>Fits the <paramref name="view"/> on <paramref name="trainRows"/> (<paramref name="labels"/>: 0/1 for every row of the table; the naive Bayes view reads them).</summary>
    public static LinearFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, LinearView view, IReadOnlyList<int> labels) => view switch
    {
        LinearView.NaiveBayesText => FitNaiveBayes(table, schema, trainRows, labels),
        LinearView.BinnedNumbers => FitBinned(table, schema, trainRows),
        _ => Fit(table, schema, trainRows),
    };

    /// <summary>
    /// Fits on <paramref name="trainRows"/> with text terms weighed as NBSVM does: word 1–3-grams
    /// (character 1–4-grams for Chinese), up to 100,000 per column, each term's TF-IDF times
    /// r = ln((p / ‖p‖₁) / (q / ‖q‖₁)), where p and q count the positive and negative training rows that
    /// contain the term, plus one. <paramref name="labels"/>: 0/1 for every row of the table.
    /// </summary>
    public static LinearFeatures FitNaiveBayes(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, IReadOnlyList<int> labels) =>
        Fit(table, schema, trainRows, LinearView.NaiveBayesText, labels, 2, 100_000, 0);

    /// <summary>
    /// Fits on <paramref name="trainRows"/> with each number (and date) cut into up to <paramref name="bins"/>
    /// one-hot bins at the deciles of its training values (equal quantiles merged), a missing value
    /// in no bin but its indicator; categories and texts as <see cref="Fit(RawTable, TableSchema, IReadOnlyList{int}, int, int)"/>.
    /// </summary>
    public static LinearFeatures FitBinned(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, int bins = 10) =>
        Fit(table, schema, trainRows, LinearView.BinnedNumbers, null, 2, 50_000, bins);

    // labels: read by the naive Bayes view only; bins: by the binned view only.
    private static LinearFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, LinearView view, IReadOnlyList<int>? labels, int minDf, int maxTextFeatures, int bins)
    {
        var f = new LinearFeatures(new ValueParser(schema.MissingMarkers));
        int col = 0;
        int extra = view == LinearView.NaiveBayesText ? 1 : 0;   // one more word, one more character, in each n-gram
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
                    if (view == LinearView.BinnedNumbers && c.Type != ColumnType.Boolean)
                    {
                        var edges = QuantileEdges(present, bins);
                        f._numeric.Add(new NumericPart(c.Name, c.Type, median, scale, col, col + edges.Length + 1, edges));
                        col += edges.Length + 2;
                    }
                    else
                    {
                        f._numeric.Add(new NumericPart(c.Name, c.Type, median, scale, col, col + 1));
                        col += 2;
                    }
                    break;
                case ColumnType.Categorical:
                    var cats = values.Where(v => v is not null).Distinct().Order(StringComparer.Ordinal).ToArray();
                    f._categorical.Add(new CategoricalPart(c.Name, cats.Select((v, i) => (v!, i)).ToDictionary(x => x.Item1, x => col + x.i), col + cats.Length));
                    col += cats.Length + 1;
                    break;
                case ColumnType.Text:
                    bool chinese = IsMostlyChinese(values);
                    var tfidf = chinese ? TfidfVectorizer.Fit(values, TextAnalyzer.Char, 1, 3 + extra, minDf, maxTextFeatures) : TfidfVectorizer.Fit(values, TextAnalyzer.Word, 1, 2 + extra, minDf, maxTextFeatures);
                    var ratio = view == LinearView.NaiveBayesText ? NaiveBayesRatio(tfidf, values, trainRows.Select(r => labels![r]).ToList()) : null;
                    f._text.Add(new TextPart(c.Name, tfidf, col, ratio));
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
                if (p.Edges is not null)
                {
                    if (double.IsFinite(v)) entries.Add((p.Column + BinOf(p.Edges, v), 1f));
                }
                else entries.Add((p.Column, (float)p.Scale.Transform(double.IsFinite(v) ? v : p.Median)));
                if (!double.IsFinite(v)) entries.Add((p.MissingColumn, 1f));
            }
            for (int k = 0; k < _categorical.Count; k++)
            {
                var p = _categorical[k];
                var s = Cell(row, categoricalIdx[k]);
                if (s is null) entries.Add((p.MissingColumn, 1f));
                else if (p.Columns.TryGetValue(s, out int c)) entries.Add((c, 1f));   // unseen categories: no column
            }
            for (int k = 0; k < _text.Count; k++)
            {
                var p = _text[k];
                var terms = p.Tfidf.Transform(Cell(row, textIdx[k]), p.Offset);
                entries.AddRange(p.Ratio is null ? terms : terms.Select(e => (e.Column, (float)(e.Value * p.Ratio[e.Column - p.Offset]))));
            }
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
        foreach (var p in _numeric)
        {
            if (p.Edges is { } e)
                for (int b = 0; b <= e.Length; b++)
                    names[p.Column + b] = e.Length == 0 ? p.Name : b == 0 ? FormattableString.Invariant($"{p.Name} < {e[0]:G6}")
                        : b == e.Length ? FormattableString.Invariant($"{p.Name} ≥ {e[b - 1]:G6}") : FormattableString.Invariant($"{p.Name} in [{e[b - 1]:G6}, {e[b]:G6})");
            else names[p.Column] = p.Name;
            names[p.MissingColumn] = p.Name + " (missing)";
        }
        foreach (var p in _categorical) { foreach (var (v, c) in p.Columns) names[c] = $"{p.Name}={v}"; names[p.MissingColumn] = p.Name + " (missing)"; }
        foreach (var p in _text) for (int i = 0; i < p.Tfidf.Terms.Length; i++) names[p.Offset + i] = $"{p.Name}:{p.Tfidf.Terms[i]}";
        return names;
    }

    /// <summary>The source column of each feature column.</summary>
    public string[] ColumnSources()
    {
        var names = new string[Columns];
        foreach (var p in _numeric) { for (int b = 0; b <= (p.Edges?.Length ?? 0); b++) names[p.Column + b] = p.Name; names[p.MissingColumn] = p.Name; }
        foreach (var p in _categorical) { foreach (var (_, c) in p.Columns) names[c] = p.Name; names[p.MissingColumn] = p.Name; }
        foreach (var p in _text) for (int i = 0; i < p.Tfidf.Terms.Length; i++) names[p.Offset + i] = p.Name;
        return names;
    }

    /// <summary>The fitted state as JSON.</summary>
    public JsonObject ToJson() => new()
    {
        ["columns"] = Columns,
        ["missing_markers"] = new JsonArray(_parser.MissingMarkers.Select(m => (JsonNode)m!).ToArray()),
        ["numeric"] = new JsonArray(_numeric.Select(p =>
        {
            var o = new JsonObject
            {
                ["name"] = p.Name, ["type"] = p.Type.ToString(), ["median"] = p.Median, ["mean"] = p.Scale.Mean, ["std"] = p.Scale.Std,
                ["column"] = p.Column, ["missing_column"] = p.MissingColumn,
            };
            if (p.Edges is not null) o["bin_edges"] = new JsonArray(p.Edges.Select(v => (JsonNode)v).ToArray());
            return (JsonNode)o;
        }).ToArray()),
        ["categorical"] = new JsonArray(_categorical.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name, ["missing_column"] = p.MissingColumn,
            ["categories"] = new JsonObject(p.Columns.OrderBy(kv => kv.Value).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        }).ToArray()),
        ["text"] = new JsonArray(_text.Select(p =>
        {
            var o = p.Tfidf.WriteTo(new JsonObject { ["name"] = p.Name, ["offset"] = p.Offset });
            if (p.Ratio is not null) o["naive_bayes_ratio"] = new JsonArray(p.Ratio.Select(v => (JsonNode)v).ToArray());
            return (JsonNode)o;
        }).ToArray()),
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
            var scale = new Standardizer(n.Number("mean"), n.Number("std", 1e-12));
            int column = Claim(n, "column", n.Int("column", 0, columns - 1));
            double[]? edges = null;
            if (n.Has("bin_edges"))
            {
                edges = n.Numbers("bin_edges");
                for (int b = 1; b < edges.Length; b++)
                    if (!(edges[b] > edges[b - 1])) throw n.Error("bin_edges", $"edge {b} ({edges[b]}) is not above the one before ({edges[b - 1]}).");
                if ((long)column + edges.Length >= columns) throw n.Error("bin_edges", $"{edges.Length + 1} bins from column {column} run past the {columns} columns.");
                for (int b = 1; b <= edges.Length; b++) Claim(n, "bin_edges", column + b);
            }
            f._numeric.Add(new NumericPart(n.String("name"), type, n.Number("median"), scale, column, Claim(n, "missing_column", n.Int("missing_column", 0, columns - 1)), edges));
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
            var ratio = n.Has("naive_bayes_ratio") ? n.Numbers("naive_bayes_ratio", tfidf.Terms.Length) : null;
            f._text.Add(new TextPart(n.String("name"), tfidf, offset, ratio));
        }
        return f;
    }

    /// <summary>
    /// Up to <paramref name="bins"/> − 1 edges at the quantiles k / bins of the <paramref name="sorted"/> values
    /// (the value at that rank), each above the smallest value and the edge before, so no bin is empty on the training rows.
    /// </summary>
    private static double[] QuantileEdges(double[] sorted, int bins)
    {
        var edges = new List<double>();
        for (int k = 1; k < bins && sorted.Length > 0; k++)
        {
            double q = sorted[(int)((long)k * sorted.Length / bins)];
            if (q > sorted[0] && (edges.Count == 0 || q > edges[^1])) edges.Add(q);
        }
        return edges.ToArray();
    }

    /// <summary>The bin of <paramref name="v"/>: how many <paramref name="edges"/> are at or below it.</summary>
    private static int BinOf(double[] edges, double v)
    {
        int i = Array.BinarySearch(edges, v);
        return i >= 0 ? i + 1 : ~i;
    }

    /// <summary>Each term's naive Bayes log-count ratio over <paramref name="documents"/> with 0/1 <paramref name="labels"/> (add-one smoothed presence counts).</summary>
    private static double[] NaiveBayesRatio(TfidfVectorizer tfidf, IReadOnlyList<string?> documents, IReadOnlyList<int> labels)
    {
        int terms = tfidf.Terms.Length;
        var p = Enumerable.Repeat(1.0, terms).ToArray();
        var q = Enumerable.Repeat(1.0, terms).ToArray();
        for (int i = 0; i < documents.Count; i++)
            foreach (var (column, _) in tfidf.Transform(documents[i]))
                (labels[i] == 1 ? p : q)[column] += 1;
        double pSum = p.Sum(), qSum = q.Sum();
        return Enumerable.Range(0, terms).Select(j => Math.Log(p[j] / pSum / (q[j] / qSum))).ToArray();
    }

    /// <summary>Whether most of the first 500 non-missing texts contain CJK ideographs (then character n-grams suit them).</summary>
    internal static bool IsMostlyChinese(IReadOnlyList<string?> values) =>
        values.Take(500).Count(v => v is not null && v.Any(ch => ch is >= '\u4E00' and <= '\u9FFF')) > values.Take(500).Count(v => v is not null) / 2;
}
