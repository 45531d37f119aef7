using Jianwei.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Jianwei.Bench;

/// <summary>
/// The .NET peer: the pipeline a .NET developer would write with ML.NET 5 instead of Jianwei — numbers
/// as they are (missing as NaN), categories one-hot encoded, the texts joined and put through
/// <c>FeaturizeText</c> (word and character n-grams, its defaults), everything concatenated into one
/// vector for the <c>LightGbm</c> binary trainer with its defaults. Bench only, never the product.
/// </summary>
internal static class MlNetBaseline
{
    /// <summary>One row as ML.NET sees it; the vector sizes are set per table through a schema definition.</summary>
    private sealed class Row
    {
        public float[] Numbers { get; set; } = [];
        public string[] Categories { get; set; } = [];
        public string Text { get; set; } = "";
        public bool Label { get; set; }
    }

    /// <summary>Fits on <paramref name="train"/> rows of <paramref name="table"/> and returns probabilities for <paramref name="test"/>.</summary>
    public static double[] FitPredict(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] train, int[] test, int seed = 0)
    {
        var features = schema.Columns.Where(c => c.Role == ColumnRole.Feature).ToList();
        var numeric = features.Where(c => c.Type is ColumnType.Numeric or ColumnType.Boolean or ColumnType.DateTime).ToList();
        var categorical = features.Where(c => c.Type == ColumnType.Categorical).ToList();
        var text = features.Where(c => c.Type == ColumnType.Text).ToList();
        var parser = new ValueParser(schema.MissingMarkers);
        Row Make(int r)
        {
            var cells = table.Rows[r];
            string? Cell(ColumnSchema c) => table.IndexOf(c.Name) is var i and >= 0 && i < cells.Length && !parser.IsMissing(cells[i]) ? cells[i].Trim() : null;
            return new Row
            {
                Numbers = numeric.Select(c => Cell(c) is string s ? (float)ValueParser.ToNumber(s, c.Type) : float.NaN).ToArray(),
                Categories = categorical.Select(c => Cell(c) ?? "").ToArray(),
                Text = string.Join(" | ", text.Select(c => Cell(c) ?? "")),
                Label = labels[r] == 1,
            };
        }

        var ml = new MLContext(seed);
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Numbers)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Math.Max(1, numeric.Count));
        definition[nameof(Row.Categories)].ColumnType = new VectorDataViewType(TextDataViewType.Instance, Math.Max(1, categorical.Count));
        IDataView Load(int[] rows) => ml.Data.LoadFromEnumerable(rows.Select(r => Pad(Make(r), numeric.Count, categorical.Count)), definition);

        var inputs = new List<string>();
        IEstimator<ITransformer> pipeline = ml.Transforms.CopyColumns("NumbersIn", nameof(Row.Numbers));
        if (numeric.Count > 0) inputs.Add("NumbersIn");
        if (categorical.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding("CategoriesOneHot", nameof(Row.Categories)));
            inputs.Add("CategoriesOneHot");
        }
        if (text.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Text.FeaturizeText("TextFeatures", nameof(Row.Text)));
            inputs.Add("TextFeatures");
        }
        pipeline = pipeline.Append(ml.Transforms.Concatenate("Features", [.. inputs]))
                           .Append(ml.BinaryClassification.Trainers.LightGbm(labelColumnName: nameof(Row.Label), featureColumnName: "Features"));
        var model = pipeline.Fit(Load(train));
        return model.Transform(Load(test)).GetColumn<float>("Probability").Select(p => (double)p).ToArray();
    }

    /// <summary>A table without numbers (or categories) still gets a vector of one slot, which the pipeline leaves out.</summary>
    private static Row Pad(Row row, int numbers, int categories) => new()
    {
        Numbers = numbers == 0 ? [0f] : row.Numbers, Categories = categories == 0 ? [""] : row.Categories, Text = row.Text, Label = row.Label,
    };
}
