using System.Text;
using System.Text.RegularExpressions;
using Jianwei.Models.Boosting;
using Jianwei.Models.Serialization;

namespace Jianwei.Models.Tests;

/// <summary>
/// LightGBM's text models are checked before LightGBM reads them: a trained model passes; each way a
/// tampered one could make LightGBM read out of bounds or loop is refused with its line named; and
/// hundreds of random mutations end in either a model that scores or a refusal — never a crash.
/// </summary>
public class LightGbmTextTests
{
    private static readonly Lazy<string> s_model = new(() =>
    {
        var (x, y) = TreeData.Make(800, 5);
        using var trees = LightGbmTrees.Train(x, y, new BoostingOptions { MaxRounds = 30, LearningRate = 0.2, Threads = 2 }, featureNames: TreeData.Names, categorical: TreeData.Categorical);
        return Encoding.UTF8.GetString(trees.ToText());
    });

    /// <summary>The text with every tree_sizes entry recomputed, so that a tampering inside a tree reaches the tree's own checks.</summary>
    private static byte[] Resized(string text)
    {
        var starts = Regex.Matches(text, @"^Tree=\d+$", RegexOptions.Multiline).Select(m => m.Index).Append(text.IndexOf("end of trees", StringComparison.Ordinal)).ToList();
        var sizes = string.Join(" ", starts.Zip(starts.Skip(1), (a, b) => b - a));
        return Encoding.UTF8.GetBytes(Regex.Replace(text, @"^tree_sizes=.*$", "tree_sizes=" + sizes, RegexOptions.Multiline));
    }

    /// <summary>Replaces the value of <paramref name="key"/> in the first tree that has one, and returns the text.</summary>
    private static string InFirstTree(string key, Func<string[], string[]> edit, Func<Dictionary<string, string>, bool>? where = null)
    {
        var text = s_model.Value;
        foreach (Match tree in Regex.Matches(text, @"^Tree=\d+\n(.*?)\n\n", RegexOptions.Multiline | RegexOptions.Singleline))
        {
            var fields = tree.Groups[1].Value.Split('\n').Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            if (!fields.ContainsKey(key) || fields[key].Length == 0 || where is not null && !where(fields)) continue;
            var line = $"{key}={fields[key]}";
            var edited = $"{key}={string.Join(" ", edit(fields[key].Split(' ')))}";
            return text[..tree.Index] + tree.Value.Replace(line + "\n", edited + "\n") + text[(tree.Index + tree.Length)..];
        }
        throw new InvalidOperationException($"no tree has {key}.");
    }

    private static string Refusal(byte[] bytes) =>
        Assert.Throws<ModelFormatException>(() => LightGbmText.Validate(bytes, TreeData.Categorical, "m/lightgbm.txt")).Message;

    [Fact]
    public void ATrainedModelPasses()
    {
        int trees = LightGbmText.Validate(Encoding.UTF8.GetBytes(s_model.Value), TreeData.Categorical, "m/lightgbm.txt");
        Assert.Equal(Regex.Matches(s_model.Value, @"^Tree=", RegexOptions.Multiline).Count, trees);
        Assert.Contains("num_cat=1", s_model.Value);   // the grade's category splits are checked too
    }

