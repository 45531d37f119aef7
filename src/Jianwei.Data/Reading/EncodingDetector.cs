using System.Text;

namespace Jianwei.Data;

/// <summary>
/// Decides a file's text encoding: a byte order mark (UTF-8, UTF-16 LE/BE) wins; otherwise UTF-8 when
/// the file is valid UTF-8; otherwise GB18030 (the superset of GBK and GB2312 that Chinese bank and
/// government systems export) when the whole file decodes as that; otherwise UTF-8, so that the bad
/// bytes are reported with their line and column. An export whose first megabyte is plain ASCII is
/// read to its end before UTF-8 is chosen, so Chinese text that first appears later is still
/// recognised; a first megabyte that already holds valid multi-byte UTF-8 settles it (GB18030 text
/// is practically never valid UTF-8 for that long), and should a later byte not be, reading stops
/// there with its line and column.
/// </summary>
public static class EncodingDetector
{
    static EncodingDetector() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>GB18030 (code page 54936), strict: invalid bytes throw.</summary>
    public static Encoding Gb18030 { get; } = GetGb18030();

    private static Encoding GetGb18030()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(54936, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
    }

    /// <summary>Detects the encoding of the file's first bytes.</summary>
    public static Encoding Detect(ReadOnlySpan<byte> head, bool headIsWholeFile)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return new UTF8Encoding(true);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return Encoding.Unicode;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return Encoding.BigEndianUnicode;
        var sample = headIsWholeFile ? head : TrimIncompleteUtf8(head);
        if (System.Text.Unicode.Utf8.IsValid(sample)) return new UTF8Encoding(false);
        try
        {
            // A cut multi-byte GB18030 sequence at the end of the sample is not a reason to reject it.
            var gbSample = headIsWholeFile ? head : head[..Math.Max(0, head.Length - 4)];
            Gb18030.GetCharCount(gbSample);
            return Gb18030;
        }
        catch (DecoderFallbackException) { return new UTF8Encoding(false); }
    }

    /// <summary>Detects the encoding of a file, reading all of it (in 1 MB blocks) when it has no byte order mark.</summary>
    public static Encoding Detect(string path)
    {
        using var fs = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        int n = fs.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var first = Detect(buffer.AsSpan(0, n), n < buffer.Length);
        if (n < buffer.Length || first.CodePage != Encoding.UTF8.CodePage || first.GetPreamble().Length > 0) return first;
        if (!System.Text.Ascii.IsValid(buffer.AsSpan(0, n))) return first;   // multi-byte UTF-8 already: no second pass over a large file
        // Plain ASCII so far and more to come: the rest must be valid UTF-8 too, or the file is GB18030 (checked from its start).
        if (RestIsUtf8(fs, buffer, n)) return new UTF8Encoding(false);
        fs.Position = 0;
        return Decodes(fs, Gb18030.GetDecoder(), buffer) ? Gb18030 : new UTF8Encoding(false);
    }

    /// <summary>
    /// Whether the stream is valid UTF-8 from its position on, given that the <paramref name="valid"/>
    /// bytes already in <paramref name="buffer"/> were. A vectorized check (Utf8.IsValid) per block, a
    /// character cut by the block's end carried into the next: several GB/s, so the pass costs little
    /// beside parsing.
    /// </summary>
    private static bool RestIsUtf8(Stream stream, byte[] buffer, int valid)
    {
        int carry = valid - TrimIncompleteUtf8(buffer.AsSpan(0, valid)).Length;   // the first block's cut character
        while (true)
        {
            buffer.AsSpan(valid - carry, carry).CopyTo(buffer);
            int read = stream.ReadAtLeast(buffer.AsSpan(carry), buffer.Length - carry, throwOnEndOfStream: false);
            int length = carry + read;
            if (read == 0) return carry == 0;
            var whole = TrimIncompleteUtf8(buffer.AsSpan(0, length));
            if (!System.Text.Unicode.Utf8.IsValid(whole)) return false;
            valid = length;
            carry = length - whole.Length;
        }
    }

    /// <summary>
    /// Whether the whole stream decodes with <paramref name="decoder"/> (a strict one). Convert, not
    /// GetCharCount: only Convert carries a character cut by a block boundary into the next block.
    /// </summary>
    private static bool Decodes(Stream stream, Decoder decoder, byte[] buffer)
    {
        var chars = new char[buffer.Length + 4];   // UTF-8 and GB18030 give at most one char per byte
        try
        {
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) decoder.Convert(buffer, 0, n, chars, 0, chars.Length, flush: false, out _, out _, out _);
            decoder.Convert([], 0, 0, chars, 0, chars.Length, flush: true, out _, out _, out _);
            return true;
        }
        catch (DecoderFallbackException) { return false; }
    }

    /// <summary>Drops a UTF-8 sequence cut off at the end of a sample.</summary>
    private static ReadOnlySpan<byte> TrimIncompleteUtf8(ReadOnlySpan<byte> s)
    {
        for (int back = 1; back <= 3 && back <= s.Length; back++)
        {
            byte b = s[^back];
            if ((b & 0xC0) == 0x80) continue;           // continuation byte: keep looking for the lead
            int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return need > back ? s[..^back] : s;
        }
        return s;
    }
}
