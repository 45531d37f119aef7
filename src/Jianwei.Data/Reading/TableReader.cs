using System.Text;
using System.Text.Json;
using CsvHelper;

namespace Jianwei.Data;

/// <summary>
/// Streams the rows of a CSV, TSV or JSON Lines file with bounded memory: one row at a time, as
/// strings exactly as written (parsing into numbers is the schema's job). The header is checked
/// first (empty file, empty or duplicate names); every malformed row is an error naming the file,
/// line and column — or, with <see cref="ReadOptions.SkipBadRows"/>, is skipped and reported.
/// </summary>
public abstract class TableReader : IDisposable
{
    /// <summary>The name used in messages (the path as given).</summary>
    public string Source { get; }

    /// <summary>Column names, in file order.</summary>
    public IReadOnlyList<string> Header { get; protected set; } = [];

    /// <summary>The current row's fields (valid until the next <see cref="Read"/>).</summary>
    public string[] Current { get; protected set; } = [];

    /// <summary>1-based line where the current row starts.</summary>
    public long LineNumber { get; protected set; }

    /// <summary>Rows left out so far (only with <see cref="ReadOptions.SkipBadRows"/>).</summary>
    public List<SkippedRow> SkippedRows { get; } = new();

    /// <summary>Options in use.</summary>
    protected ReadOptions Options { get; }

    private protected TableReader(string source, ReadOptions options) { Source = source; Options = options; }

    /// <summary>Opens a file, detecting format and encoding unless the options fix them.</summary>
    public static TableReader Open(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        if (Directory.Exists(path)) throw new DataFormatException(path, null, null, "is a directory, not a data file (name a CSV, TSV or JSON Lines file).");
        if (!File.Exists(path)) throw new DataFormatException(path, null, null, "file not found.");
        var format = options.Format ?? Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".tsv" or ".tab" => DataFormat.Tsv,
            ".jsonl" or ".ndjson" => DataFormat.JsonLines,
            _ => DataFormat.Csv,
        };
        if (new FileInfo(path).Length == 0) throw new DataFormatException(path, null, null, "the file is empty.");
        try
        {
            var encoding = options.Encoding ?? EncodingDetector.Detect(path);
            return format == DataFormat.JsonLines
                ? new JsonLinesTableReader(path, File.OpenRead(path), encoding, options)
                : new CsvTableReader(path, File.OpenRead(path), encoding, format == DataFormat.Tsv ? '\t' : options.Delimiter, options);
        }
        catch (UnauthorizedAccessException) { throw new DataFormatException(path, null, null, "permission denied: this user may not read the file."); }
        catch (IOException e) { throw new DataFormatException(path, null, null, $"cannot be read ({e.Message})."); }
    }

    /// <summary>Reads delimited text from a stream (for tests and pipes).</summary>
    public static TableReader OpenCsv(Stream stream, string name, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        return new CsvTableReader(name, stream, options.Encoding ?? new UTF8Encoding(false), options.Delimiter, options);
    }

    /// <summary>Advances to the next row; false at the end.</summary>
    public abstract bool Read();

    /// <summary>Checks header names: none empty, none repeated.</summary>
    protected void CheckHeader(IReadOnlyList<string> names, long line)
    {
        if (names.Count == 0 || (names.Count == 1 && names[0].Length == 0))
            throw new DataFormatException(Source, line, null, "the header row is empty.");
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
                throw new DataFormatException(Source, line, $"#{i + 1}", "the header name is empty.");
            if (seen.TryGetValue(names[i], out int first))
                throw new DataFormatException(Source, line, names[i], $"the header name appears twice (columns {first + 1} and {i + 1}).");
            seen[names[i]] = i;
        }
    }

    /// <summary>The column name for a 0-based position.</summary>
    protected string ColumnName(int index) => index < Header.Count ? Header[index] : $"#{index + 1}";

    /// <inheritdoc/>
    public abstract void Dispose();
}

/// <summary>Delimited text through CsvHelper's UTF-8 SIMD reader.</summary>
internal sealed class CsvTableReader : TableReader
{
    private readonly CsvReader _csv;
    private readonly Stream _stream;
    private readonly Encoding _encoding;

    /// <summary>What an undecodable field is, naming the encoding in use and the option that changes it.</summary>
    internal string UndecodableProblem =>
        $"bytes that are not valid in the file's encoding ({_encoding.CodePage switch { 65001 => "UTF-8", 54936 => "GB18030", _ => _encoding.WebName.ToUpperInvariant() }}); if the file is in another one, name it: --encoding gb18030, utf-16, big5, latin1, ...";

    public CsvTableReader(string source, Stream stream, Encoding encoding, char? delimiter, ReadOptions options) : base(source, options)
    {
        _stream = stream;
        _encoding = encoding;
        var csvOptions = new CsvReaderOptions
        {
            Separator = delimiter,
            Encoding = encoding,
            HasHeader = true,
            TrackLineNumbers = true,
            AllowLineBreaksInQuotes = true,
            MalformedData = options.SkipBadRows ? CsvMalformedDataHandling.Skip : CsvMalformedDataHandling.Throw,
            FieldCountMismatch = options.SkipBadRows ? CsvFieldCountHandling.Skip : CsvFieldCountHandling.Throw,
            OnMalformedRecord = options.SkipBadRows ? r => SkippedRows.Add(new SkippedRow(r.LineNumber, Describe(r.Reason))) : null,
        };
        _csv = CsvReader.Create(stream, csvOptions, leaveOpen: false);
        try
        {
            Header = _csv.Headers.ToArray();
        }
        catch (CsvFormatException e) { throw Translate(e); }
        CheckHeader(Header, 1);
    }

