using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Bundles;

/// <summary>
/// What a bundle scores with: one or more fitted learners (<see cref="ILearner"/>) and, when there are
/// several, the logistic stacker that combines their log-odds. It scores new tables, explains rows,
/// ranks features, and saves itself as <c>tabular.json</c> (the recipe, each learner's fields, the
/// stacker) plus the learners' own files. How each recipe is fitted — the LR + XGBoost stack, the
/// multimodal transformer + XGBoost stack — is in <c>TabularModel.Recipes.cs</c>.
/// </summary>
public sealed partial class TabularModel : IDisposable
{
    private const int FormatVersion = 1;
    /// <summary>The order the learners' fields have in <c>tabular.json</c> (and inputs are listed in), whatever the recipe's order.</summary>
    private static readonly string[] PartOrder = ["logistic", LogisticLearner.NaiveBayesName, LogisticLearner.BinnedName, "boosting", "lightgbm", "ft-transformer", "multimodal"];

    /// <summary>The recipe.</summary>
    public TabularLearner Learner { get; }
    /// <summary>The fitted learners, in the recipe's order (the combiner's weights follow it).</summary>
    public IReadOnlyList<ILearner> Learners { get; }
    /// <summary>The combination of <see cref="Learners"/> (a stacker, or greedy selection for the ensemble); null for a single learner.</summary>
    public ICombiner? Combiner { get; }
    /// <summary>For the ensemble, every candidate's out-of-fold scores, time and weight, skipped ones included; empty otherwise.</summary>
    public IReadOnlyList<LeaderboardRow> Leaderboard { get; private init; } = [];
    /// <summary>Which rows the leaderboard was scored on, in words.</summary>
    public string LeaderboardRows => "out-of-fold on the training rows";
    /// <summary>Whether the ensemble's learners were refitted once on all rows (instead of keeping their fold models).</summary>
    public bool RefitFull { get; private init; }
    /// <summary>
    /// For an ensemble just fitted (not one loaded), each fitted candidate's out-of-fold probabilities on
    /// the training rows, in their order, by name: what the combiner was chosen on, for studying combiners.
    /// </summary>
    public IReadOnlyDictionary<string, double[]> OutOfFold { get; private init; } = new Dictionary<string, double[]>();

    private TabularModel(TabularLearner learner, IReadOnlyList<ILearner> learners, ICombiner? combiner)
    {
        Learner = learner; Learners = learners; Combiner = combiner;
    }

    /// <summary>Probabilities of the positive class for <paramref name="rows"/>.</summary>
    public double[] Predict(RawTable table, IReadOnlyList<int> rows) => Combiner is null
        ? Learners[0].Predict(table, rows)
        : Combiner.Predict(Learners.Select(l => l.Predict(table, rows)).ToList());

    /// <summary>
    /// Each input column's contribution to the log-odds of each row: XGBoost's exact tree SHAP values,
    /// logistic regression's weight × feature value summed per column, the multimodal transformer's
    /// Integrated Gradients, and for a stack each scaled by the stacker's weights. Sorted by absolute
    /// size, at most <paramref name="top"/> per row.
    /// </summary>
    public List<Reason[]> Explain(RawTable table, IReadOnlyList<int> rows, int top = 5) => ExplainRows(table, rows, top).Select(e => e.Reasons).ToList();

    /// <summary>
    /// <see cref="Explain"/> with, for the multimodal learners, each text piece's contribution (scaled
    /// like its column's), for highlighting.
    /// </summary>
    public List<Explanation> ExplainRows(RawTable table, IReadOnlyList<int> rows, int top = 5)
    {
        var perRow = rows.Select(_ => new Dictionary<string, double>(StringComparer.Ordinal)).ToList();
        var tokens = new IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>?[rows.Count];
        for (int l = 0; l < Learners.Count; l++)
        {
            var explained = Learners[l].Explain(table, rows, Combiner?.Weights[l] ?? 1);
            for (int i = 0; i < rows.Count; i++)
            {
                foreach (var (column, value) in explained[i].Columns) perRow[i][column] = perRow[i].GetValueOrDefault(column) + value;
                tokens[i] ??= explained[i].Tokens;
            }
        }
        return perRow.Select((d, i) => new Explanation(
            d.Where(kv => kv.Value != 0).OrderByDescending(kv => Math.Abs(kv.Value)).Take(top).Select(kv => new Reason(kv.Key, kv.Value)).ToArray(), tokens[i])).ToList();
    }

    /// <summary>How <see cref="Importance"/> measures for this recipe, in words for reports.</summary>
    public string ImportanceKind => Learner switch
    {
        TabularLearner.Boosting => "XGBoost total gain (share)",
        TabularLearner.LightGbm => "LightGBM total gain (share)",
        TabularLearner.Logistic => "mean |weight × value| (share)",
        TabularLearner.Stack => "mean of XGBoost gain share and LR |weight × value| share",
        TabularLearner.Ensemble when Learners.All(l => l.Name is "logistic" or LogisticLearner.NaiveBayesName or LogisticLearner.BinnedName or "boosting" or "lightgbm") => "mean of the candidates' own shares (tree gain, LR |weight × value|)",
        _ => "permutation importance (ROC-AUC drop, share)",
    };

