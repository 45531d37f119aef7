using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Jianwei.Tensors.Kernels;

/// <summary>
/// Managed SGEMM, C = alpha·op(A)·op(B) + beta·C, row-major, used when OpenBLAS is absent or
/// <c>JIANWEI_BLAS=managed</c>, and for batches of small products (attention) where one call per
/// matrix into a threaded BLAS costs more than the work.
/// </summary>
/// <remarks>
/// The classic Goto/BLIS structure: B is packed into NR-wide column panels of KC rows, A into MR-tall
/// row panels (transposes are absorbed by packing, alpha is folded into A), and an MR×NR register
/// tile is updated by FMA. Rules the hot loop keeps:
/// <list type="bullet">
/// <item>Every element of C is owned by exactly one task and accumulated in a fixed k order, so the
/// result does not depend on scheduling (bit-reproducible for a given thread count).</item>
/// <item>Packed panels are zero-padded to full MR/NR, so the micro-kernel never branches on edges;
/// partial tiles go through a small scratch tile.</item>
/// </list>
/// </remarks>
internal static unsafe class ManagedGemm
{
    private const int KC = 256;
    private const int NC = 2048;

    private static bool Use512 => Vector512.IsHardwareAccelerated;
    private static int MR => Use512 ? 8 : 6;
    private static int NR => Use512 ? 32 : 16;
    private static int MC => MR * 16;

    [ThreadStatic] private static float* t_packA;
    [ThreadStatic] private static float* t_packB;
    [ThreadStatic] private static float* t_tile;

    private static float* PackABuffer() => t_packA != null ? t_packA : t_packA = Alloc(128 * KC);
    private static float* PackBBuffer() => t_packB != null ? t_packB : t_packB = Alloc((NC + 32) * KC);
    private static float* TileBuffer() => t_tile != null ? t_tile : t_tile = Alloc(8 * 32);
    private static float* Alloc(int floats) => (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);

