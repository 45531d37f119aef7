using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Features;

/// <summary>Inputs of a feature-tokenizer model for a batch of rows.</summary>
/// <param name="Numeric">[rows, numeric features] after a rank-Gauss transform (missing = 0).</param>
/// <param name="Categorical">[rows, categorical features] vocabulary ids (0 missing, 1 unknown).</param>
/// <param name="Rows">Number of rows.</param>
/// <param name="NumericWidth">Values per numeric feature: 1, or the number of piecewise-linear bins (then Numeric is [rows, features, width]).</param>
public sealed record TokenInputs(float[] Numeric, int[] Categorical, int Rows, int NumericWidth = 1)
{
    /// <summary>The inputs of <paramref name="rows"/> (indices into these rows), in that order.</summary>
    public TokenInputs SelectRows(IReadOnlyList<int> rows)
    {
        int nn = Numeric.Length / Math.Max(1, Rows), nc = Categorical.Length / Math.Max(1, Rows);
        var numeric = new float[rows.Count * nn]; var categorical = new int[rows.Count * nc];
        for (int i = 0; i < rows.Count; i++)
        {
            Numeric.AsSpan(rows[i] * nn, nn).CopyTo(numeric.AsSpan(i * nn));
            Categorical.AsSpan(rows[i] * nc, nc).CopyTo(categorical.AsSpan(i * nc));
        }
        return new TokenInputs(numeric, categorical, rows.Count, NumericWidth);
    }
}

/// <summary>
/// Per-feature inputs for transformers over table rows, fitted on training rows: each numeric column
/// through a rank-Gauss quantile transform, plus a 0/1 missing-indicator feature when the column has
/// missing values in training; each categorical column as vocabulary ids. Booleans and dates count as numeric.
/// </summary>
public sealed class TokenFeatures
{
    private readonly (int Index, string Name, ColumnType Type, QuantileTransformer Transform, bool Indicator)[] _numeric;
    private readonly (int Index, string Name, CategoricalVocabulary Vocabulary)[] _categorical;
    private readonly PiecewiseLinearEncoder[]? _piecewise;   // per numeric column, when numerics are piecewise-linear encoded
    private readonly ValueParser _parser;

    private TokenFeatures((int, string, ColumnType, QuantileTransformer, bool)[] numeric, (int, string, CategoricalVocabulary)[] categorical,
                          PiecewiseLinearEncoder[]? piecewise, int bins, ValueParser parser)
    {
        _numeric = numeric; _categorical = categorical; _piecewise = piecewise; NumericWidth = piecewise is null ? 1 : bins; _parser = parser;
    }

    /// <summary>Values per numeric input (1, or the piecewise-linear bins).</summary>
    public int NumericWidth { get; }

    /// <summary>Number of numeric inputs (indicators included).</summary>
    public int NumericCount => _numeric.Length + _numeric.Count(n => n.Indicator);
    /// <summary>For each numeric input, whether it is a missing indicator (then the input before it is that column's value).</summary>
    public IReadOnlyList<bool> NumericIsIndicator => _numeric.SelectMany(n => n.Indicator ? new[] { false, true } : [false]).ToArray();
    /// <summary>Names of the numeric inputs ("col", "col (missing)") then the categorical ones.</summary>
    public IReadOnlyList<string> InputNames => _numeric.SelectMany(n => n.Indicator ? new[] { n.Name, n.Name + " (missing)" } : [n.Name])
                                                       .Concat(_categorical.Select(c => c.Name)).ToArray();
    /// <summary>The table column each input comes from (a value and its missing indicator share one), in input order.</summary>
    public IReadOnlyList<string> InputColumns => _numeric.SelectMany(n => n.Indicator ? new[] { n.Name, n.Name } : [n.Name])
                                                         .Concat(_categorical.Select(c => c.Name)).ToArray();
    /// <summary>The table columns these features read, with the type each is read as.</summary>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => _numeric.Select(n => (n.Name, n.Type)).Concat(_categorical.Select(c => (c.Name, ColumnType.Categorical)));
    /// <summary>Vocabulary size of each categorical input.</summary>
    public IReadOnlyList<int> CategorySizes => _categorical.Select(c => c.Vocabulary.Size).ToArray();

