namespace Jianwei.Data;

/// <summary>
/// Bad input data: the message names the file and, where known, the line and column, in one line a
/// user can act on ("loans.csv:17: column 'income': ..."). Never carries a stack trace to the user.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception; the message is composed from the location and the problem.</summary>
    public DataFormatException(string file, long? line, string? column, string problem)
        : base(Compose(file, line, column, problem))
    {
        File = file; Line = line; Column = column; Problem = problem;
    }

    /// <summary>The file (as the user named it).</summary>
    public string File { get; }
    /// <summary>1-based line, when known.</summary>
    public long? Line { get; }
    /// <summary>The column's name (or "#n" for an unnamed position), when known.</summary>
    public string? Column { get; }
    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    private static string Compose(string file, long? line, string? column, string problem)
        => file + (line is { } l ? $":{l}" : "") + ": " + (column is null ? "" : $"column '{column}': ") + problem;
}
