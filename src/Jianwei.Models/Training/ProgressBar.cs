using System.Diagnostics;
using System.Globalization;

namespace Jianwei.Models.Training;

/// <summary>
/// A one-line progress bar with rate and ETA: redrawn in place (at most 5 times a second) on a
/// terminal, or printed as a plain line every <see cref="LineInterval"/> when output is redirected, so
/// logs stay readable.
/// </summary>
public sealed class ProgressBar
{
    private readonly TextWriter _writer;
    private readonly string _label;
    private readonly bool _interactive;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private bool _drawn;

    /// <summary>Time between lines when not interactive.</summary>
    public TimeSpan LineInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Creates a bar on <paramref name="writer"/>; interactive defaults to "standard error is a terminal".</summary>
    public ProgressBar(TextWriter writer, string label, bool? interactive = null)
    {
        _writer = writer;
        _label = label;
        _interactive = interactive ?? (ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected);
    }

    /// <summary>Reports progress; draws only when due (or when <paramref name="force"/>).</summary>
    public void Update(long done, long total, TimeSpan elapsed, string details, bool force = false)
    {
        var due = _interactive ? TimeSpan.FromMilliseconds(200) : LineInterval;
        if (!force && _drawn && _sinceDraw.Elapsed < due) return;
        _sinceDraw.Restart();
        _drawn = true;
        double fraction = total > 0 ? Math.Clamp(done / (double)total, 0, 1) : 0;
        string eta = done > 0 && total > done ? Format(TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (total - done))) : "--:--";
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{_label} {Bar(fraction)} {fraction * 100,3:F0}% {done}/{total} [{Format(elapsed)}<{eta}] {details}");
        if (_interactive) _writer.Write("\r" + line.PadRight(Math.Min(160, line.Length + 8)));
        else _writer.WriteLine(line);
        _writer.Flush();
    }

    /// <summary>Ends the bar's line.</summary>
    public void Finish()
    {
        if (_interactive && _drawn) _writer.WriteLine();
    }

    private static string Bar(double fraction)
    {
        const int width = 24;
        int filled = (int)Math.Round(fraction * width);
        return "|" + new string('█', filled) + new string('·', width - filled) + "|";
    }

    /// <summary>h:mm:ss or m:ss.</summary>
    public static string Format(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}:{t.Seconds:00}");
}
