using System.Runtime.InteropServices;

namespace Jianwei.Tensors.Kernels;

/// <summary>
/// OpenBLAS through P/Invoke, located at run time (Debian: <c>libopenblas0-pthread</c>).
/// Only <c>cblas_sgemm</c> is used; everything else in the engine is managed.
/// </summary>
internal static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, void> s_setThreads;

    public static bool IsAvailable => s_sgemm != null;
    public static string? LibraryPath { get; }
    public static string? LoadError { get; }

    static OpenBlas()
    {
        string[] candidates =
        [
            "libopenblas.so.0", "libopenblas.so",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "libopenblas.dylib", "libopenblas.dll",
        ];
        foreach (var name in candidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm)) continue;
            s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var st))
                s_setThreads = (delegate* unmanaged<int, void>)st;
            LibraryPath = name;
            return;
        }
        LoadError = "libopenblas.so.0 not found (install it with: apt-get install -y libopenblas0-pthread)";
    }

    public static void SetThreads(int n)
    {
        if (s_setThreads != null) s_setThreads(n);
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
                             float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        s_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