    /// <summary>Training curves of the learners that have them (name → values by step or epoch).</summary>
    public JsonObject? Curves => Learners.Select(l => l.Curves).FirstOrDefault(c => c is not null);

    /// <summary>
    /// Importance of each input column, normalized to sum 1: the mean of the learners' own shares
    /// (XGBoost's total gain, the logistic regression's mean |weight × value| on <paramref name="table"/>).
    /// When a learner has no measure of its own (the multimodal transformer), the whole model's
    /// permutation importance on up to <paramref name="permutationRows"/> of <paramref name="rows"/>
    /// (<see cref="PermutationImportance"/>, against <paramref name="labels"/>, one per row of
    /// <paramref name="rows"/>), over the columns such learners read.
    /// </summary>
    public Dictionary<string, double> Importance(RawTable table, IReadOnlyList<int> rows, IReadOnlyList<int>? labels = null, int permutationRows = 500, int seed = 0)
    {
        var own = Learners.Select(l => l.Importance(table, rows)).ToList();
        if (own.Any(p => p is null))
        {
            var columns = Learners.Where((_, i) => own[i] is null).SelectMany(l => l.Inputs.Select(x => x.Name)).Distinct().ToList();
            return PermutationImportance.Measure(Predict, columns, table, rows, labels, permutationRows, seed);
        }
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in own) foreach (var (k, v) in part!) result[k] = result.GetValueOrDefault(k) + v / own.Count;
        return result;
    }

    /// <summary>Writes <c>tabular.json</c> and each learner's files into <paramref name="directory"/>, each atomically.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var json = new JsonObject { ["format_version"] = FormatVersion, ["learner"] = Learner.ToString() };
        if (Learner == TabularLearner.Ensemble) SaveEnsemble(json, directory);
        else
        {
            foreach (var learner in InPartOrder(Learners)) learner.Save(json, directory);
            if (Combiner is not null) json[Combiner.Kind] = Combiner.ToJson();
        }
        AtomicFile.WriteAllText(Path.Combine(directory, "tabular.json"), json.ToJsonString());
    }

    /// <summary>
    /// Reads what <see cref="Save"/> wrote and checks that its parts fit together: the recipe has
    /// exactly the parts it uses, the logistic weights match the features' columns, the trees split on
    /// the tree features (same names, same types), the stacker weighs every learner. Every problem is a
    /// <see cref="ModelFormatException"/> naming the file and the field.
    /// </summary>
    public static TabularModel Load(string directory)
    {
        string path = Path.Combine(directory, "tabular.json");
        var json = JsonFields.Load(path);
        int version = json.Int("format_version");
        if (version != FormatVersion) throw json.Error("format_version", $"{version}; this build reads {FormatVersion}.");
        var recipe = json.Enum<TabularLearner>("learner");
        if (recipe == TabularLearner.Ensemble) return LoadEnsemble(json, directory);
        var names = LearnersOf(recipe);
        bool stacked = names.Length > 1;
        foreach (var (part, needed) in new[]
                 {
                     ("linear_features", names.Contains("logistic")), ("logistic", names.Contains("logistic")), ("tree_features", names.Contains("boosting")), ("lightgbm_features", names.Contains("lightgbm")),
                     ("ft_transformer", names.Contains("ft-transformer")), ("multimodal", names.Contains("multimodal")), ("stacker", stacked),
                 })
            if (json.Has(part) != needed) throw json.Error(part, needed ? $"missing (the {recipe} learner needs it)." : $"present, but the {recipe} learner has no such part.");
        var loaded = new List<ILearner>();
        try
        {
            foreach (var name in PartOrder.Where(names.Contains))
                loaded.Add(LoadLearner(name, json, directory));
            ICombiner? combiner = stacked ? LogisticStacker.FromJson(json.Object("stacker"), names.Length) : null;
            return new TabularModel(recipe, names.Select(n => loaded.Single(l => l.Name == n)).ToList(), combiner);
        }
        catch
        {
            foreach (var learner in loaded) learner.Dispose();
            throw;
        }
    }

    /// <summary>The learner <paramref name="name"/> from its fields and its directory.</summary>
    private static ILearner LoadLearner(string name, JsonFields parts, string directory) => name switch
    {
        "logistic" or LogisticLearner.NaiveBayesName or LogisticLearner.BinnedName => LogisticLearner.Load(parts, name),
        "boosting" => BoostingLearner.Load(parts, directory),
        "lightgbm" => BoostingLearner.LoadLightGbm(parts, directory),
        "ft-transformer" => FtTransformerLearner.Load(parts, directory),
        "multimodal" => MultimodalLearner.Load(parts, directory),
        _ => throw parts.Error("name", $"'{name}' is not a learner this build knows (logistic, nb-logistic, binned-logistic, boosting, lightgbm, ft-transformer, multimodal)."),
    };

    /// <summary>The table columns the model reads, with the type each is read as.</summary>
    public IEnumerable<(string Name, ColumnType Type)> Inputs => InPartOrder(Learners).SelectMany(l => l.Inputs).Distinct();

    private static IEnumerable<ILearner> InPartOrder(IEnumerable<ILearner> learners) => learners.OrderBy(l => Array.IndexOf(PartOrder, l.Name));

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var learner in Learners) learner.Dispose();
    }
}
