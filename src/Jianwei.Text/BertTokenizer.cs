namespace Jianwei.Text;

/// <summary>The tokens of one text: pieces, their ids, and the word each piece belongs to.</summary>
/// <param name="Tokens">The pieces ("##" marks continuations).</param>
/// <param name="Ids">Vocabulary ids, one per piece.</param>
/// <param name="WordIds">For each piece, the index of its word in <paramref name="Words"/> (whole-word masking masks a word's pieces together).</param>
/// <param name="Words">The words (from the segmenter where one is used, else from the basic tokenizer).</param>
public sealed record TokenizedText(string[] Tokens, int[] Ids, int[] WordIds, string[] Words);

/// <summary>
/// BERT tokenization: <see cref="BasicTokenizer"/> then <see cref="WordPiece"/> — identical to Hugging
/// Face's <c>BertTokenizer</c> when used alone. With a <see cref="ChineseSegmenter"/>, Chinese runs are
/// first cut into words so that the pieces of one word share a word id (whole-word masking); with
/// <c>wordUnits</c> as well, a word found whole in the vocabulary becomes a single token (WoBERT-style
/// word + character vocabulary), and other words fall back to characters.
/// </summary>
public sealed class BertTokenizer
{
    private readonly BasicTokenizer _basic;
    private readonly WordPiece _wordPiece;
    private readonly ChineseSegmenter? _segmenter;
    private readonly bool _wordUnits;

    /// <summary>Creates a tokenizer over a vocabulary.</summary>
    public BertTokenizer(Vocabulary vocabulary, bool lowerCase = true, ChineseSegmenter? segmenter = null, bool wordUnits = false)
    {
        if (wordUnits && segmenter is null) throw new ArgumentException("Word units need a segmenter (a word dictionary).", nameof(wordUnits));
        Vocabulary = vocabulary;
        _basic = new BasicTokenizer(lowerCase, neverSplit: vocabulary.Tokens.Where(t => t.Length > 2 && t[0] == '[' && t[^1] == ']'));
        _wordPiece = new WordPiece(vocabulary);
        _segmenter = segmenter;
        _wordUnits = wordUnits;
    }

    /// <summary>The vocabulary.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Ids only (no word bookkeeping): the fast path.</summary>
    public List<int> EncodeIds(string? text)
    {
        var ids = new List<int>();
        if (_segmenter is null)
        {
            foreach (var w in _basic.Tokenize(text)) _wordPiece.Encode(w, ids);
            return ids;
        }
        return [.. Tokenize(text).Ids];
    }

    /// <summary>Pieces, ids and word ids of a text; null, empty and unprintable texts give none.</summary>
    public TokenizedText Tokenize(string? text)
    {
        var ids = new List<int>();
        var wordIds = new List<int>();
        var words = new List<string>();
        if (_segmenter is null)
        {
            foreach (var w in _basic.Tokenize(text)) AddWord(w, ids, wordIds, words);
        }
        else
        {
            var basicWords = new List<string>();
            foreach (var seg in _segmenter.Cut(text))
            {
                basicWords.Clear();
                // The basic tokenizer splits a Chinese word into characters: keep them as one word.
                _basic.Tokenize(seg, basicWords);
                if (basicWords.Count == 0) continue;
                bool chinese = CharClass.ContainsCjk(seg);
                if (chinese && _wordUnits && basicWords.Count > 1 && Vocabulary.IdOf(string.Concat(basicWords)) is var wid and >= 0)
                {
                    ids.Add(wid); wordIds.Add(words.Count); words.Add(string.Concat(basicWords));
                }
                else if (chinese)
                {
                    int w = words.Count;
                    words.Add(string.Concat(basicWords));
                    foreach (var piece in basicWords) _wordPiece.Encode(piece, ids);
                    while (wordIds.Count < ids.Count) wordIds.Add(w);
                }
                else foreach (var bw in basicWords) AddWord(bw, ids, wordIds, words);
            }
        }
        var tokens = ids.Select(i => Vocabulary[i]).ToArray();
        return new TokenizedText(tokens, [.. ids], [.. wordIds], [.. words]);
    }

    private void AddWord(string word, List<int> ids, List<int> wordIds, List<string> words)
    {
        int w = words.Count;
        words.Add(word);
        _wordPiece.Encode(word, ids);
        while (wordIds.Count < ids.Count) wordIds.Add(w);
    }
}
