using System.Text.Json.Nodes;
using Jianwei.Data;

namespace Jianwei.Models.Features;

/// <summary>Inputs of a feature-tokenizer model for a batch of rows.</summary>
/// <param name="Numeric">[rows, numeric features] after a rank-Gauss transform (missing = 0).</param>
/// <param name="Categorical">[rows, categorical features] vocabulary ids (0 missing, 1 unknown).</param>
/// <param name="Rows">Number of rows.</param>
/// <param name="NumericWidth">Values per numeric feature: 1, or the number of piecewise-linear bins (then Numeric is [rows, features, width]).</param>
public sealed record TokenInputs(float[] Numeric, int[] Categorical, int Rows, int NumericWidth = 1);

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
                var values = trainRows.Select(r => Number(Cell(table.Rows[r], idx, parser), c.Type)).ToArray();
                numeric.Add((idx, c.Name, c.Type, QuantileTransformer.Fit(values, normal: true), values.Any(double.IsNaN)));
                if (piecewiseBins > 0) piecewise.Add(PiecewiseLinearEncoder.Fit(values, piecewiseBins));
            }
        }
        return new TokenFeatures([.. numeric], [.. categorical], piecewiseBins > 0 ? [.. piecewise] : null, piecewiseBins, parser);
    }

    private static string? Cell(string[] row, int idx, ValueParser parser) { var s = idx < row.Length ? row[idx] : null; return parser.IsMissing(s) ? null : s!.Trim(); }

    private static double Number(string? s, ColumnType type) => s is null ? double.NaN : ValueParser.ToNumber(s, type);

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
                var (_, _, type, transform, indicator) = _numeric[c];
                double v = Number(Cell(row, numericIdx[c], _parser), type);
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

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    public static TokenFeatures FromJson(JsonObject json)
    {
        var numeric = json["numeric"]!.AsArray().Select(n => (-1, n!["name"]!.GetValue<string>(), Enum.Parse<ColumnType>(n["type"]!.GetValue<string>()),
            new QuantileTransformer(n["quantiles"]!.AsArray().Select(q => q!.GetValue<double>()).ToArray(), n["normal"]!.GetValue<bool>()), n["indicator"]!.GetValue<bool>())).ToArray();
        var categorical = json["categorical"]!.AsArray().Select(c => (-1, c!["name"]!.GetValue<string>(),
            new CategoricalVocabulary(c["categories"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray()))).ToArray();
        int bins = json["piecewise_bins"]?.GetValue<int>() ?? 0;
        var piecewise = json["piecewise_edges"] is JsonArray edges
            ? edges.Select(e => new PiecewiseLinearEncoder(e!.AsArray().Select(v => v!.GetValue<double>()).ToArray())).ToArray() : null;
        return new TokenFeatures(numeric, categorical, piecewise, bins, new ValueParser(json["missing_markers"]!.AsArray().Select(m => m!.GetValue<string>())));
    }
}
