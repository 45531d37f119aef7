using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;

namespace Jianwei.Tensors.Tests;

/// <summary>The README's engine example, run as written, and a check that the README still shows this code.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void EngineExampleTrainsAndLowersTheLoss()
    {
        float first = 0, last = 0;
        // ---- README example begins
        var rng = new Rng(seed: 0);
        var layer = new Linear(16, 2, rng);
        var optimizer = Lookahead.Ranger(layer.Parameters(), lr: 1e-2f);   // RAdam + Lookahead

        var x = Tensor.Uniform(rng, -1, 1, 32, 16);                       // [batch, features]
        var y = new IntTensor(Enumerable.Range(0, 32).Select(i => x[i, 0] > 0 ? 1 : 0).ToArray(), 32);
        for (int step = 0; step < 100; step++)
        {
            using var scope = new TensorScope();      // activations are recycled when the step ends
            optimizer.ZeroGrad();
            var loss = Tensor.CrossEntropy(layer.Forward(x), y, labelSmoothing: 0.1f);
            loss.Backward();
            GradientClipping.ClipGradNorm(layer.Parameters(), 1f);
            optimizer.Step();
        // ---- README example ends
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first - 0.05f, $"loss {first} → {last}");
    }

    [Fact]
    public void ReadmeShowsTheTestedCode()
    {
        string root = FindRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int start = readme.IndexOf("```csharp", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no csharp example");
        int end = readme.IndexOf("```", start + 9, StringComparison.Ordinal);
        var exampleLines = readme[(start + 9)..end].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ") && l != "}").ToList();
        var source = File.ReadAllText(Path.Combine(root, "tests", "Jianwei.Tensors.Tests", "ReadmeExampleTests.cs"));
        var tested = source[source.IndexOf("README example begins", StringComparison.Ordinal)..source.IndexOf("README example ends", StringComparison.Ordinal)]
            .Split('\n').Select(l => l.Trim()).ToHashSet();
        foreach (var line in exampleLines) Assert.Contains(line, tested);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Jianwei.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}
