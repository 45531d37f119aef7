using Jianwei.Tensors.Kernels;

namespace Jianwei.Tensors.Tests;

/// <summary>Both GEMM backends against a double-precision triple loop, over every transpose and awkward sizes.</summary>
public class GemmTests
{
    private static float[] Rand(int n, ulong seed) { var r = new Rng(seed); return Enumerable.Range(0, n).Select(_ => r.NextFloat() * 2 - 1).ToArray(); }

    private static float[] Reference(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c)
    {
        var r = (float[])c.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                r[i * n + j] = (float)(alpha * s + beta * c[i * n + j]);
            }
        return r;
    }

    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 }, { 3, 5, 7 }, { 8, 32, 256 }, { 17, 33, 257 }, { 130, 70, 300 }, { 1, 300, 40 }, { 200, 1, 9 }, { 64, 2100, 19 },
    };

    [Theory, MemberData(nameof(Sizes))]
    public void ManagedMatchesReference(int m, int n, int k) => CheckBackend(GemmBackend.Managed, m, n, k);

    [Theory, MemberData(nameof(Sizes))]
    public void OpenBlasMatchesReference(int m, int n, int k)
    {
        if (!Gemm.OpenBlasAvailable) return;   // the managed test covers the fallback; CI installs OpenBLAS
        CheckBackend(GemmBackend.OpenBlas, m, n, k);
    }

    private static void CheckBackend(GemmBackend backend, int m, int n, int k)
    {
        var saved = Gemm.Backend;
        try
        {
            Gemm.Backend = backend;
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (2f, -0.5f) })
                    {
                        var a = Rand(m * k, 1); var b = Rand(k * n, 2); var c = Rand(m * n, 3);
                        var expected = Reference(ta, tb, m, n, k, alpha, a, b, beta, c);
                        Gemm.Sgemm(ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
                        for (int i = 0; i < c.Length; i++)
                            Assert.True(MathF.Abs(c[i] - expected[i]) <= 1e-4f * (1 + k * 0.01f), $"{backend} ta={ta} tb={tb} α={alpha} β={beta} [{i}]: {c[i]} vs {expected[i]}");
                    }
        }
        finally { Gemm.Backend = saved; }
    }

    [Fact]
    public void BatchedMatchesPerMatrixProducts()
    {
        int batch = 6, m = 9, n = 11, k = 13;
        var a = Rand(batch * m * k, 4); var b = Rand(batch * k * n, 5);
        var c = new float[batch * m * n];
        Gemm.SgemmBatched(false, true, m, n, k, 1f, a, k, m * k, b, k, k * n, 0f, c, n, m * n, batch);
        for (int i = 0; i < batch; i++)
        {
            var expected = Reference(false, true, m, n, k, 1f, a[(i * m * k)..((i + 1) * m * k)], b[(i * k * n)..((i + 1) * k * n)], 0f, new float[m * n]);
            for (int j = 0; j < m * n; j++) Assert.Equal(expected[j], c[i * m * n + j], 4);
        }
    }

    [Fact]
    public void BoundsAreCheckedBeforeNativeCode()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("A (4×4", e.Message);
    }

    [Fact]
    public void DescribeNamesTheBackend() => Assert.Contains(Gemm.Backend == GemmBackend.OpenBlas ? "OpenBLAS" : "managed", Gemm.Describe());
}