    [Fact]
    public void EachWayToMisleadLightGbmIsRefusedWithItsLineNamed()
    {
        static bool Deep(Dictionary<string, string> f) => int.Parse(f["num_leaves"]) >= 4;
        Assert.Contains("left_child[0]: '1000' is not a whole number in", Refusal(Resized(InFirstTree("left_child", v => ["1000", .. v[1..]]))));
        Assert.Contains("is reached twice (a cycle or a shared node)", Refusal(Resized(InFirstTree("right_child", v => [v[0], "0", .. v[2..]], Deep))));
        Assert.Contains("split_feature[0]: '99' is not a whole number in [0, 3]", Refusal(Resized(InFirstTree("split_feature", v => ["99", .. v[1..]]))));
        Assert.Contains("leaf_value[1]: 'nan' is not a finite number", Refusal(Resized(InFirstTree("leaf_value", v => [v[0], "nan", .. v[2..]]))));
        // A numerical threshold may be inf (LightGBM writes it for a split above every value), never nan.
        static bool Numerical(Dictionary<string, string> f) => (int.Parse(f["decision_type"].Split(' ')[0]) & 1) == 0;
        Assert.True(LightGbmText.Validate(Resized(InFirstTree("threshold", v => ["inf", .. v[1..]], Numerical)), TreeData.Categorical, "m/lightgbm.txt") > 0);
        Assert.Contains("threshold[0]: 'nan' is not a number", Refusal(Resized(InFirstTree("threshold", v => ["nan", .. v[1..]], Numerical))));
        Assert.Contains("is not one of the tree's 1 category sets", Refusal(Resized(InFirstTree("threshold", v => v.Select((t, i) => i == 0 ? "7" : t).ToArray(), f => f["decision_type"].Split(' ')[0] is var d && (int.Parse(d) & 1) == 1))));
        Assert.Contains("cat_threshold: 0 words; cat_boundaries says", Refusal(Resized(InFirstTree("cat_threshold", _ => []))));
        Assert.Contains("a categorical split on feature 0, which is numeric", Refusal(Resized(InFirstTree("decision_type", v => ["9", .. v[1..]], f => f["split_feature"].StartsWith("0 ") && f["num_cat"] == "1"))));
        Assert.Contains("evil: not a line this format has", Refusal(Resized(InFirstTree("shrinkage", v => [.. v, "\nevil=1"]))));
        Assert.Contains("shrinkage: appears twice", Refusal(Resized(InFirstTree("is_linear", v => [.. v, "\nshrinkage=1"]))));
        // tree_sizes is how LightGBM cuts the file: each must span its tree exactly.
        var sizes = Regex.Match(s_model.Value, @"tree_sizes=(\d+)");
        var shifted = s_model.Value.Remove(sizes.Groups[1].Index, sizes.Groups[1].Length).Insert(sizes.Groups[1].Index, (int.Parse(sizes.Groups[1].Value) + 1).ToString());
        Assert.Contains("tree_sizes[0]: ", Refusal(Encoding.UTF8.GetBytes(shifted)));
        Assert.Contains("max_feature_idx: '3'; the model reads 3 features", Assert.Throws<ModelFormatException>(() =>
            LightGbmText.Validate(Encoding.UTF8.GetBytes(s_model.Value), [false, false, true], "m/lightgbm.txt")).Message);
    }

    [Fact]
    public void RandomMutationsEndInAModelThatScoresOrARefusalNeverACrash()
    {
        var original = Encoding.UTF8.GetBytes(s_model.Value);
        var (x, _) = TreeData.Make(50, 9);
        var rng = new Random(22);
        int refused = 0, loaded = 0;
        for (int k = 0; k < 400; k++)
        {
            var bytes = (byte[])original.Clone();
            // Digits changed in place keep the file's shape and sizes: the mutations that reach the tree checks.
            var digits = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToList();
            for (int m = 0; m < 1 + k % 3; m++)
                if (k % 4 == 3) bytes[rng.Next(bytes.Length)] ^= (byte)rng.Next(1, 256);
                else bytes[digits[rng.Next(digits.Count)]] = (byte)('0' + rng.Next(10));
            try
            {
                using var trees = LightGbmTrees.FromText(bytes, TreeData.Names, TreeData.Categorical, "m/lightgbm.txt");
                Assert.All(trees.PredictProbability(x), p => Assert.InRange(p, 0, 1));
                loaded++;
            }
            catch (ModelFormatException) { refused++; }
        }
        Assert.True(refused > 50 && loaded > 50, $"{refused} refused, {loaded} loaded: the mutations should reach both outcomes");
    }
}
