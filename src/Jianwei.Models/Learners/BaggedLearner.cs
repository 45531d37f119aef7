using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Learners;

/// <summary>
/// One learner bagged over k folds of its training rows (AutoGluon's bagging): k fold models, each
/// fitted on k − 1 folds, give an out-of-fold prediction for every training row — what the ensemble
/// is selected on — and together score new rows by the mean of their log-odds. Explanations and
/// importance are the fold models' averaged (each scaled by 1/k, so they still add up).
/// </summary>
public sealed class BaggedLearner : ILearner
{
    /// <summary>The fold models, in fold order.</summary>
    public IReadOnlyList<ILearner> Folds { get; }

    private BaggedLearner(IReadOnlyList<ILearner> folds) => Folds = folds;

    /// <summary>
    /// Fits <paramref name="fit"/> on each of <paramref name="k"/> stratified folds of <paramref name="rows"/>
    /// (0/1 <paramref name="labels"/> for every row of <paramref name="table"/>), and returns the bag with
    /// its out-of-fold probabilities, one per row of <paramref name="rows"/> in their order.
    /// </summary>
    public static (BaggedLearner Learner, double[] OutOfFold) Fit(RawTable table, IReadOnlyList<int> labels, int[] rows, int k, int seed, Func<int[], ILearner> fit)
    {
        var folds = DataSplits.StratifiedKFold(rows, labels, k, seed);
        var position = new Dictionary<int, int>(rows.Length);
        for (int i = 0; i < rows.Length; i++) position[rows[i]] = i;
        var oof = new double[rows.Length];
        var models = new List<ILearner>();
        try
        {
            foreach (var fold in folds)
            {
                var model = fit(fold.Train);
                models.Add(model);
                var p = model.Predict(table, fold.Test);
                for (int i = 0; i < p.Length; i++) oof[position[fold.Test[i]]] = p[i];
            }
        }
        catch
        {
            foreach (var m in models) m.Dispose();
            throw;
        }
        return (new BaggedLearner(models), oof);
    }

    /// <summary>The inner learner's name (every fold model is the same kind).</summary>
    public string Name => Folds[0].Name;

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => Folds.SelectMany(f => f.Inputs).Distinct();

    /// <inheritdoc/>
    public JsonObject? Curves => null;

    /// <summary>The mean of the fold models' log-odds, as probabilities.</summary>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows)
    {
        var z = new double[rows.Count];
        foreach (var fold in Folds)
        {
            var p = fold.Predict(table, rows);
            for (int i = 0; i < p.Length; i++) z[i] += LogOdds.Of(p[i]) / Folds.Count;
        }
        return z.Select(LogOdds.Probability).ToArray();
    }

    /// <inheritdoc/>
    public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale)
    {
        var each = Folds.Select(f => f.Explain(table, rows, scale / Folds.Count)).ToList();
        return Enumerable.Range(0, rows.Count).Select(i => new LearnerExplanation(
            each.SelectMany(e => e[i].Columns).ToList(), each.Select(e => e[i].Tokens).FirstOrDefault(t => t is not null))).ToList();
    }

    /// <inheritdoc/>
    public Dictionary<string, double>? Importance(RawTable table, IReadOnlyList<int> rows)
    {
        var parts = Folds.Select(f => f.Importance(table, rows)).ToList();
        if (parts.Any(p => p is null)) return null;
        var mean = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in parts) foreach (var (k, v) in part!) mean[k] = mean.GetValueOrDefault(k) + v / parts.Count;
        return mean;
    }

    /// <summary>Writes each fold model into <c>NAME-fold-i/</c> under <paramref name="directory"/>, its fields as the i-th entry of <c>folds</c> in <paramref name="parts"/>.</summary>
    public void Save(JsonObject parts, string directory)
    {
        var folds = new JsonArray();
        for (int i = 0; i < Folds.Count; i++)
        {
            var fold = new JsonObject();
            string dir = Path.Combine(directory, FoldDirectory(Name, i));
            Directory.CreateDirectory(dir);
            Folds[i].Save(fold, dir);
            if (!Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);   // a learner whose fields are all it has
            folds.Add(fold);
        }
        parts["name"] = Name;
        parts["folds"] = folds;
    }

    /// <summary>The subdirectory of fold <paramref name="index"/> (0-based) of a learner.</summary>
    public static string FoldDirectory(string name, int index) => $"{name}-fold-{index + 1}";

    /// <summary>Reads what <see cref="Save"/> wrote: each fold by <paramref name="load"/>(its fields, its directory).</summary>
    public static BaggedLearner Load(JsonFields parts, string directory, Func<JsonFields, string, ILearner> load)
    {
        string name = parts.String("name");
        var folds = parts.Objects("folds");
        if (folds.Count == 0) throw parts.Error("folds", "empty; a bagged learner has at least one fold model.");
        var models = new List<ILearner>();
        try
        {
            for (int i = 0; i < folds.Count; i++)
            {
                var model = load(folds[i], Path.Combine(directory, FoldDirectory(name, i)));
                if (model.Name != name) throw folds[i].Error(null, $"holds a {model.Name} model; the bag is {name}.");
                models.Add(model);
            }
        }
        catch
        {
            foreach (var m in models) m.Dispose();
            throw;
        }
        return new BaggedLearner(models);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var fold in Folds) fold.Dispose();
    }
}