    private static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.FieldCountMismatch => "wrong number of fields",
        CsvMalformedReason.UnterminatedQuote => "unterminated quote",
        CsvMalformedReason.StrayQuote => "stray quote inside an unquoted field",
        CsvMalformedReason.TextAfterClosingQuote => "text after a closing quote",
        _ => reason.ToString(),
    };

    private DataFormatException Translate(CsvFormatException e)
    {
        string problem = e.Message;
        // CsvHelper's messages are precise; keep the first sentence, our prefix adds file and line.
        int cut = problem.IndexOf(". ", StringComparison.Ordinal);
        if (cut > 0) problem = problem[..(cut + 1)];
        long? line = e.LineNumber > 0 ? e.LineNumber : null;
        string? column = e.FieldIndex >= 0 ? ColumnName((int)e.FieldIndex) : null;
        return new DataFormatException(Source, line, column, problem);
    }

    /// <summary>The underlying reader, for typed access to the current record's raw UTF-8 fields.</summary>
    internal CsvReader Csv => _csv;

    /// <summary>
    /// Field <paramref name="index"/> of the current record as a string; false when its bytes are not
    /// valid UTF-8 (the reader hands out UTF-8 whatever the file's encoding). See <see cref="FieldDecoder"/>
    /// for why this beats <c>CsvReader.GetString</c> followed by a check for U+FFFD.
    /// </summary>
    internal bool TryDecodeField(int index, out string value) => _decoder.TryDecode(index, _csv.GetSpan(index), out value);

    private readonly FieldDecoder _decoder = new();

    /// <summary>Advances without materializing fields (the typed reader decodes what it needs).</summary>
    internal bool ReadRaw()
    {
        bool ok;
        try { ok = _csv.Read(); }
        catch (CsvFormatException e) { throw Translate(e); }
        if (ok) LineNumber = _csv.LineNumber;
        return ok;
    }

    public override bool Read()
    {
        while (true)
        {
            bool ok;
            try { ok = _csv.Read(); }
            catch (CsvFormatException e) { throw Translate(e); }
            if (!ok) return false;
            LineNumber = _csv.LineNumber;
            int n = _csv.FieldCount;
            var fields = new string[n];
            int bad = -1;
            for (int i = 0; i < n; i++)
                if (!TryDecodeField(i, out fields[i])) { bad = i; break; }
            if (bad >= 0)
            {
                string problem = UndecodableProblem;
                if (!Options.SkipBadRows) throw new DataFormatException(Source, LineNumber, ColumnName(bad), problem);
                SkippedRows.Add(new SkippedRow(LineNumber, $"column '{ColumnName(bad)}': undecodable bytes"));
                continue;
            }
            Current = fields;
            return true;
        }
    }

    public override void Dispose()
    {
        _csv.Dispose();
        _stream.Dispose();
    }
}

/// <summary>JSON Lines: one object per line; the first object's keys are the header.</summary>
internal sealed class JsonLinesTableReader : TableReader
{
    private readonly StreamReader _reader;
    private long _line;
    private string? _firstLine;
    private long _firstLineNumber;

    public JsonLinesTableReader(string source, Stream stream, Encoding encoding, ReadOptions options) : base(source, options)
    {
        _reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: true);
        // The header comes from the first non-empty line.
        while ((_firstLine = _reader.ReadLine()) is not null)
        {
            _line++;
            if (_firstLine.Trim().Length > 0) break;
        }
        if (_firstLine is null) throw new DataFormatException(Source, null, null, "the file is empty.");
        _firstLineNumber = _line;
        using var doc = Parse(_firstLine, _line) ?? throw new DataFormatException(Source, _line, null, "the first line is not a JSON object.");
        Header = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        CheckHeader(Header, _line);
    }

    private JsonDocument? Parse(string text, long line)
    {
        try
        {
            var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
            if (Options.SkipBadRows) return null;
            throw new DataFormatException(Source, line, null, "expected a JSON object.");
        }
        catch (JsonException e)
        {
            if (Options.SkipBadRows) return null;
            throw new DataFormatException(Source, line, null, $"invalid JSON ({e.Message.Split(". ")[0]}).");
        }
    }

    public override bool Read()
    {
        while (true)
        {
            string? text;
            long line;
            if (_firstLine is not null) { text = _firstLine; line = _firstLineNumber; _firstLine = null; }
            else
            {
                text = _reader.ReadLine();
                if (text is null) return false;
                line = ++_line;
            }
            if (text.Trim().Length == 0) continue;
            using var doc = Parse(text, line);
            if (doc is null) { SkippedRows.Add(new SkippedRow(line, "not a JSON object")); continue; }
            var fields = new string[Header.Count];
            Array.Fill(fields, "");
            string? problem = null;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                int i = IndexOf(p.Name);
                if (i < 0) { problem = $"key '{p.Name}' is not in the first line's keys"; break; }
                fields[i] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Null or JsonValueKind.Undefined => "",
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => p.Value.GetRawText(),
                };
            }
            if (problem is not null)
            {
                if (!Options.SkipBadRows) throw new DataFormatException(Source, line, null, problem + ".");
                SkippedRows.Add(new SkippedRow(line, problem));
                continue;
            }
            LineNumber = line;
            Current = fields;
            return true;
        }
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < Header.Count; i++) if (Header[i] == name) return i;
        return -1;
    }

    public override void Dispose() => _reader.Dispose();
}
