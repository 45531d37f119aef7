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
    /// Fits <paramref name="fit"/>(fold, its training rows) on each of <paramref name="k"/> stratified folds of
    /// <paramref name="rows"/> (0/1 <paramref name="labels"/> for every row of <paramref name="table"/>), and
    /// returns the bag with its out-of-fold probabilities, one per row of <paramref name="rows"/> in their
    /// order, and the seconds spent predicting them. After each fold <paramref name="proceed"/>(folds done)
    /// may say to stop (a time limit): the fold models are then released and the result is null.
    /// </summary>
    public static BaggingResult? Fit(RawTable table, IReadOnlyList<int> labels, int[] rows, int k, int seed, Func<int, int[], ILearner> fit, Func<int, bool>? proceed = null)
    {
        var folds = DataSplits.StratifiedKFold(rows, labels, k, seed);
        var position = new Dictionary<int, int>(rows.Length);
        for (int i = 0; i < rows.Length; i++) position[rows[i]] = i;
        var oof = new double[rows.Length];
        var models = new List<ILearner>();
        var predicting = new System.Diagnostics.Stopwatch();
        try
        {
            foreach (var fold in folds)
            {
                var model = fit(fold.Index, fold.Train);
                models.Add(model);
                predicting.Start();
                var p = model.Predict(table, fold.Test);
                predicting.Stop();
                for (int i = 0; i < p.Length; i++) oof[position[fold.Test[i]]] = p[i];
                if (proceed is not null && models.Count < folds.Count && !proceed(models.Count)) { Release(models); return null; }
            }
        }
        catch
        {
            Release(models);
            throw;
        }
        return new BaggingResult(new BaggedLearner(models), oof, predicting.Elapsed.TotalSeconds);
    }

    /// <summary>A single model as a bag of one (a candidate refitted on all its rows): it predicts and explains as the model does.</summary>
    public static BaggedLearner Of(ILearner model) => new([model]);

    private static void Release(List<ILearner> models)
    {
        foreach (var m in models) m.Dispose();
    }

    /// <summary>The inner learner's name (every fold model is the same kind).</summary>
    public string Name => Folds[0].Name;

    /// <inheritdoc/>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => Folds.SelectMany(f => f.Inputs).Distinct();

    /// <summary>The first fold model's training curves (the multimodal transformer's co-pretraining curve is every fold model's).</summary>
    public JsonObject? Curves => Folds[0].Curves;

    /// <summary>The mean of the fold models' log-odds, as probabilities (a bag of one scores as its model does).</summary>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows)
    {
        if (Folds.Count == 1) return Folds[0].Predict(table, rows);   // a refitted model: exactly its own scores
        var z = new double[rows.Count];
        foreach (var fold in Folds)
        {
            var p = fold.Predict(table, rows);
            for (int i = 0; i < p.Length; i++) z[i] += LogOdds.Of(p[i]) / Folds.Count;
        }
        return z.Select(LogOdds.Probability).ToArray();
    }

    /// <summary>The fold models' explanations, each scaled by 1/k: columns listed together, text pieces added position by position.</summary>
    public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale)
    {
        var each = Folds.Select(f => f.Explain(table, rows, scale / Folds.Count)).ToList();
        return Enumerable.Range(0, rows.Count).Select(i => new LearnerExplanation(
            each.SelectMany(e => e[i].Columns).ToList(), SumTokens(each.Select(e => e[i].Tokens).Where(t => t is not null).ToList()!))).ToList();
    }

    /// <summary>
    /// Text pieces of the fold models added position by position. Fold models of one learner read a text
    /// the same way (one vocabulary), so their pieces line up; null when no fold model reads pieces.
    /// </summary>
    private static IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>? SumTokens(List<IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>> folds)
    {
        if (folds.Count == 0) return null;
        return folds[0].ToDictionary(kv => kv.Key, kv => (IReadOnlyList<TokenContribution>)kv.Value.Select((piece, p) =>
        {
            foreach (var other in folds.Skip(1))
                if (other.GetValueOrDefault(kv.Key) is not { } pieces || pieces.Count != kv.Value.Count || pieces[p].Text != piece.Text)
                    throw new InvalidOperationException($"the fold models read column '{kv.Key}' differently; their pieces cannot be added.");
            return piece with { Contribution = folds.Sum(f => f[kv.Key][p].Contribution) };
        }).ToList(), StringComparer.Ordinal);
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
            Release(models);
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

/// <summary>What bagging one learner gives.</summary>
/// <param name="Learner">The k fold models.</param>
/// <param name="OutOfFold">Each training row's probability from the fold model that did not see it, in the order of the rows given.</param>
/// <param name="PredictSeconds">Seconds the fold models took to predict their held-out rows (each row once).</param>
public sealed record BaggingResult(BaggedLearner Learner, double[] OutOfFold, double PredictSeconds);