    /// <summary>
    /// Fits on training rows. With <paramref name="piecewiseBins"/> &gt; 0, numbers are encoded
    /// piecewise-linearly over that many quantile bins (Gorishniy et al. 2022) instead of one
    /// rank-Gauss value; missing-indicator inputs then use the first slot.
    /// </summary>
    public static TokenFeatures Fit(RawTable table, TableSchema schema, IReadOnlyList<int> trainRows, int piecewiseBins = 0)
    {
        var piecewise = new List<PiecewiseLinearEncoder>();
        var parser = new ValueParser(schema.MissingMarkers);
        var numeric = new List<(int, string, ColumnType, QuantileTransformer, bool)>();
        var categorical = new List<(int, string, CategoricalVocabulary)>();
        foreach (var c in schema.Columns.Where(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text))
        {
            int idx = table.IndexOf(c.Name);
            if (idx < 0) throw new DataFormatException(table.Source, 1, c.Name, "the column is missing.");
            if (c.Type == ColumnType.Categorical)
                categorical.Add((idx, c.Name, CategoricalVocabulary.Fit(trainRows.Select(r => Cell(table.Rows[r], idx, parser)))));
            else
            {
                var values = trainRows.Select(r => Number(table, r, c.Name, c.Type, Cell(table.Rows[r], idx, parser))).ToArray();
                numeric.Add((idx, c.Name, c.Type, QuantileTransformer.Fit(values, normal: true), values.Any(double.IsNaN)));
                if (piecewiseBins > 0) piecewise.Add(PiecewiseLinearEncoder.Fit(values, piecewiseBins));
            }
        }
        return new TokenFeatures([.. numeric], [.. categorical], piecewiseBins > 0 ? [.. piecewise] : null, piecewiseBins, parser);
    }

    private static string? Cell(string[] row, int idx, ValueParser parser) { var s = idx < row.Length ? row[idx] : null; return parser.IsMissing(s) ? null : s!.Trim(); }

    /// <summary>A cell's number (NaN when missing); a value that is not one is an error naming its line and column, never a silent missing value.</summary>
    private static double Number(RawTable table, int row, string column, ColumnType type, string? s)
    {
        if (s is null) return double.NaN;
        double v = ValueParser.ToNumber(s, type);
        return double.IsNaN(v) ? throw new DataFormatException(table.Source, table.Lines[row], column, ValueParser.Problem(s, type)) : v;
    }

    /// <summary>The inputs of <paramref name="rows"/>; columns are found by name, so any column order works.</summary>
    public TokenInputs Transform(RawTable table, IReadOnlyList<int> rows)
    {
        int Index(string name) => table.IndexOf(name) is var i and >= 0 ? i : throw new DataFormatException(table.Source, 1, name, "the column is missing.");
        var numericIdx = _numeric.Select(n => Index(n.Name)).ToArray();
        var categoricalIdx = _categorical.Select(c => Index(c.Name)).ToArray();
        int nn = NumericCount, nc = _categorical.Length, w = NumericWidth;
        var num = new float[rows.Count * nn * w]; var cat = new int[rows.Count * nc];
        for (int i = 0; i < rows.Count; i++)
        {
            var row = table.Rows[rows[i]];
            int k = 0;
            for (int c = 0; c < _numeric.Length; c++)
            {
                var (_, name, type, transform, indicator) = _numeric[c];
                double v = Number(table, rows[i], name, type, Cell(row, numericIdx[c], _parser));
                var slot = num.AsSpan((i * nn + k++) * w, w);
                if (_piecewise is null) slot[0] = (float)transform.Transform(v);
                else _piecewise[c].Transform(v, slot[.._piecewise[c].Size]);   // fewer distinct values: fewer bins, rest stays 0
                if (indicator) num[(i * nn + k++) * w] = double.IsNaN(v) ? 1 : 0;
            }
            for (int j = 0; j < nc; j++) cat[i * nc + j] = _categorical[j].Vocabulary.Transform(Cell(row, categoricalIdx[j], _parser));
        }
        return new TokenInputs(num, cat, rows.Count, w);
    }