    /// <summary>Multi-threaded product (threads over row blocks and column splits).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
                             float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Parallelism.Threads);

    /// <summary>Single-threaded product, for callers that parallelize over a batch themselves.</summary>
    public static void SgemmSingle(bool transA, bool transB, int m, int n, int k, float alpha,
                                   float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1);

    private static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
                            float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads)
    {
        if (m == 0 || n == 0) return;
        ScaleC(m, n, beta, c, ldc);
        if (k == 0 || alpha == 0f) return;

        int mr = MR, nr = NR, mc = MC;
        float* packB = PackBBuffer();
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            int nPanels = (nc + nr - 1) / nr;
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                PackB(transB, b, ldb, pc, jc, kc, nc, nr, packB);

                int mBlocks = (m + mc - 1) / mc;
                // Enough tasks for every thread: split columns when there are few row blocks.
                int nSplits = Math.Max(1, Math.Min(nPanels, (threads + mBlocks - 1) / mBlocks));
                int tasks = mBlocks * nSplits;
                var job = new BlockJob(transA, a, lda, c, ldc, alpha, m, pc, kc, jc, nc, nPanels, nSplits, mc, packB);
                if (threads <= 1 || tasks == 1 || (long)m * nc * kc < 1 << 18)
                {
                    for (int t = 0; t < tasks; t++) job.Execute(t);
                }
                else
                {
                    System.Threading.Tasks.Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads }, job.Execute);
                }
            }
        }
    }

    /// <summary>One (row block × column split) of C for the current KC×NC panel of B.</summary>
    private sealed class BlockJob(bool transA, float* a, int lda, float* c, int ldc, float alpha, int m,
                                  int pc, int kc, int jc, int nc, int nPanels, int nSplits, int mc, float* packB)
    {
        public void Execute(int task)
        {
            int ib = task / nSplits, split = task % nSplits;
            int ic = ib * mc, rows = Math.Min(mc, m - ic);
            var (p0, p1) = Parallelism.Chunk(nPanels, nSplits, split);
            if (p0 == p1) return;
            int mr = MR, nr = NR;
            float* packA = PackABuffer();
            PackA(transA, a, lda, ic, pc, rows, kc, alpha, mr, packA);
            float* tile = TileBuffer();
            int mPanels = (rows + mr - 1) / mr;
            for (int jp = p0; jp < p1; jp++)
            {
                int col = jp * nr;
                int cols = Math.Min(nr, nc - col);
                float* bp = packB + (long)jp * nr * kc;
                for (int ip = 0; ip < mPanels; ip++)
                {
                    int row = ip * mr;
                    int r = Math.Min(mr, rows - row);
                    float* ap = packA + (long)ip * mr * kc;
                    float* cp = c + (long)(ic + row) * ldc + jc + col;
                    if (r == mr && cols == nr)
                        MicroKernel(kc, ap, bp, cp, ldc);
                    else
                    {
                        new Span<float>(tile, mr * nr).Clear();
                        MicroKernel(kc, ap, bp, tile, nr);
                        for (int i = 0; i < r; i++)
                            for (int j = 0; j < cols; j++)
                                cp[(long)i * ldc + j] += tile[i * nr + j];
                    }
                }
            }
        }
    }

    private static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>Packs rows [ic, ic+rows) × k [pc, pc+kc) of op(A), times alpha, into MR-tall panels laid out [panel][k][MR].</summary>
    private static void PackA(bool transA, float* a, int lda, int ic, int pc, int rows, int kc, float alpha, int mr, float* dst)
    {
        int panels = (rows + mr - 1) / mr;
        for (int p = 0; p < panels; p++)
        {
            float* d = dst + (long)p * mr * kc;
            int r0 = ic + p * mr, rN = Math.Min(mr, rows - p * mr);
            for (int kk = 0; kk < kc; kk++)
            {
                float* dk = d + kk * mr;
                for (int i = 0; i < rN; i++)
                {
                    // op(A)[row, col] = transA ? A[col, row] : A[row, col]
                    float v = transA ? a[(long)(pc + kk) * lda + r0 + i] : a[(long)(r0 + i) * lda + pc + kk];
                    dk[i] = alpha * v;
                }
                for (int i = rN; i < mr; i++) dk[i] = 0f;
            }
        }
    }

    /// <summary>Packs k [pc, pc+kc) × columns [jc, jc+nc) of op(B) into NR-wide panels laid out [panel][k][NR].</summary>
    private static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, int nr, float* dst)
    {
        int panels = (nc + nr - 1) / nr;
        for (int p = 0; p < panels; p++)
        {
            float* d = dst + (long)p * nr * kc;
            int c0 = jc + p * nr, cN = Math.Min(nr, nc - p * nr);
            if (!transB)
            {
                for (int kk = 0; kk < kc; kk++)
                {
                    float* src = b + (long)(pc + kk) * ldb + c0;
                    float* dk = d + kk * nr;
                    if (cN == nr) Buffer.MemoryCopy(src, dk, nr * sizeof(float), nr * sizeof(float));
                    else
                    {
                        for (int j = 0; j < cN; j++) dk[j] = src[j];
                        for (int j = cN; j < nr; j++) dk[j] = 0f;
                    }
                }
            }
            else
            {
                // op(B)[kk, col] = B[col, kk]: walk each source row (contiguous in k) once.
                for (int j = 0; j < cN; j++)
                {
                    float* src = b + (long)(c0 + j) * ldb + pc;
                    for (int kk = 0; kk < kc; kk++) d[kk * nr + j] = src[kk];
                }
                for (int j = cN; j < nr; j++)
                    for (int kk = 0; kk < kc; kk++) d[kk * nr + j] = 0f;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int kc, float* ap, float* bp, float* c, int ldc)
    {
        if (Use512) Kernel8x32(kc, ap, bp, c, ldc);
        else Kernel6x16(kc, ap, bp, c, ldc);
    }

    /// <summary>C[8×32] += Apanel[8×kc] · Bpanel[kc×32]; 16 zmm accumulators, 2 B loads and 8 broadcasts per k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* ap, float* bp, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default,
                         c20 = default, c21 = default, c30 = default, c31 = default,
                         c40 = default, c41 = default, c50 = default, c51 = default,
                         c60 = default, c61 = default, c70 = default, c71 = default;
        for (int kk = 0; kk < kc; kk++)
        {
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            Vector512<float> a;
            a = Vector512.Create(ap[0]); c00 = Vector512.FusedMultiplyAdd(a, b0, c00); c01 = Vector512.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(ap[1]); c10 = Vector512.FusedMultiplyAdd(a, b0, c10); c11 = Vector512.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(ap[2]); c20 = Vector512.FusedMultiplyAdd(a, b0, c20); c21 = Vector512.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(ap[3]); c30 = Vector512.FusedMultiplyAdd(a, b0, c30); c31 = Vector512.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(ap[4]); c40 = Vector512.FusedMultiplyAdd(a, b0, c40); c41 = Vector512.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(ap[5]); c50 = Vector512.FusedMultiplyAdd(a, b0, c50); c51 = Vector512.FusedMultiplyAdd(a, b1, c51);
            a = Vector512.Create(ap[6]); c60 = Vector512.FusedMultiplyAdd(a, b0, c60); c61 = Vector512.FusedMultiplyAdd(a, b1, c61);
            a = Vector512.Create(ap[7]); c70 = Vector512.FusedMultiplyAdd(a, b0, c70); c71 = Vector512.FusedMultiplyAdd(a, b1, c71);
            ap += 8; bp += 32;
        }
        AddStore(c, c00, c01); c += ldc; AddStore(c, c10, c11); c += ldc;
        AddStore(c, c20, c21); c += ldc; AddStore(c, c30, c31); c += ldc;
        AddStore(c, c40, c41); c += ldc; AddStore(c, c50, c51); c += ldc;
        AddStore(c, c60, c61); c += ldc; AddStore(c, c70, c71);

        static void AddStore(float* row, Vector512<float> lo, Vector512<float> hi)
        {
            (Vector512.Load(row) + lo).Store(row);
            (Vector512.Load(row + 16) + hi).Store(row + 16);
        }
    }

    /// <summary>C[6×16] += Apanel[6×kc] · Bpanel[kc×16]; 12 ymm accumulators (AVX2 machines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* ap, float* bp, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                         c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int kk = 0; kk < kc; kk++)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            Vector256<float> a;
            a = Vector256.Create(ap[0]); c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
            a = Vector256.Create(ap[1]); c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            a = Vector256.Create(ap[2]); c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            a = Vector256.Create(ap[3]); c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
            a = Vector256.Create(ap[4]); c40 = Vector256.FusedMultiplyAdd(a, b0, c40); c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
            a = Vector256.Create(ap[5]); c50 = Vector256.FusedMultiplyAdd(a, b0, c50); c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
            ap += 6; bp += 16;
        }
        AddStore(c, c00, c01); c += ldc; AddStore(c, c10, c11); c += ldc; AddStore(c, c20, c21); c += ldc;
        AddStore(c, c30, c31); c += ldc; AddStore(c, c40, c41); c += ldc; AddStore(c, c50, c51);

        static void AddStore(float* row, Vector256<float> lo, Vector256<float> hi)
        {
            (Vector256.Load(row) + lo).Store(row);
            (Vector256.Load(row + 8) + hi).Store(row + 8);
        }
    }
}
