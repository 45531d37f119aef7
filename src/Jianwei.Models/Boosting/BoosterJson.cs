using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Boosting;

/// <summary>
/// Checks an XGBoost JSON model (<c>binary:logistic</c>, <c>gbtree</c>) before XGBoost ever sees it:
/// XGBoost trusts its model files, so a tampered one — a child index past the node array, a child
/// pointing back up the tree, a split on a feature that does not exist — makes its predictor read
/// out of bounds (a segmentation fault) or loop forever. Every tree must be a proper binary tree over
/// all its nodes (each node reached exactly once from the root, parents consistent, depth bounded),
/// every split on a feature below the model's count (categorical splits on categorical features,
/// with category lists inside their array), and every number finite — but for the one place XGBoost
/// itself writes a bare <c>NaN</c> (not JSON): the unused split condition of a categorical split.
/// Repeated keys are refused, so XGBoost's parser and this one read the same document.
/// </summary>
public static class BoosterJson
{
    /// <summary>Deepest tree accepted (training uses depth 6; TreeSHAP's work grows with depth²).</summary>
    public const int MaxDepth = 64;
    /// <summary>Largest category code accepted (XGBoost's own bound: codes must be exact in float32).</summary>
    public const int MaxCategory = 1 << 24;
    private const long RootParent = int.MaxValue;   // XGBoost writes the root's parent as 2147483647

    /// <summary>A model that passed <see cref="Validate"/>.</summary>
    /// <param name="Json">The validated bytes, to hand to XGBoost.</param>
    /// <param name="Features">The number of features it splits on.</param>
    /// <param name="FeatureNames">Its feature names (empty when it has none).</param>
    /// <param name="Categorical">Which features are categorical (empty when it has no types).</param>
    /// <param name="Trees">The number of trees.</param>
    public sealed record Checked(byte[] Json, int Features, string[] FeatureNames, bool[] Categorical, int Trees);

