using System.Text;

namespace Jianwei.Text;

/// <summary>Reads a UTF-8 text file line by line, naming the exact line of any invalid byte sequence.</summary>
internal static class Utf8Lines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IEnumerable<string> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        int lineNo = 0;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            int len = end - start;
            if (len > 0 && bytes[start + len - 1] == '\r') len--;
            lineNo++;
            string line;
            try { line = Strict.GetString(bytes, start, len); }
            catch (DecoderFallbackException) { throw new InvalidDataException($"{path}: line {lineNo} is not valid UTF-8."); }
            yield return line;
            start = end + 1;
        }
    }
}
