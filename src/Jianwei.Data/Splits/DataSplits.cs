namespace Jianwei.Data;

/// <summary>Row indices of a training, validation and test part.</summary>
public sealed record TrainValidTest(int[] Train, int[] Validation, int[] Test);

/// <summary>Row indices of one fold: train on <see cref="Train"/>, evaluate on <see cref="Test"/>.</summary>
public sealed record Fold(int Index, int[] Train, int[] Test);

/// <summary>
/// Reproducible splits. Everything is a pure function of the inputs and the seed (a seeded
/// shuffle, never hash order). Stratification keeps each class's share in every part to within one
/// row; groups never straddle folds; time splits train on the past and test on the future.
/// </summary>
public static class DataSplits
{
    /// <summary>Stratified train/validation/test by class (fractions of each class).</summary>
    public static TrainValidTest StratifiedTrainValidTest(IReadOnlyList<int> labels, double validation, double test, int seed)
    {
        if (validation < 0 || test < 0 || validation + test >= 1) throw new ArgumentException("validation and test fractions must be ≥ 0 and sum to less than 1.");
        var train = new List<int>(); var valid = new List<int>(); var tst = new List<int>();
        var rng = new Random(seed);
        foreach (var cls in labels.Distinct().Order())
        {
            var idx = Enumerable.Range(0, labels.Count).Where(i => labels[i] == cls).ToArray();
            rng.Shuffle(idx);
            int nTest = (int)Math.Round(idx.Length * test), nValid = (int)Math.Round(idx.Length * validation);
            tst.AddRange(idx[..nTest]);
            valid.AddRange(idx[nTest..(nTest + nValid)]);
            train.AddRange(idx[(nTest + nValid)..]);
        }
        return new TrainValidTest(Sorted(train), Sorted(valid), Sorted(tst));
    }

    /// <summary>
    /// Stratified k-fold: each class's rows, shuffled, are dealt round-robin to the folds, so every
    /// fold holds ⌊n_c/k⌋ or ⌈n_c/k⌉ rows of class c.
    /// </summary>
    public static List<Fold> StratifiedKFold(IReadOnlyList<int> labels, int k, int seed)
    {
        if (k < 2) throw new ArgumentException("k must be at least 2.");
        var byClass = labels.Distinct().Order().ToList();
        foreach (var cls in byClass)
        {
            int n = labels.Count(l => l == cls);
            if (n < k) throw new ArgumentException($"class {cls} has {n} rows, fewer than the {k} folds: a fold would lack it.");
        }
        var foldOf = new int[labels.Count];
        var rng = new Random(seed);
        int offset = 0;
        foreach (var cls in byClass)
        {
            var idx = Enumerable.Range(0, labels.Count).Where(i => labels[i] == cls).ToArray();
            rng.Shuffle(idx);
            // Start each class where the previous left off, so fold sizes stay balanced overall.
            for (int j = 0; j < idx.Length; j++) foldOf[idx[j]] = (offset + j) % k;
            offset = (offset + idx.Length) % k;
        }
        return Folds(foldOf, k);
    }

    /// <summary>
    /// Group k-fold: all rows of a group land in the same fold. Groups are shuffled, then placed
    /// largest first into the fold with the fewest rows.
    /// </summary>
    public static List<Fold> GroupKFold(IReadOnlyList<string> groups, int k, int seed)
    {
        if (k < 2) throw new ArgumentException("k must be at least 2.");
        var distinct = groups.Distinct().ToArray();
        if (distinct.Length < k) throw new ArgumentException($"{distinct.Length} groups cannot fill {k} folds.");
        new Random(seed).Shuffle(distinct);
        var sizes = groups.GroupBy(g => g).ToDictionary(g => g.Key, g => g.Count());
        var order = distinct.Select((g, i) => (g, i)).OrderByDescending(x => sizes[x.g]).ThenBy(x => x.i).Select(x => x.g);
        var foldSize = new int[k];
        var foldOfGroup = new Dictionary<string, int>();
        foreach (var g in order)
        {
            int f = Array.IndexOf(foldSize, foldSize.Min());
            foldOfGroup[g] = f;
            foldSize[f] += sizes[g];
        }
        return Folds(groups.Select(g => foldOfGroup[g]).ToArray(), k);
    }

    /// <summary>
    /// Time-ordered split: rows sorted by time (ties by row order); the earliest go to training, then
    /// validation, the latest to test. Rows with no time are left out.
    /// </summary>
    public static TrainValidTest TimeOrdered(IReadOnlyList<DateTime?> times, double validation, double test)
    {
        var ordered = Enumerable.Range(0, times.Count).Where(i => times[i] is not null).OrderBy(i => times[i]!.Value).ThenBy(i => i).ToArray();
        int nTest = (int)Math.Round(ordered.Length * test), nValid = (int)Math.Round(ordered.Length * validation);
        int nTrain = ordered.Length - nTest - nValid;
        return new TrainValidTest(Sorted(ordered[..nTrain]), Sorted(ordered[nTrain..(nTrain + nValid)]), Sorted(ordered[(nTrain + nValid)..]));
    }

    /// <summary>
    /// <see cref="StratifiedTrainValidTest(IReadOnlyList{int}, double, double, int)"/> of a subset: the
    /// <paramref name="rows"/> (indices into <paramref name="labels"/>) are split by their labels, and
    /// the parts come back as those row indices.
    /// </summary>
    public static TrainValidTest StratifiedTrainValidTest(IReadOnlyList<int> rows, IReadOnlyList<int> labels, double validation, double test, int seed)
    {
        var split = StratifiedTrainValidTest(rows.Select(r => labels[r]).ToArray(), validation, test, seed);
        return new TrainValidTest(Pick(rows, split.Train), Pick(rows, split.Validation), Pick(rows, split.Test));
    }

    /// <summary><see cref="StratifiedKFold(IReadOnlyList{int}, int, int)"/> of a subset, its folds as row indices of <paramref name="rows"/>.</summary>
    public static List<Fold> StratifiedKFold(IReadOnlyList<int> rows, IReadOnlyList<int> labels, int k, int seed) =>
        StratifiedKFold(rows.Select(r => labels[r]).ToArray(), k, seed).Select(f => new Fold(f.Index, Pick(rows, f.Train), Pick(rows, f.Test))).ToList();

    private static int[] Pick(IReadOnlyList<int> rows, int[] positions) => positions.Select(i => rows[i]).ToArray();

    private static List<Fold> Folds(int[] foldOf, int k) =>
        Enumerable.Range(0, k).Select(f => new Fold(f,
            Enumerable.Range(0, foldOf.Length).Where(i => foldOf[i] != f).ToArray(),
            Enumerable.Range(0, foldOf.Length).Where(i => foldOf[i] == f).ToArray())).ToList();

    private static int[] Sorted(IEnumerable<int> idx) { var a = idx.ToArray(); Array.Sort(a); return a; }
}
