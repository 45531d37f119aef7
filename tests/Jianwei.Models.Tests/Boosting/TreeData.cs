using Jianwei.Models.Boosting;

namespace Jianwei.Models.Tests;

/// <summary>The synthetic table both tree libraries are tested on.</summary>
internal static class TreeData
{
    /// <summary>y = 1 when x0 + 0.5·x1 (+ 0.8 for category 3) + noise &gt; 0.8; x2 is pure noise; x3 is a category code; some x0 missing.</summary>
    public static (DenseMatrix X, int[] Y) Make(int n, int seed)
    {
        var r = new Random(seed);
        var x = new float[n * 4]; var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            float a = (float)r.NextDouble() * 2 - 1, b = (float)r.NextDouble() * 2 - 1, c = (float)r.NextDouble();
            int cat = r.Next(5);
            x[i * 4] = r.NextDouble() < 0.05 ? float.NaN : a; x[i * 4 + 1] = b; x[i * 4 + 2] = c; x[i * 4 + 3] = cat;
            y[i] = a + 0.5 * b + (cat == 3 ? 0.8 : 0) + 0.3 * (r.NextDouble() - 0.5) > 0.8 ? 1 : 0;
        }
        return (new DenseMatrix(x, n, 4), y);
    }

    public static readonly string[] Names = ["a", "b", "noise", "grade"];
    public static readonly bool[] Categorical = [false, false, false, true];
}
