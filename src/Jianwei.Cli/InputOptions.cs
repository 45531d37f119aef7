using System.CommandLine;
using System.Text;
using Jianwei.Data;

namespace Jianwei.Cli;

/// <summary>
/// <c>--encoding</c>, on every command that reads a data file: the file's text encoding when
/// detection (a byte order mark, else UTF-8 when the whole file is valid UTF-8, else GB18030) would
/// guess wrong. Decoding is strict: a byte that is not valid in the named encoding stops the read
/// at its line and column.
/// </summary>
internal sealed class InputOptions
{
    private readonly Option<string?> _encoding = new("--encoding")
    {
        Description = "the data files' text encoding (default: detected; e.g. utf-8, gb18030, gbk, big5, utf-16, latin1)",
    };

    /// <summary>Adds the option to <paramref name="command"/>.</summary>
    public void AddTo(Command command) => command.Options.Add(_encoding);

    /// <summary>How to read data files, as the command line asks.</summary>
    public ReadOptions Read(ParseResult parse, bool skipBadRows = false) => new() { Encoding = Encoding(parse.GetValue(_encoding)), SkipBadRows = skipBadRows };

    /// <summary>Reads a whole table; bad input is a <see cref="DataFormatException"/> naming the file, line and column.</summary>
    public RawTable Load(ParseResult parse, FileInfo file, bool skipBadRows = false) => RawTable.Load(file.FullName, Read(parse, skipBadRows));

    /// <summary>A strict encoding by name (null: detect).</summary>
    public static Encoding? Encoding(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        _ = EncodingDetector.Gb18030;   // registers the code-page encodings (GB18030, GBK, Big5, ...)
        try { return System.Text.Encoding.GetEncoding(name.Trim(), EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback); }
        catch (ArgumentException) { throw new UserErrorException($"--encoding: '{name}' is not an encoding this build knows (e.g. utf-8, gb18030, gbk, big5, utf-16, latin1)."); }
    }
}
