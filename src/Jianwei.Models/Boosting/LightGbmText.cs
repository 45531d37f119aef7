using System.Globalization;
using System.Text;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Boosting;

/// <summary>
/// Checks a LightGBM text model (binary objective, version 2 to 4) before LightGBM ever reads it.
/// LightGBM trusts its model files as XGBoost does: a child index past its arrays, a cycle, a split on a
/// feature that does not exist, a category bitset shorter than its boundaries say, or a
/// <c>tree_sizes</c> entry that does not match its tree (LightGBM cuts the file by those sizes) make it
/// read out of bounds or loop. So every line must be one this format has, once; every tree a proper
/// binary tree over all its nodes and leaves (each reached exactly once from the root, depth bounded);
/// every split on a feature below the model's count — categorical splits on categorical features, with
/// their bitset inside <c>cat_threshold</c> — and every number finite (a numerical threshold may be ±inf,
/// as LightGBM writes it for a split above every value; never NaN). Problems are
/// <see cref="ModelFormatException"/>s naming the line's key, e.g. <c>Tree=3.left_child[2]</c>.
/// </summary>
public static class LightGbmText
{
    /// <summary>Deepest tree accepted (training uses depth 8 at most).</summary>
    public const int MaxDepth = 64;
    /// <summary>Most leaves per tree accepted (training uses 63 at most).</summary>
    public const int MaxLeaves = 1 << 17;

    private static readonly string[] HeaderKeys = ["version", "num_class", "num_tree_per_iteration", "label_index", "max_feature_idx", "objective", "feature_names", "feature_infos", "tree_sizes", "monotone_constraints"];
    private static readonly string[] TreeKeys = ["num_leaves", "num_cat", "split_feature", "split_gain", "threshold", "decision_type", "left_child", "right_child", "leaf_value", "leaf_weight",
                                                 "leaf_count", "internal_value", "internal_weight", "internal_count", "cat_boundaries", "cat_threshold", "is_linear", "shrinkage"];

