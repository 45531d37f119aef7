namespace Jianwei.Text;

/// <summary>
/// Greedy longest-match-first WordPiece, as Hugging Face's <c>WordpieceTokenizer</c>: a word is
/// covered left to right by the longest vocabulary piece at each position ("##" on all but the
/// first); a word that cannot be covered, or is longer than <see cref="MaxCharsPerWord"/> code
/// points, becomes the unknown token.
/// </summary>
public sealed class WordPiece(Vocabulary vocabulary, string unknownToken = "[UNK]", int maxCharsPerWord = 100)
{
    private readonly int _unkId = vocabulary.RequireId(unknownToken);

    /// <summary>The vocabulary.</summary>
    public Vocabulary Vocabulary { get; } = vocabulary;
    /// <summary>The unknown token.</summary>
    public string UnknownToken { get; } = unknownToken;
    /// <summary>Words longer than this (in code points) become the unknown token.</summary>
    public int MaxCharsPerWord { get; } = maxCharsPerWord;

    /// <summary>Appends the ids of one word's pieces.</summary>
    public void Encode(string word, List<int> ids)
    {
        int codePoints = 0;
        foreach (char c in word) if (!char.IsLowSurrogate(c)) codePoints++;
        if (codePoints > MaxCharsPerWord) { ids.Add(_unkId); return; }
        int mark = ids.Count;
        var span = word.AsSpan();
        int start = 0;
        while (start < span.Length)
        {
            int end = span.Length, found = -1;
            while (start < end)
            {
                var piece = span[start..end];
                int id = start == 0 ? Vocabulary.IdOf(piece) : Vocabulary.ContinuationIdOf(piece);
                if (id >= 0) { found = id; break; }
                end--;
                if (end > start && char.IsLowSurrogate(span[end])) end--;   // never split a surrogate pair
            }
            if (found < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(_unkId);
                return;
            }
            ids.Add(found);
            start = end;
        }
    }
}
