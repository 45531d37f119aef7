using Jianwei.Data;

namespace Jianwei.Models.Features;

/// <summary>
/// Sparse features for linear models, fitted on training rows: numbers median-imputed and
/// standardized, each with a missing indicator; booleans 0/1 with an indicator; categories one-hot
/// (unseen ones get no column, missing is a category of its own); texts as TF-IDF (character 1–3-grams
/// for Chinese text, word 1–2-grams otherwise).
/// </summary>
public sealed class LinearFeatures
{
    private sealed record NumericPart(int Index, string Name, ColumnType Type, double Median, Standardizer Scale, int Column, int MissingColumn);
    private sealed record CategoricalPart(int Index, string Name, Dictionary<string, int> Columns, int MissingColumn);
    private sealed record TextPart(int Index, string Name, TfidfVectorizer Tfidf, int Offset);

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
                    f._numeric.Add(new NumericPart(idx, c.Name, c.Type, median, scale, col, col + 1));
                    col += 2;
                    break;
                case ColumnType.Categorical:
                    var cats = values.Where(v => v is not null).Distinct().Order(StringComparer.Ordinal).ToArray();
                    f._categorical.Add(new CategoricalPart(idx, c.Name, cats.Select((v, i) => (v!, i)).ToDictionary(x => x.Item1, x => col + x.i), col + cats.Length));
                    col += cats.Length + 1;
                    break;
                case ColumnType.Text:
                    bool chinese = values.Take(500).Count(v => v is not null && v.Any(ch => ch is >= '\u4E00' and <= '\u9FFF')) > values.Take(500).Count(v => v is not null) / 2;
                    var tfidf = chinese ? TfidfVectorizer.Fit(values, TextAnalyzer.Char, 1, 3, minDf, maxTextFeatures) : TfidfVectorizer.Fit(values, TextAnalyzer.Word, 1, 2, minDf, maxTextFeatures);
                    f._text.Add(new TextPart(idx, c.Name, tfidf, col));
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
        var result = new List<IReadOnlyList<(int, float)>>(rows.Count);
        foreach (int r in rows)
        {
            var row = table.Rows[r];
            var entries = new List<(int, float)>();
            foreach (var p in _numeric)
            {
                var s = Cell(row, p.Index);
                double v = s is null ? double.NaN : ValueParser.ToNumber(s, p.Type);
                if (s is not null && double.IsNaN(v))
                    throw new DataFormatException(table.Source, table.Lines[r], p.Name, $"'{s}' is not a {p.Type.ToString().ToLowerInvariant()} value.");
                entries.Add((p.Column, (float)p.Scale.Transform(double.IsFinite(v) ? v : p.Median)));
                if (!double.IsFinite(v)) entries.Add((p.MissingColumn, 1f));
            }
            foreach (var p in _categorical)
            {
                var s = Cell(row, p.Index);
                if (s is null) entries.Add((p.MissingColumn, 1f));
                else if (p.Columns.TryGetValue(s, out int c)) entries.Add((c, 1f));   // unseen categories: no column
            }
            foreach (var p in _text) entries.AddRange(p.Tfidf.Transform(Cell(row, p.Index), p.Offset));
            result.Add(entries);
        }
        return SparseMatrix.FromRows(result, Columns);
    }
}
