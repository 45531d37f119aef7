namespace Jianwei.Tensors.Kernels;

/// <summary>Which implementation runs matrix products.</summary>
public enum GemmBackend
{
    /// <summary>OpenBLAS <c>cblas_sgemm</c>.</summary>
    OpenBlas,
    /// <summary>The engine's own blocked SIMD kernel.</summary>
    Managed,
}

/// <summary>
/// Row-major single-precision matrix products: C = alpha·op(A)·op(B) + beta·C, where op(X) is X or
/// Xᵀ. Goes to OpenBLAS when it loads, else to <see cref="ManagedGemm"/>; <c>JIANWEI_BLAS=managed</c>
/// forces the managed kernel.
/// </summary>
public static unsafe class Gemm
{
    private static GemmBackend s_backend;

    static Gemm()
    {
        var requested = Environment.GetEnvironmentVariable("JIANWEI_BLAS");
        bool forceManaged = string.Equals(requested, "managed", StringComparison.OrdinalIgnoreCase);
        s_backend = !forceManaged && OpenBlas.IsAvailable ? GemmBackend.OpenBlas : GemmBackend.Managed;
        if (OpenBlas.IsAvailable) OpenBlas.SetThreads(Parallelism.Threads);
    }

    /// <summary>The backend in use. Setting <see cref="GemmBackend.OpenBlas"/> when it is missing throws.</summary>
    public static GemmBackend Backend
    {
        get => s_backend;
        set
        {
            if (value == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
                throw new InvalidOperationException("OpenBLAS is not available: " + OpenBlas.LoadError);
            s_backend = value;
        }
    }

    /// <summary>Sets the thread count of the engine's kernels and of OpenBLAS together.</summary>
    public static void SetThreads(int n)
    {
        Parallelism.Threads = n;
        if (OpenBlas.IsAvailable) OpenBlas.SetThreads(n);
    }

    /// <summary>True when OpenBLAS could be loaded.</summary>
    public static bool OpenBlasAvailable => OpenBlas.IsAvailable;

    /// <summary>One line for start-up logs: which backend, from where, with how many threads.</summary>
    public static string Describe() => s_backend == GemmBackend.OpenBlas
        ? $"GEMM: OpenBLAS ({OpenBlas.LibraryPath}), {Parallelism.Threads} threads"
        : $"GEMM: managed {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : "AVX2/generic")} kernel, {Parallelism.Threads} threads"
          + (OpenBlas.IsAvailable ? " (JIANWEI_BLAS=managed)" : $" ({OpenBlas.LoadError})");

    /// <summary>C[m×n] = alpha·op(A)·op(B) + beta·C with leading dimensions lda, ldb, ldc.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
                             ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
                             float beta, Span<float> c, int ldc)
    {
        CheckBounds(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (float* pa = a, pb = b, pc = c)
            Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
                               float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Dispatch(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, serial: false);

    /// <summary>OpenBLAS when selected (its own thread count applies), else the managed kernel, threaded or not.</summary>
    private static void Dispatch(bool transA, bool transB, int m, int n, int k, float alpha,
                                 float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool serial)
    {
        if (m == 0 || n == 0) return;
        if (s_backend == GemmBackend.OpenBlas && k > 0)
            OpenBlas.Sgemm(transA, transB, m, n, k, alpha, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), beta, c, ldc);
        else if (serial)
            ManagedGemm.SgemmSingle(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else
            ManagedGemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Opens a region in which the engine runs many small products at once, one per core: OpenBLAS is
    /// set to one thread until the region is disposed, and <see cref="SgemmSerial"/> may be called
    /// from several threads. (OpenBLAS's thread count is process-wide, so regions are not nested
    /// across threads; the engine opens them only around its own parallel loops.)
    /// </summary>
    public static SerialRegion SerialBlas()
    {
        if (s_backend == GemmBackend.OpenBlas && Parallelism.Threads > 1) OpenBlas.SetThreads(1);
        return new SerialRegion();
    }

    /// <summary>Restores OpenBLAS's thread count when disposed.</summary>
    public readonly struct SerialRegion : IDisposable
    {
        /// <summary>Restores the thread count.</summary>
        public void Dispose()
        {
            if (s_backend == GemmBackend.OpenBlas && Parallelism.Threads > 1) OpenBlas.SetThreads(Parallelism.Threads);
        }
    }

    /// <summary>
    /// A product on the calling thread only, for use inside <see cref="SerialBlas"/> (one small matrix
    /// per task): single-threaded OpenBLAS, or the managed kernel without its own threading.
    /// </summary>
    internal static void SgemmSerial(bool transA, bool transB, int m, int n, int k, float alpha,
                                     float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Dispatch(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, serial: true);

    /// <summary>
    /// <paramref name="batch"/> independent products with fixed strides between matrices. Small
    /// products run one per core through the managed kernel (a threaded BLAS call per small matrix
    /// costs more than the work); large ones run one after another on the full backend.
    /// </summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
                                    ReadOnlySpan<float> a, int lda, long strideA,
                                    ReadOnlySpan<float> b, int ldb, long strideB,
                                    float beta, Span<float> c, int ldc, long strideC, int batch)
    {
        if (batch == 0) return;
        long needA = strideA * (batch - 1), needB = strideB * (batch - 1), needC = strideC * (batch - 1);
        CheckBounds(transA, transB, m, n, k, a.Length - needA, lda, b.Length - needB, ldb, c.Length - needC, ldc);
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* a0 = pa, b0 = pb, c0 = pc;
            bool small = (long)m * n * k <= 1L << 22;
            if (small && batch > 1)
            {
                using var region = SerialBlas();
                Parallelism.For(batch, 1, (s, e) =>
                {
                    for (int i = s; i < e; i++)
                        SgemmSerial(transA, transB, m, n, k, alpha, a0 + i * strideA, lda, b0 + i * strideB, ldb, beta, c0 + i * strideC, ldc);
                });
            }
            else
            {
                for (int i = 0; i < batch; i++)
                    Sgemm(transA, transB, m, n, k, alpha, a0 + i * strideA, lda, b0 + i * strideB, ldb, beta, c0 + i * strideC, ldc);
            }
        }
    }

    private static void CheckBounds(bool transA, bool transB, int m, int n, int k, long aLen, int lda, long bLen, int ldb, long cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Negative GEMM size m={m} n={n} k={k}.");
        // op(A) is m×k: stored m×k (lda ≥ k) or k×m (lda ≥ m).
        long aRows = transA ? k : m, aCols = transA ? m : k;
        long bRows = transB ? n : k, bCols = transB ? k : n;
        if (aRows > 0 && aCols > 0 && (lda < aCols || (aRows - 1) * lda + aCols > aLen))
            throw new ArgumentException($"GEMM: A ({aRows}×{aCols}, lda {lda}) does not fit in {aLen} floats.");
        if (bRows > 0 && bCols > 0 && (ldb < bCols || (bRows - 1) * ldb + bCols > bLen))
            throw new ArgumentException($"GEMM: B ({bRows}×{bCols}, ldb {ldb}) does not fit in {bLen} floats.");
        if (m > 0 && n > 0 && (ldc < n || (long)(m - 1) * ldc + n > cLen))
            throw new ArgumentException($"GEMM: C ({m}×{n}, ldc {ldc}) does not fit in {cLen} floats.");
    }
}
