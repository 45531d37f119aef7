using Jianwei.Data;
using Jianwei.Models.Boosting;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary>
/// The CLI's edge: which exceptions are the user's input speaking (one line, exit 2) and what
/// happens to the rest, which are bugs (exit 70, a short line on the terminal, the details in a
/// crash report file, never a stack trace dumped on the user).
/// </summary>
internal static class UserFacing
{
    /// <summary>Exit code of a problem with the input.</summary>
    public const int UserError = 2;
    /// <summary>Exit code of a bug (sysexits' EX_SOFTWARE).</summary>
    public const int Bug = 70;
    /// <summary>Exit code after Ctrl+C.</summary>
    public const int Interrupted = 130;

    /// <summary>The one-line message of an exception that reports bad input, or null when the exception is a bug.</summary>
    public static string? Describe(Exception e) => e switch
    {
        UserErrorException or DataFormatException or ModelFormatException or DirectoryNotReplaceableException or FileWriteException
            or XGBoostUnavailableException or SafetensorsFormatException or InvalidDataException => OneLine(e.Message),
        UnauthorizedAccessException => OneLine(e.Message.Replace("Access to the path", "permission denied: the path", StringComparison.Ordinal)),
        FileNotFoundException or DirectoryNotFoundException => OneLine(e.Message),
        IOException => OneLine(e.Message),   // the system's reason: disk full, a broken pipe, a file locked by another process
        _ => null,
    };

    /// <summary>Reports a bug: one line on <paramref name="stderr"/>, the details in a file (or on stderr with JIANWEI_DEBUG=1).</summary>
    public static int ReportBug(Exception e, string[] args, TextWriter stderr)
    {
        var details = $"jianwei {string.Join(' ', args)}\n{DateTime.UtcNow:O}\n{e}\n";
        if (Environment.GetEnvironmentVariable("JIANWEI_DEBUG") is "1" or "true")
        {
            stderr.Write(details);
            return Bug;
        }
        string where;
        try
        {
            where = Path.Combine(Path.GetTempPath(), $"jianwei-crash-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.txt");
            File.WriteAllText(where, details);
        }
        catch (Exception write) when (write is IOException or UnauthorizedAccessException) { where = "(no report: the temporary directory is not writable; rerun with JIANWEI_DEBUG=1)"; }
        stderr.WriteLine($"jianwei: internal error ({e.GetType().Name}: {OneLine(e.Message)}). This is a bug in Jianwei, not in your input; details: {where}");
        return Bug;
    }

    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
