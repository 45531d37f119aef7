using System.Diagnostics;
using System.Text;

namespace Jianwei.Tensors;

/// <summary>
/// Time per op, forward and backward, for finding where a training step goes. Off by default
/// (one branch per recorded op). Forward time is attributed to an op as the time since the previous
/// recorded op on this thread, so untracked glue between ops is included in the next op.
/// </summary>
public static class OpProfiler
{
    private static readonly Dictionary<string, (long Forward, long Backward, int Count)> s_stats = new();
    [ThreadStatic] private static long t_last;

    /// <summary>Turns collection on or off.</summary>
    public static bool Enabled { get; set; }

    /// <summary>Marks a point after which forward time is attributed to the next op (call before a forward pass).</summary>
    public static void Mark() => t_last = Stopwatch.GetTimestamp();

    internal static void Forward(string op)
    {
        long now = Stopwatch.GetTimestamp();
        Add(op, now - t_last, 0, 1);
        t_last = now;
    }

    internal static void Backward(string op, long ticks) => Add(op, 0, ticks, 0);

    private static void Add(string op, long f, long b, int c)
    {
        lock (s_stats)
        {
            s_stats.TryGetValue(op, out var s);
            s_stats[op] = (s.Forward + f, s.Backward + b, s.Count + c);
        }
    }

    /// <summary>Clears the statistics.</summary>
    public static void Reset() { lock (s_stats) s_stats.Clear(); }

    /// <summary>A table of milliseconds per op (forward, backward), largest first, divided by <paramref name="steps"/>.</summary>
    public static string Report(int steps = 1)
    {
        var sb = new StringBuilder("op                      calls    fwd ms    bwd ms\n");
        lock (s_stats)
            foreach (var (op, s) in s_stats.OrderByDescending(kv => kv.Value.Forward + kv.Value.Backward))
                sb.AppendLine($"{op,-22} {s.Count / steps,6} {s.Forward * 1000.0 / Stopwatch.Frequency / steps,9:F1} {s.Backward * 1000.0 / Stopwatch.Frequency / steps,9:F1}");
        return sb.ToString();
    }
}
