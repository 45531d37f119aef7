using System.Text;
using System.Text.Json.Nodes;
using Jianwei.Models.Boosting;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests;

/// <summary>
/// XGBoost trusts its model files: each tampering below made its predictor crash (out-of-bounds
/// reads) or spin forever. The validator must refuse every one, naming the field, before XGBoost
/// sees it — and accept what XGBoost itself writes, bare NaN of categorical splits included.
/// </summary>
public class BoosterJsonTests
{
    private static readonly Lazy<byte[]> Model = new(() =>
    {
        var r = new Random(3);
        int n = 800;
        var x = new float[n * 3];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            x[i * 3] = (float)r.NextDouble(); x[i * 3 + 1] = r.Next(6); x[i * 3 + 2] = (float)r.NextDouble();
            y[i] = x[i * 3] + (x[i * 3 + 1] == 2 ? 0.6 : 0) + 0.3 * r.NextDouble() > 0.9 ? 1 : 0;
        }
        using var model = GradientBoostedTrees.Train(new DenseMatrix(x, n, 3), y, new BoostingOptions { MaxRounds = 12, MaxDepth = 4, Threads = 2, MaxCategoriesOneHot = 1 },
            featureNames: ["a", "grade", "b"], categorical: [false, true, false]);
        return model.ToJson();
    });

    private static JsonNode Tree(JsonNode root, int t) => root["learner"]!["gradient_booster"]!["model"]!["trees"]![t]!;

    /// <summary>The model's text as XGBoost wrote it, edited, back to bytes (bare NaN kept as XGBoost writes it).</summary>
    private static byte[] Edit(Action<JsonNode> edit)
    {
        var text = Encoding.UTF8.GetString(Model.Value);
        var root = JsonNode.Parse(text.Replace("NaN", "\"__nan__\""))!;
        edit(root);
        return Encoding.UTF8.GetBytes(root.ToJsonString().Replace("\"__nan__\"", "NaN"));
    }

    private static string Refused(byte[] json) => Assert.Throws<ModelFormatException>(() => BoosterJson.Validate(json, "xgboost.json")).Message;

    [Fact]
    public void WhatXGBoostWritesIsAcceptedAndScoresTheSame()
    {
        Assert.Contains("NaN", Encoding.UTF8.GetString(Model.Value));   // categorical splits are present, with XGBoost's bare NaN
        var valid = BoosterJson.Validate(Model.Value, "xgboost.json");
        Assert.Equal((3, 12), (valid.Features, valid.Trees));
        Assert.Equal([false, true, false], valid.Categorical);
        using var model = GradientBoostedTrees.FromJson(Model.Value);
        Assert.Equal(["a", "grade", "b"], model.FeatureNames);
    }

    [Fact]
    public void EachTamperingIsRefusedNamingTheField()
    {
        int Leaf(JsonNode t) => t["left_children"]!.AsArray().Select(v => v!.GetValue<int>()).ToList().IndexOf(-1);
        var cases = new (string Expected, Action<JsonNode> Edit)[]
        {
            ("trees[0].left_children[0]: 1000000 is outside", r => Tree(r, 0)["left_children"]![0] = 1_000_000),
            ("trees[0].split_indices[0]: feature 1000000 does not exist", r => Tree(r, 0)["split_indices"]![0] = 1_000_000),
            ("reached twice (a cycle", r => Tree(r, 0)["left_children"]![Tree(r, 0)["left_children"]![0]!.GetValue<int>()] = Tree(r, 0)["left_children"]![0]!.GetValue<int>()),
            ("reached twice (a cycle", r => { var t = Tree(r, 1); t["right_children"]![0] = t["left_children"]![0]!.GetValue<int>(); }),
            ("has one child", r => { var t = Tree(r, 0); t["right_children"]![0] = -1; }),
            ("not reachable from the root", r => { var t = Tree(r, 0); int l = t["left_children"]![0]!.GetValue<int>(); t["left_children"]![0] = -1; t["right_children"]![0] = -1; _ = l; }),
            ("parents[", r => { var t = Tree(r, 0); t["parents"]![t["left_children"]![0]!.GetValue<int>()] = 7; }),
            ("split_conditions[", r => { var t = Tree(r, 0); t["split_conditions"]![Leaf(t)] = "__nan__"; }),
            ("split_conditions[", r => { var t = Tree(r, 0); t["split_conditions"]![Leaf(t)] = 1e300; }),
            ("base_weights[0]: expected a finite number", r => Tree(r, 0)["base_weights"]![0] = "inf"),
            ("sum_hessian[0]", r => Tree(r, 0)["sum_hessian"]![0] = -1.0),
            ("left_children: expected", r => Tree(r, 0)["left_children"]!.AsArray().RemoveAt(0)),
            ("num_trees: says", r => r["learner"]!["gradient_booster"]!["model"]!["gbtree_model_param"]!["num_trees"] = "99"),
            ("num_feature: differs", r => Tree(r, 2)["tree_param"]!["num_feature"] = "50"),
            ("feature_names: 3 names for 9 features", r => r["learner"]!["learner_model_param"]!["num_feature"] = "9"),
            ("base_score", r => r["learner"]!["learner_model_param"]!["base_score"] = "7"),
            ("objective.name: 'reg:squarederror'", r => r["learner"]!["objective"]!["name"] = "reg:squarederror"),
            ("categories_segments[0]: categories", r => { var t = Categorical(r); t["categories_segments"]![0] = 1_000; }),
            ("categories[0]:", r => { var t = Categorical(r); t["categories"]![0] = 1 << 30; }),
            ("which is not categorical", r => { var t = Categorical(r); int node = t["categories_nodes"]![0]!.GetValue<int>(); t["split_indices"]![node] = 0; }),
            ("without its categories", r => { var t = Categorical(r); t["categories_nodes"] = new JsonArray(); t["categories_segments"] = new JsonArray(); t["categories_sizes"] = new JsonArray(); }),
            ("id: 5, but it is tree 0", r => Tree(r, 0)["id"] = 5),
        };
        foreach (var (expected, edit) in cases)
        {
            var message = Refused(Edit(edit));
            Assert.StartsWith("xgboost.json: ", message);
            Assert.Contains(expected, message);
        }
        Assert.Contains("not valid JSON", Refused("{garbage"u8.ToArray()));
        Assert.Contains("not valid UTF-8", Refused([0x7B, 0xFF, 0x7D]));
        Assert.Contains("Duplicate property", Refused(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Model.Value).Replace("{\"learner\":", "{\"version\":[1,7,4],\"learner\":"))));
    }

    /// <summary>The first tree with a categorical split.</summary>
    private static JsonNode Categorical(JsonNode root)
    {
        foreach (var t in root["learner"]!["gradient_booster"]!["model"]!["trees"]!.AsArray())
            if (t!["categories_nodes"]!.AsArray().Count > 0) return t;
        throw new InvalidOperationException("the fixture model has no categorical split");
    }

    [Fact]
    public void ADeepChainIsRefused()
    {
        // A legal-looking tree 100 levels deep: each node's right child is a leaf, its left the next node.
        var bytes = Edit(r =>
        {
            var t = Tree(r, 0);
            int n = 2 * 100 + 1;
            JsonArray Fill(Func<int, JsonNode?> f) => new(Enumerable.Range(0, n).Select(f).ToArray());
            t["left_children"] = Fill(i => i % 2 == 0 && i < n - 1 ? i + 2 : -1);
            t["right_children"] = Fill(i => i % 2 == 0 && i < n - 1 ? i + 1 : -1);
            t["parents"] = Fill(i => i == 0 ? int.MaxValue : (i % 2 == 1 ? i - 1 : i - 2));
            foreach (var key in new[] { "split_indices", "split_type", "default_left" }) t[key] = Fill(_ => 0);
            foreach (var key in new[] { "split_conditions", "base_weights", "loss_changes", "sum_hessian" }) t[key] = Fill(_ => 0.5);
            foreach (var key in new[] { "categories", "categories_nodes", "categories_segments", "categories_sizes" }) t[key] = new JsonArray();
            t["tree_param"]!["num_nodes"] = n.ToString();
        });
        Assert.Contains("deeper than 64 levels", Refused(bytes));
    }
}