    /// <summary>The fitted state as JSON (transforms, vocabularies, piecewise edges, missing markers).</summary>
    public JsonObject ToJson() => new()
    {
        ["numeric"] = new JsonArray(_numeric.Select(n => (JsonNode)new JsonObject
        {
            ["name"] = n.Name, ["type"] = n.Type.ToString(), ["indicator"] = n.Indicator, ["normal"] = n.Transform.Normal,
            ["quantiles"] = new JsonArray(n.Transform.Quantiles.Select(q => (JsonNode)q).ToArray()),
        }).ToArray()),
        ["categorical"] = new JsonArray(_categorical.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name, ["categories"] = new JsonArray(c.Vocabulary.Categories.Select(v => (JsonNode)v!).ToArray()),
        }).ToArray()),
        ["piecewise_bins"] = _piecewise is null ? 0 : NumericWidth,
        ["piecewise_edges"] = _piecewise is null ? null : new JsonArray(_piecewise.Select(p => (JsonNode)new JsonArray(p.Edges.Select(e => (JsonNode)e).ToArray())).ToArray()),
        ["missing_markers"] = new JsonArray(_parser.MissingMarkers.Select(m => (JsonNode)m!).ToArray()),
    };

    /// <summary>
    /// Reads what <see cref="ToJson"/> wrote: quantiles sorted, piecewise edges strictly increasing and
    /// no more bins than the encoding is wide, categories distinct, every number finite.
    /// </summary>
    public static TokenFeatures FromJson(JsonFields json)
    {
        var numeric = json.Objects("numeric").Select(n =>
        {
            var type = n.Enum<ColumnType>("type");
            if (type is not (ColumnType.Numeric or ColumnType.Boolean or ColumnType.DateTime)) throw n.Error("type", $"{type} is not a numeric type.");
            var quantiles = n.Numbers("quantiles");
            if (quantiles.Length == 0) throw n.Error("quantiles", "empty.");
            for (int i = 1; i < quantiles.Length; i++) if (quantiles[i] < quantiles[i - 1]) throw n.Error($"quantiles[{i}]", "the quantiles must not decrease.");
            return (-1, n.String("name"), type, new QuantileTransformer(quantiles, n.Bool("normal")), n.Bool("indicator"));
        }).ToArray();
        var categorical = json.Objects("categorical").Select(c =>
        {
            var categories = c.Strings("categories");
            if (categories.Distinct(StringComparer.Ordinal).Count() != categories.Length) throw c.Error("categories", "a category appears twice.");
            return (-1, c.String("name"), new CategoricalVocabulary(categories));
        }).ToArray();
        int bins = json.Int("piecewise_bins", 0, 0, 1024);
        PiecewiseLinearEncoder[]? piecewise = null;
        if (bins > 0)
        {
            var edges = json.NumberArrays("piecewise_edges", numeric.Length);
            for (int c = 0; c < edges.Count; c++)
            {
                string field = $"piecewise_edges[{c}]";
                if (edges[c].Length < 2 || edges[c].Length - 1 > bins) throw json.Error(field, $"{edges[c].Length} edges; between 2 and piecewise_bins + 1 = {bins + 1}.");
                for (int i = 1; i < edges[c].Length; i++) if (!(edges[c][i] > edges[c][i - 1])) throw json.Error(field, "the edges must increase.");
            }
            piecewise = edges.Select(e => new PiecewiseLinearEncoder(e)).ToArray();
        }
        return new TokenFeatures(numeric, categorical, piecewise, bins, new ValueParser(json.Strings("missing_markers")));
    }
}