    /// <summary>
    /// Validates <paramref name="bytes"/> (read from <paramref name="file"/>) as a model over features whose
    /// categorical flags are <paramref name="categorical"/>; returns the number of trees.
    /// </summary>
    public static int Validate(byte[] bytes, IReadOnlyList<bool> categorical, string file)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw new ModelFormatException(file, null, "not valid UTF-8."); }
        if (text.Contains('\0')) throw new ModelFormatException(file, null, "the file holds a NUL byte; it is not a LightGBM text model.");
        int firstTree = text.IndexOf("\nTree=", StringComparison.Ordinal), end = text.IndexOf("\nend of trees", StringComparison.Ordinal);
        if (!text.StartsWith("tree\n", StringComparison.Ordinal) || firstTree < 0 || end < firstTree)
            throw new ModelFormatException(file, null, "not a LightGBM text model (a 'tree' line, then trees, then 'end of trees').");
        var header = Fields(text[5..firstTree], file, "", HeaderKeys);
        int features = categorical.Count;
        CheckHeader(header, features, file);
        var sizes = header["tree_sizes"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int at = firstTree + 1;   // at "Tree=0"
        for (int t = 0; t < sizes.Length; t++)
        {
            if (!int.TryParse(sizes[t], NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size <= 0 || at + size > end + 1)
                throw new ModelFormatException(file, $"tree_sizes[{t}]", $"'{sizes[t]}' does not fit in the file.");
            string block = text.Substring(at, size);
            string name = $"Tree={t}";
            if (!block.StartsWith(name + "\n", StringComparison.Ordinal) || (at + size <= end && !text.AsSpan(at + size).StartsWith("Tree=")))
                throw new ModelFormatException(file, $"tree_sizes[{t}]", $"{size} bytes do not span {name} exactly.");
            CheckTree(Fields(block[(name.Length + 1)..], file, name + ".", TreeKeys), categorical, file, name);
            at += size;
        }
        if (at != end + 1) throw new ModelFormatException(file, "tree_sizes", $"the {sizes.Length} trees it lists end before 'end of trees'.");
        return sizes.Length;
    }

    private static void CheckHeader(Dictionary<string, string> h, int features, string file)
    {
        string Need(string key) => h.TryGetValue(key, out var v) ? v : throw new ModelFormatException(file, key, "missing.");
        if (Need("version") is not ("v2" or "v3" or "v4")) throw new ModelFormatException(file, "version", $"'{h["version"]}' is not v2, v3 or v4.");
        foreach (var (key, value) in new[] { ("num_class", "1"), ("num_tree_per_iteration", "1"), ("label_index", "0") })
            if (Need(key) != value) throw new ModelFormatException(file, key, $"'{h[key]}'; a binary model has {value}.");
        if (Need("max_feature_idx") != (features - 1).ToString(CultureInfo.InvariantCulture))
            throw new ModelFormatException(file, "max_feature_idx", $"'{h["max_feature_idx"]}'; the model reads {features} features.");
        if (!Need("objective").StartsWith("binary", StringComparison.Ordinal)) throw new ModelFormatException(file, "objective", $"'{h["objective"]}'; Jianwei's trees are binary.");
        if (Need("feature_names").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != features)
            throw new ModelFormatException(file, "feature_names", $"the model reads {features} features.");
        if (Need("feature_infos").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != features)
            throw new ModelFormatException(file, "feature_infos", $"the model reads {features} features.");
        Need("tree_sizes");
    }

    private static void CheckTree(Dictionary<string, string> f, IReadOnlyList<bool> categorical, string file, string tree)
    {
        int leaves = Ints(f, "num_leaves", 1, 1, MaxLeaves, file, tree)[0];
        int internals = leaves - 1;
        int cats = f.ContainsKey("num_cat") ? Ints(f, "num_cat", 1, 0, internals, file, tree)[0] : 0;
        foreach (var key in new[] { "leaf_value", "leaf_weight" }) if (key == "leaf_value" || f.ContainsKey(key)) Numbers(f, key, leaves, file, tree);
        if (f.ContainsKey("leaf_count")) Ints(f, "leaf_count", leaves, 0, int.MaxValue, file, tree);
        if (f.TryGetValue("is_linear", out var linear) && linear != "0") throw new ModelFormatException(file, tree + ".is_linear", "linear trees are not Jianwei's.");
        if (f.ContainsKey("shrinkage")) Numbers(f, "shrinkage", 1, file, tree);
        if (internals == 0) return;
        var feature = Ints(f, "split_feature", internals, 0, categorical.Count - 1, file, tree);
        var decision = Ints(f, "decision_type", internals, 0, 15, file, tree);
        var threshold = Numbers(f, "threshold", internals, file, tree, infinite: true);   // LightGBM writes inf for a split above every value
        var left = Ints(f, "left_child", internals, -leaves, internals - 1, file, tree);
        var right = Ints(f, "right_child", internals, -leaves, internals - 1, file, tree);
        foreach (var key in new[] { "split_gain", "internal_value", "internal_weight" }) if (f.ContainsKey(key)) Numbers(f, key, internals, file, tree);
        if (f.ContainsKey("internal_count")) Ints(f, "internal_count", internals, 0, int.MaxValue, file, tree);
        int[] bounds = [0];
        if (cats > 0)
        {
            bounds = Ints(f, "cat_boundaries", cats + 1, 0, int.MaxValue, file, tree);
            for (int i = 0; i < bounds.Length; i++)
                if (i == 0 ? bounds[0] != 0 : bounds[i] < bounds[i - 1]) throw new ModelFormatException(file, $"{tree}.cat_boundaries[{i}]", "boundaries start at 0 and never decrease.");
            var words = f.TryGetValue("cat_threshold", out var w) ? w.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
            if (words.Length != bounds[^1]) throw new ModelFormatException(file, tree + ".cat_threshold", $"{words.Length} words; cat_boundaries says {bounds[^1]}.");
            if (words.Any(word => !uint.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out _))) throw new ModelFormatException(file, tree + ".cat_threshold", "expected whole numbers.");
        }
        for (int n = 0; n < internals; n++)
        {
            if ((decision[n] & 1) == 0) continue;   // a numerical split: its threshold is a finite number
            if (!categorical[feature[n]]) throw new ModelFormatException(file, $"{tree}.decision_type[{n}]", $"a categorical split on feature {feature[n]}, which is numeric.");
            if (threshold[n] != Math.Floor(threshold[n]) || threshold[n] < 0 || threshold[n] >= cats)
                throw new ModelFormatException(file, $"{tree}.threshold[{n}]", $"{threshold[n]} is not one of the tree's {cats} category sets.");
        }
        CheckShape(left, right, leaves, file, tree);
    }

    /// <summary>From the root, every internal node and every leaf is reached exactly once, within <see cref="MaxDepth"/>.</summary>
    private static void CheckShape(int[] left, int[] right, int leaves, string file, string tree)
    {
        var seenNode = new bool[left.Length];
        var seenLeaf = new bool[leaves];
        var stack = new Stack<(int Node, int Depth)>();
        stack.Push((0, 0));
        seenNode[0] = true;
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            if (depth >= MaxDepth) throw new ModelFormatException(file, tree, $"deeper than {MaxDepth} levels.");
            foreach (var (child, side) in new[] { (left[node], "left_child"), (right[node], "right_child") })
            {
                bool leaf = child < 0;
                int index = leaf ? ~child : child;
                ref bool seen = ref leaf ? ref seenLeaf[index] : ref seenNode[index];
                if (seen) throw new ModelFormatException(file, $"{tree}.{side}[{node}]", $"{(leaf ? "leaf" : "node")} {index} is reached twice (a cycle or a shared node).");
                seen = true;
                if (!leaf) stack.Push((index, depth + 1));
            }
        }
        if (Array.IndexOf(seenNode, false) is var node0 and >= 0) throw new ModelFormatException(file, tree, $"node {node0} is never reached from the root.");
        if (Array.IndexOf(seenLeaf, false) is var leaf0 and >= 0) throw new ModelFormatException(file, tree, $"leaf {leaf0} is never reached from the root.");
    }

    /// <summary>The <c>key=value</c> lines of a block: only <paramref name="known"/> keys, each once; blank lines between.</summary>
    private static Dictionary<string, string> Fields(string block, string file, string prefix, string[] known)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in block.Split('\n'))
        {
            if (line.Length == 0 || prefix.Length == 0 && line == "average_output") continue;
            int eq = line.IndexOf('=');
            string key = eq < 0 ? line : line[..eq];
            if (eq < 0 || !known.Contains(key)) throw new ModelFormatException(file, prefix + (key.Length > 40 ? key[..40] + "…" : key), "not a line this format has.");
            if (!fields.TryAdd(key, line[(eq + 1)..])) throw new ModelFormatException(file, prefix + key, "appears twice.");
        }
        return fields;
    }

    private static string[] Values(Dictionary<string, string> f, string key, int count, string file, string tree)
    {
        var values = f.TryGetValue(key, out var v) ? v.Split(' ', StringSplitOptions.RemoveEmptyEntries) : throw new ModelFormatException(file, $"{tree}.{key}", "missing.");
        return values.Length == count ? values : throw new ModelFormatException(file, $"{tree}.{key}", $"{values.Length} values; expected {count}.");
    }

    private static int[] Ints(Dictionary<string, string> f, string key, int count, int min, int max, string file, string tree) =>
        Values(f, key, count, file, tree).Select((s, i) => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v
            : throw new ModelFormatException(file, $"{tree}.{key}[{i}]", $"'{s}' is not a whole number in [{min}, {max}].")).ToArray();

    private static double[] Numbers(Dictionary<string, string> f, string key, int count, string file, string tree, bool infinite = false) =>
        Values(f, key, count, file, tree).Select((s, i) => infinite && s is "inf" or "+inf" ? double.PositiveInfinity : infinite && s == "-inf" ? double.NegativeInfinity
            : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new ModelFormatException(file, $"{tree}.{key}[{i}]", $"'{s}' is not a {(infinite ? "number" : "finite number")}.")).ToArray();
}
