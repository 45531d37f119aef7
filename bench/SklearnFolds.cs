using Jianwei.Data;

namespace Jianwei.Bench;

/// <summary>
/// scikit-learn 1.2's <c>StratifiedKFold(n_splits, shuffle=True, random_state=seed)</c>, fold for fold, so
/// that the bench scores on the very folds the Python anchors (../shared/anchors/baselines-dev.md) were
/// scored on. Classes are numbered by first appearance; each fold gets its share of each class by
/// scikit-learn's allocation; each class's fold labels are shuffled by NumPy's legacy <c>RandomState</c>
/// (MT19937 seeded by <c>init_genrand</c>, Fisher–Yates from the end with masked rejection sampling).
/// Checked against scikit-learn itself in bench/README.md.
/// </summary>
internal static class SklearnFolds
{
    /// <summary>The folds of 0/1 <paramref name="y"/> (fold i's test rows are those scikit-learn gives fold i).</summary>
    public static List<Fold> StratifiedKFold(IReadOnlyList<int> y, int splits, uint seed)
    {
        int n = y.Count;
        // Classes in order of first appearance.
        var code = new Dictionary<int, int>();
        var encoded = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (!code.TryGetValue(y[i], out int c)) code[y[i]] = c = code.Count;
            encoded[i] = c;
        }
        int classes = code.Count;
        var order = encoded.Order().ToArray();
        var allocation = new int[splits, classes];   // allocation[f, k] = |{order[f], order[f + splits], ...} of class k|
        for (int f = 0; f < splits; f++)
            for (int i = f; i < n; i += splits) allocation[f, order[i]]++;
        var rng = new Mt19937(seed);
        var testFold = new int[n];
        for (int k = 0; k < classes; k++)
        {
            var folds = Enumerable.Range(0, splits).SelectMany(f => Enumerable.Repeat(f, allocation[f, k])).ToArray();
            for (int i = folds.Length - 1; i >= 1; i--)
            {
                int j = (int)rng.Interval((uint)i);
                (folds[i], folds[j]) = (folds[j], folds[i]);
            }
            int next = 0;
            for (int r = 0; r < n; r++) if (encoded[r] == k) testFold[r] = folds[next++];
        }
        return Enumerable.Range(0, splits).Select(f => new Fold(f,
            Enumerable.Range(0, n).Where(r => testFold[r] != f).ToArray(), Enumerable.Range(0, n).Where(r => testFold[r] == f).ToArray())).ToList();
    }

    /// <summary>The Mersenne Twister as NumPy's legacy <c>RandomState(seed)</c> runs it.</summary>
    private sealed class Mt19937
    {
        private readonly uint[] _mt = new uint[624];
        private int _index;

        public Mt19937(uint seed)
        {
            _mt[0] = seed;
            for (uint i = 1; i < 624; i++) _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + i;
            _index = 624;
        }

        private uint Next()
        {
            if (_index >= 624)
            {
                for (int i = 0; i < 624; i++)
                {
                    uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % 624] & 0x7fffffffu);
                    _mt[i] = _mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0);
                }
                _index = 0;
            }
            uint v = _mt[_index++];
            v ^= v >> 11;
            v ^= (v << 7) & 0x9d2c5680u;
            v ^= (v << 15) & 0xefc60000u;
            return v ^ (v >> 18);
        }

        /// <summary>A uniform integer in [0, <paramref name="max"/>]: NumPy's <c>random_interval</c> (the smallest all-ones mask, then rejection).</summary>
        public uint Interval(uint max)
        {
            if (max == 0) return 0;
            uint mask = max;
            mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
            uint value;
            while ((value = Next() & mask) > max) { }
            return value;
        }
    }
}
