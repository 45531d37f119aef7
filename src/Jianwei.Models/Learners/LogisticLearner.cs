using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Features;
using Jianwei.Models.Logistic;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Learners;

/// <summary>
/// Logistic regression on standardized numbers with missing indicators, one-hot categories and the
/// TF-IDF of each text column (<see cref="LinearFeatures"/>). Its explanation is exact: the log-odds
/// are the sum of weight × value, grouped by the column each feature comes from. The
/// <c>nb-logistic</c> variant reads texts through naive Bayes–scaled n-grams
/// (<see cref="LinearFeatures.FitNaiveBayes"/>): on text it ranks differently from plain TF-IDF, which is
/// what an ensemble needs of a second linear member. The <c>binned-logistic</c> variant cuts numbers into
/// quantile bins (<see cref="LinearFeatures.FitBinned"/>), a scorecard's shape: a step function of each.
/// </summary>
public sealed class LogisticLearner : ILearner
{
    private readonly LinearFeatures _features;
    private readonly LogisticRegression _model;

    /// <summary>The name of the naive Bayes–scaled variant.</summary>
    public const string NaiveBayesName = "nb-logistic";
    /// <summary>The name of the binned variant.</summary>
    public const string BinnedName = "binned-logistic";

    /// <summary>The learner's name for each view of the features.</summary>
    public static string NameOf(LinearView view) => view switch
    {
        LinearView.NaiveBayesText => NaiveBayesName,
        LinearView.BinnedNumbers => BinnedName,
        _ => "logistic",
    };

    private LogisticLearner(string name, LinearFeatures features, LogisticRegression model) { Name = name; _features = features; _model = model; }

    /// <summary>
    /// Fits features (of the <paramref name="view"/>) and weights on <paramref name="rows"/> of <paramref name="table"/>
    /// (0/1 <paramref name="labels"/> for every row of the table), L2 with strength <paramref name="c"/> as in scikit-learn.
    /// </summary>
    public static LogisticLearner Fit(RawTable table, TableSchema schema, IReadOnlyList<int> labels, int[] rows, double c = 1, LinearView view = LinearView.Plain)
    {
        var features = LinearFeatures.Fit(table, schema, rows, view, labels);
        var model = LogisticRegression.Fit(features.Transform(table, rows), rows.Select(r => labels[r]).ToArray(), new LogisticRegressionOptions(C: c));
        return new LogisticLearner(NameOf(view), features, model);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => _features.Inputs;

    /// <inheritdoc/>
    public JsonObject? Curves => null;

    /// <inheritdoc/>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows) => _model.PredictProbability(_features.Transform(table, rows));

    /// <inheritdoc/>
    public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale)
    {
        var x = _features.Transform(table, rows);
        var sources = _features.ColumnSources();
        return Enumerable.Range(0, rows.Count).Select(i => new LearnerExplanation(
            x.Row(i).Select(e => (sources[e.Column], scale * _model.Weights[e.Column] * e.Value)).ToList(), null)).ToList();
    }

    /// <summary>Mean |weight × value| of each column's features on <paramref name="rows"/>, as shares.</summary>
    public Dictionary<string, double> Importance(RawTable table, IReadOnlyList<int> rows)
    {
        var x = _features.Transform(table, rows);
        var sources = _features.ColumnSources();
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < rows.Count; i++)
            foreach (var (col, value) in x.Row(i)) sum[sources[col]] = sum.GetValueOrDefault(sources[col]) + Math.Abs(_model.Weights[col] * value);
        return Shares.Of(sum);
    }

    /// <inheritdoc/>
    public void Save(JsonObject parts, string directory)
    {
        parts["linear_features"] = _features.ToJson();
        parts["logistic"] = _model.ToJson();
    }

    /// <summary>Reads the learner <paramref name="name"/> (<c>logistic</c>, <c>nb-logistic</c> or <c>binned-logistic</c>) from its fields of <c>tabular.json</c>.</summary>
    public static LogisticLearner Load(JsonFields parts, string name = "logistic")
    {
        var features = LinearFeatures.FromJson(parts.Object("linear_features"));
        return new LogisticLearner(name, features, LogisticRegression.FromJson(parts.Object("logistic"), features.Columns));
    }

    /// <inheritdoc/>
    public void Dispose() { }
}