    /// <summary>Validates <paramref name="json"/> (read from <paramref name="file"/>); problems are <see cref="ModelFormatException"/>s naming the field.</summary>
    public static Checked Validate(byte[] json, string file)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(json); }
        catch (DecoderFallbackException) { throw new ModelFormatException(file, null, "not valid UTF-8."); }
        var root = JsonFields.Parse(BareNaNsAsNull(text), file);
        var version = root.Ints("version", min: 0);
        if (version.Length < 2 || version[0] < 1) throw root.Error("version", "expected [major, minor, patch] of an XGBoost 1.x or later model.");
        var learner = root.Object("learner");
        var objective = learner.Object("objective").String("name");
        if (objective != "binary:logistic") throw learner.Error("objective.name", $"'{objective}'; Jianwei's trees are binary:logistic.");
        var param = learner.Object("learner_model_param");
        int features = ParseInt(param, "num_feature", 1, 10_000_000);
        if (ParseInt(param, "num_class", 0, int.MaxValue) != 0) throw param.Error("num_class", "a binary model has num_class 0.");
        if (param.Has("num_target") && ParseInt(param, "num_target", 0, int.MaxValue) != 1) throw param.Error("num_target", "a binary model has one target.");
        double baseScore = ParseFloat(param, "base_score");
        if (!(baseScore > 0 && baseScore < 1)) throw param.Error("base_score", $"{baseScore.ToString("R", CultureInfo.InvariantCulture)} is not a probability in (0, 1).");
        var names = learner.Has("feature_names") ? learner.Strings("feature_names") : [];
        if (names.Length is not 0 && names.Length != features) throw learner.Error("feature_names", $"{names.Length} names for {features} features.");
        var types = learner.Has("feature_types") ? learner.Strings("feature_types") : [];
        if (types.Length is not 0 && types.Length != features) throw learner.Error("feature_types", $"{types.Length} types for {features} features.");
        for (int i = 0; i < types.Length; i++)
            if (types[i] is not ("q" or "c" or "float" or "int" or "i")) throw learner.Error($"feature_types[{i}]", $"'{types[i]}' is not q, c, float, int or i.");
        var categorical = types.Select(t => t == "c").ToArray();

        var booster = learner.Object("gradient_booster");
        if (booster.String("name") != "gbtree") throw booster.Error("name", $"'{booster.String("name")}'; Jianwei's trees are gbtree.");
        var model = booster.Object("model");
        var modelParam = model.Object("gbtree_model_param");
        var trees = model.Objects("trees");
        if (ParseInt(modelParam, "num_trees", 0, int.MaxValue) != trees.Count) throw modelParam.Error("num_trees", $"says {modelParam.String("num_trees")} but {trees.Count} trees follow.");
        if (modelParam.Has("num_parallel_tree") && ParseInt(modelParam, "num_parallel_tree", 1, 1) != 1) throw modelParam.Error("num_parallel_tree", "must be 1.");
        model.Ints("tree_info", trees.Count, 0, 0);   // the output group of each tree: 0 in a binary model
        for (int t = 0; t < trees.Count; t++) CheckTree(trees[t], t, features, categorical);
        return new Checked(json, features, names, categorical, trees.Count);
    }

    private static void CheckTree(JsonFields tree, int index, int features, bool[] categorical)
    {
        if (tree.Int("id") != index) throw tree.Error("id", $"{tree.Int("id")}, but it is tree {index}.");
        var param = tree.Object("tree_param");
        int n = ParseInt(param, "num_nodes", 1, 1 << 24);
        if (ParseInt(param, "num_feature", 0, int.MaxValue) != features) throw param.Error("num_feature", $"differs from the model's {features}.");
        if (param.Has("num_deleted") && ParseInt(param, "num_deleted", 0, int.MaxValue) != 0) throw param.Error("num_deleted", "a tree with deleted nodes is not accepted (Jianwei's trees have none).");
        if (param.Has("size_leaf_vector") && ParseInt(param, "size_leaf_vector", 0, 1) > 1) throw param.Error("size_leaf_vector", "a binary model has scalar leaves.");
        var left = tree.Ints("left_children", n, -1, n - 1);
        var right = tree.Ints("right_children", n, -1, n - 1);
        var parents = tree.Array("parents", n);
        var split = tree.Ints("split_indices", n, 0);
        var splitType = tree.Ints("split_type", n, 0, 1);
        tree.Ints("default_left", n, 0, 1);
        var conditions = tree.Array("split_conditions", n);
        for (int i = 0; i < n; i++)
        {
            if (conditions[i] is null && splitType[i] == 1 && left[i] >= 0) continue;   // XGBoost's NaN: a categorical split has no threshold
            if (!(conditions[i] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue<double>(out double d)
                  && double.IsFinite(d) && Math.Abs(d) <= JsonFields.Largest))
                throw tree.Error($"split_conditions[{i}]", $"expected a finite number, got {conditions[i]?.ToJsonString() ?? "NaN"}.");
        }
        tree.Numbers("base_weights", n);
        tree.Numbers("loss_changes", n);
        tree.Numbers("sum_hessian", n, min: 0);
        CheckStructure(tree, n, left, right, parents, split, splitType, features, categorical);
        CheckCategories(tree, n, left, splitType);
    }

    /// <summary>Walks from the root: each node reached exactly once, every node reached, parents consistent, splits on existing features, depth bounded.</summary>
    private static void CheckStructure(JsonFields tree, int n, int[] left, int[] right, JsonArray parents, int[] split, int[] splitType, int features, bool[] categorical)
    {
        long Parent(int i) => parents[i] is JsonValue v && v.TryGetValue<long>(out long p) ? p : throw tree.Error($"parents[{i}]", "expected a whole number.");
        // Walk from the root: each node reached exactly once, and every node reached.
        var depth = new int[n];
        var seen = new bool[n];
        var stack = new Stack<int>();
        stack.Push(0);
        seen[0] = true;
        if (Parent(0) != RootParent && Parent(0) != -1) throw tree.Error("parents[0]", "the root has a parent.");
        int reached = 0;
        while (stack.Count > 0)
        {
            int i = stack.Pop();
            reached++;
            if ((left[i] < 0) != (right[i] < 0)) throw tree.Error($"left_children[{i}]", "a node has one child; a split has two, a leaf none.");
            if (left[i] < 0) continue;
            if (split[i] >= features) throw tree.Error($"split_indices[{i}]", $"feature {split[i]} does not exist (the model has {features}).");
            if (splitType[i] == 1 && (categorical.Length == 0 || !categorical[split[i]])) throw tree.Error($"split_type[{i}]", $"a categorical split on feature {split[i]}, which is not categorical.");
            if (depth[i] + 1 > MaxDepth) throw tree.Error(null, $"deeper than {MaxDepth} levels.");
            foreach (int child in new[] { left[i], right[i] })
            {
                if (child == 0 || seen[child]) throw tree.Error($"left_children[{i}]", $"node {child} is reached twice (a cycle or a shared node).");
                if (Parent(child) != i) throw tree.Error($"parents[{child}]", $"{Parent(child)}, but node {i} is its parent.");
                seen[child] = true;
                depth[child] = depth[i] + 1;
                stack.Push(child);
            }
        }
        if (reached != n) throw tree.Error(null, $"{n - reached} of its {n} nodes are not reachable from the root.");
    }

    /// <summary>The category lists: each belongs to one categorical split, stays within the listed categories, and every categorical split has one.</summary>
    private static void CheckCategories(JsonFields tree, int n, int[] left, int[] splitType)
    {
        var nodes = tree.Ints("categories_nodes", min: 0, max: n - 1);
        var segments = tree.Ints("categories_segments", nodes.Length, 0);
        var sizes = tree.Ints("categories_sizes", nodes.Length, 0);
        var categories = tree.Ints("categories", min: 0, max: MaxCategory - 1);
        var categoricalNodes = new HashSet<int>();
        for (int k = 0; k < nodes.Length; k++)
        {
            if (!categoricalNodes.Add(nodes[k]) || splitType[nodes[k]] != 1) throw tree.Error($"categories_nodes[{k}]", $"node {nodes[k]} is listed twice or is not a categorical split.");
            if ((long)segments[k] + sizes[k] > categories.Length) throw tree.Error($"categories_segments[{k}]", $"categories [{segments[k]}, {(long)segments[k] + sizes[k]}) run past the {categories.Length} listed.");
        }
        for (int i = 0; i < n; i++)
            if (splitType[i] == 1 && left[i] >= 0 && !categoricalNodes.Contains(i)) throw tree.Error($"split_type[{i}]", "a categorical split without its categories.");
    }

    /// <summary>
    /// The text with XGBoost's bare <c>NaN</c> tokens (outside strings) as <c>null</c>, so that a JSON
    /// parser reads it; where a null may stand is checked field by field.
    /// </summary>
    private static string BareNaNsAsNull(string text)
    {
        if (!text.Contains("NaN", StringComparison.Ordinal)) return text;
        var sb = new StringBuilder(text.Length);
        bool inString = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < text.Length) sb.Append(text[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') inString = true;
            if (c == 'N' && string.CompareOrdinal(text, i, "NaN", 0, 3) == 0) { sb.Append("null"); i += 2; continue; }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static int ParseInt(JsonFields o, string field, int min, int max)
    {
        var s = o.String(field);
        if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) throw o.Error(field, $"'{s}' is not a whole number.");
        if (v < min || v > max) throw o.Error(field, $"{v} is outside [{min}, {max}].");
        return (int)v;
    }

    private static double ParseFloat(JsonFields o, string field)
    {
        var s = o.String(field).Trim('[', ']');   // XGBoost 2 writes vectors: "[5E-1]"
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && Math.Abs(v) <= JsonFields.Largest
            ? v : throw o.Error(field, $"'{s}' is not a finite number.");
    }
}
