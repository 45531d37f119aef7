using System.Globalization;
using System.Text;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models;
using Jianwei.Models.Ensembles;

namespace Jianwei.Bench;

/// <summary>
/// Ways of combining the ensemble's members, compared on predictions saved by
/// <c>bench tabular ... ensemble --dump DIR</c>: for every outer fold, each member's out-of-fold
/// probabilities on the fold's training rows (what a combiner is fitted on) and its probabilities on the
/// outer test rows (what it is scored on). No model is refitted, so a combiner is measured in
/// seconds on the very members the ensemble had. Usage: <c>bench combiners DIR</c> (one folder per
/// dataset under DIR, or DIR itself); one JSON line per dataset and way, the test ROC-AUC's mean over folds.
/// </summary>
internal static class CombinerBench
{
    /// <summary>Saves one outer fold: <c>foldN.oof.csv</c> (training rows) and <c>foldN.test.csv</c>, columns y then one per member.</summary>
    public static void Write(string directory, int[] train, int[] test, int[] y, IReadOnlyDictionary<string, double[]> outOfFold, IReadOnlyDictionary<string, double[]> testPredictions)
    {
        Directory.CreateDirectory(directory);
        int fold = Directory.GetFiles(directory, "fold*.oof.csv").Length + 1;
        var names = outOfFold.Keys.Where(testPredictions.ContainsKey).ToList();
        WriteCsv(Path.Combine(directory, $"fold{fold}.oof.csv"), train, y, names.Select(n => outOfFold[n]).ToList(), names);
        WriteCsv(Path.Combine(directory, $"fold{fold}.test.csv"), test, y, names.Select(n => testPredictions[n]).ToList(), names);
    }

    private static void WriteCsv(string path, int[] rows, int[] y, List<double[]> p, List<string> names)
    {
        var text = new StringBuilder("y," + string.Join(",", names) + "\n");
        for (int i = 0; i < rows.Length; i++)
            text.Append(y[rows[i]].ToString(CultureInfo.InvariantCulture)).Append(',')
                .AppendJoin(',', p.Select(m => m[i].ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        File.WriteAllText(path, text.ToString());
    }

    private sealed record Part(int[] Y, List<double[]> P, List<string> Names);

    private static Part ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var names = lines[0].Split(',').Skip(1).ToList();
        var cells = lines.Skip(1).Select(l => l.Split(',')).ToList();
        return new Part(cells.Select(c => int.Parse(c[0], CultureInfo.InvariantCulture)).ToArray(),
            names.Select((_, j) => cells.Select(c => double.Parse(c[j + 1], CultureInfo.InvariantCulture)).ToArray()).ToList(), names);
    }

    /// <summary>A way of combining: from out-of-fold predictions and labels, a function of test predictions.</summary>
    private delegate Func<List<double[]>, double[]> Way(List<double[]> oof, int[] y);

    private static readonly (string Name, Way Fit)[] Ways =
    [
        ("best member", (p, y) => CombinerChoice.BestMember(p, y).Predict),
        ("selection", (p, y) => GreedyEnsemble.Fit(p, y, Metrics.RocAuc).Predict),
        ("stacker", (p, y) => LogisticStacker.FitNonNegative(p, y).Predict),
        ("choice, 1 split", (p, y) => CombinerChoice.Choose(p, y, 0, repeats: 1, oneStandardError: false).Predict),
        ("choice, 5 splits", (p, y) => CombinerChoice.Choose(p, y, 0, repeats: 5, oneStandardError: false).Predict),
        ("choice, 5 splits, 1 SE (the product's)", (p, y) => CombinerChoice.Choose(p, y, 0).Predict),
        ("bagged selection", (p, y) => BaggedSelection(p, y, 20)),
    ];

    /// <summary>Selection's weights averaged over fits on random halves of the rows (Caruana et al. 2006's bagged selection).</summary>
    private static Func<List<double[]>, double[]> BaggedSelection(List<double[]> oof, int[] y, int bags)
    {
        var weights = new double[oof.Count];
        for (int b = 0; b < bags; b++)
        {
            var half = DataSplits.StratifiedKFold(y, 2, 100 + b)[0].Train;
            var w = GreedyEnsemble.Fit(oof.Select(p => half.Select(i => p[i]).ToArray()).ToList(), half.Select(i => y[i]).ToArray(), Metrics.RocAuc).Weights;
            for (int j = 0; j < w.Length; j++) weights[j] += w[j] / bags;
        }
        return test => Enumerable.Range(0, test[0].Length).Select(i => LogOdds.Probability(weights.Select((w, j) => w * LogOdds.Of(test[j][i])).Sum())).ToArray();
    }

    public static int Run(string[] args)
    {
        if (args.Length < 1 || !Directory.Exists(args[0])) { Console.Error.WriteLine("usage: bench combiners DIR (written by bench tabular ... ensemble --dump DIR)"); return 2; }
        var sets = Directory.GetFiles(args[0], "fold1.oof.csv").Length > 0 ? [args[0]] : Directory.GetDirectories(args[0]).Order(StringComparer.Ordinal).ToArray();
        foreach (var set in sets)
        {
            int folds = Directory.GetFiles(set, "fold*.oof.csv").Length;
            if (folds == 0) continue;
            var parts = Enumerable.Range(1, folds).Select(f => (Oof: ReadCsv(Path.Combine(set, $"fold{f}.oof.csv")), Test: ReadCsv(Path.Combine(set, $"fold{f}.test.csv")))).ToList();
            var rows = new List<(string Way, double[] Auc)>();
            foreach (var name in parts[0].Oof.Names)
                rows.Add(("bag:" + name, parts.Select(p => Metrics.RocAuc(p.Test.P[p.Test.Names.IndexOf(name)], p.Test.Y)).ToArray()));
            foreach (var (name, fit) in Ways)
                rows.Add((name, parts.Select(p => Metrics.RocAuc(fit(p.Oof.P, p.Oof.Y)(p.Test.P), p.Test.Y)).ToArray()));
            foreach (var (way, auc) in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"config\":\"combiners\",\"dataset\":\"{Path.GetFileName(set)}\",\"way\":\"{way}\",\"auc\":{auc.Average():F4},\"folds\":[{string.Join(",", auc.Select(a => a.ToString("F4", CultureInfo.InvariantCulture)))}]}}"));
        }
        return 0;
    }
}
