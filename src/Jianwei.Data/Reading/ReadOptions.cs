using System.Text;

namespace Jianwei.Data;

/// <summary>File formats the reader understands.</summary>
public enum DataFormat
{
    /// <summary>Delimiter-separated values (RFC 4180 quoting); the delimiter is sniffed among , ; tab |.</summary>
    Csv,
    /// <summary>Tab-separated values.</summary>
    Tsv,
    /// <summary>One JSON object per line.</summary>
    JsonLines,
}

/// <summary>How to read a table file. Everything defaults to detection.</summary>
public sealed record ReadOptions
{
    /// <summary>Format; null: from the extension (.tsv, .jsonl/.ndjson), else CSV.</summary>
    public DataFormat? Format { get; init; }
    /// <summary>Field delimiter for CSV; null: detected among <c>, ; \t |</c>.</summary>
    public char? Delimiter { get; init; }
    /// <summary>Text encoding; null: byte order mark, else UTF-8 if the start of the file is valid UTF-8, else GB18030.</summary>
    public Encoding? Encoding { get; init; }
    /// <summary>Skip malformed rows (ragged, bad quoting, undecodable) instead of failing; they are reported in <see cref="TableReader.SkippedRows"/>.</summary>
    public bool SkipBadRows { get; init; }
}

/// <summary>A row left out because it was malformed.</summary>
/// <param name="Line">1-based line where the row starts.</param>
/// <param name="Reason">What was wrong.</param>
public sealed record SkippedRow(long Line, string Reason);
