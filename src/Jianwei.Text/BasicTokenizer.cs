using System.Text;

namespace Jianwei.Text;

/// <summary>
/// Hugging Face's BERT basic tokenizer, step for step: drop NUL, U+FFFD and control characters
/// (zero-width and lone surrogates included), turn whitespace into spaces, put spaces around CJK
/// ideographs, split on whitespace, lower-case and strip accents (NFD, drop combining marks) when
/// enabled, and split punctuation into tokens of its own. Never throws on any string.
/// </summary>
public sealed class BasicTokenizer
{
    private readonly HashSet<string> _neverSplit;

    /// <summary>Creates the tokenizer (defaults as <c>BertTokenizer(do_lower_case=True)</c>).</summary>
    public BasicTokenizer(bool lowerCase = true, bool? stripAccents = null, bool splitCjk = true, IEnumerable<string>? neverSplit = null)
    {
        LowerCase = lowerCase;
        StripAccents = stripAccents ?? lowerCase;   // HF: strip_accents=None follows lower-casing
        SplitCjk = splitCjk;
        _neverSplit = new HashSet<string>(neverSplit ?? [], StringComparer.Ordinal);
    }

    /// <summary>Lower-case words.</summary>
    public bool LowerCase { get; }
    /// <summary>Remove accents (combining marks after NFD).</summary>
    public bool StripAccents { get; }
    /// <summary>Make each CJK ideograph its own word.</summary>
    public bool SplitCjk { get; }

    /// <summary>The words of <paramref name="text"/> (null and empty give none).</summary>
    public List<string> Tokenize(string? text)
    {
        var words = new List<string>();
        Tokenize(text, words);
        return words;
    }

    /// <summary>Appends the words of <paramref name="text"/> to <paramref name="words"/>.</summary>
    public void Tokenize(string? text, List<string> words)
    {
        if (string.IsNullOrEmpty(text)) return;
        var cleaned = Clean(text);
        var buffer = new StringBuilder();
        int i = 0;
        while (i < cleaned.Length)
        {
            // whitespace_tokenize: Python's str.split() on the cleaned text
            while (i < cleaned.Length && char.IsWhiteSpace(cleaned[i])) i++;
            int start = i;
            while (i < cleaned.Length && !char.IsWhiteSpace(cleaned[i])) i++;
            if (i > start) EmitWord(cleaned.Substring(start, i - start), words, buffer);
        }
    }

    /// <summary>_clean_text and _tokenize_chinese_chars in one pass.</summary>
    private string Clean(string text)
    {
        bool ascii = true;
        foreach (char c in text) if (c >= 0x80 || (c < 0x20 && c is not '\t' and not '\n' and not '\r') || c == 0x7F) { ascii = false; break; }
        if (ascii) return text;   // nothing to remove or space out (\t \n \r are split on anyway)
        var sb = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length;)
        {
            // Lone surrogates decode as invalid: they are category Cs, so dropped like any control.
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var r, out int used) != System.Buffers.OperationStatus.Done)
            {
                i += Math.Max(used, 1);
                continue;
            }
            i += used;
            int cp = r.Value;
            if (cp == 0 || cp == 0xFFFD || CharClass.IsControl(r)) continue;
            if (CharClass.IsWhitespace(r)) sb.Append(' ');
            else if (SplitCjk && CharClass.IsCjk(cp)) sb.Append(' ').Append(r.ToString()).Append(' ');
            else sb.Append(r.ToString());
        }
        return sb.ToString();
    }

    private void EmitWord(string word, List<string> words, StringBuilder buffer)
    {
        if (_neverSplit.Contains(word)) { words.Add(word); return; }
        if (LowerCase) word = word.ToLowerInvariant();
        if (StripAccents) word = AccentTable.Strip(word);
        // _run_split_on_punc: each punctuation character is a word of its own
        buffer.Clear();
        foreach (var r in word.EnumerateRunes())
        {
            if (CharClass.IsPunctuation(r))
            {
                if (buffer.Length > 0) { words.Add(buffer.ToString()); buffer.Clear(); }
                words.Add(r.ToString());
            }
            else buffer.Append(r.ToString());
        }
        if (buffer.Length > 0) words.Add(buffer.ToString());
    }
}
