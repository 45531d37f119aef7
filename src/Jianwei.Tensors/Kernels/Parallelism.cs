namespace Jianwei.Tensors.Kernels;

/// <summary>
/// Splits index ranges across cores. Chunk boundaries depend only on the range and the thread
/// count, never on timing, so results that combine per-chunk partials stay bit-reproducible.
/// </summary>
public static class Parallelism
{
    private static int s_threads = Environment.ProcessorCount;

    /// <summary>Worker count for engine kernels (default: processor count; <c>JIANWEI_THREADS</c> overrides).</summary>
    public static int Threads
    {
        get => s_threads;
        set => s_threads = Math.Max(1, value);
    }

    static Parallelism()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("JIANWEI_THREADS"), out int n) && n > 0) s_threads = n;
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in at most <see cref="Threads"/> chunks,
    /// each at least <paramref name="minChunk"/> long; small ranges run inline.
    /// </summary>
    public static void For(int count, int minChunk, Action<int, int> body)
    {
        int chunks = ChunkCount(count, minChunk);
        if (chunks <= 1) { if (count > 0) body(0, count); return; }
        System.Threading.Tasks.Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
        {
            var (s, e) = Chunk(count, chunks, c);
            body(s, e);
        });
    }

    /// <summary>Number of chunks <see cref="For"/> would use.</summary>
    public static int ChunkCount(int count, int minChunk) => Math.Max(1, Math.Min(s_threads, count / Math.Max(1, minChunk)));

    /// <summary>Bounds of chunk <paramref name="c"/> of <paramref name="chunks"/> over [0, count).</summary>
    public static (int Start, int End) Chunk(int count, int chunks, int c)
    {
        long s = (long)count * c / chunks, e = (long)count * (c + 1) / chunks;
        return ((int)s, (int)e);
    }
}
