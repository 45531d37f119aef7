using System.Text;

namespace Jianwei.Text;

/// <summary>
/// A WordPiece vocabulary: token ↔ id, one token per line in Hugging Face's <c>vocab.txt</c>
/// (id = line number). Continuation pieces carry the "##" prefix.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>Prefix of pieces that continue a word.</summary>
    public const string ContinuationPrefix = "##";

    /// <summary>The special tokens every vocabulary Jianwei trains starts with, in this order.</summary>
    public static readonly IReadOnlyList<string> DefaultSpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private readonly List<string> _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idsBySpan;
    private readonly Dictionary<string, int> _continuations;     // "##ing" stored as "ing"
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuationsBySpan;

    /// <summary>Builds a vocabulary from tokens in id order. A duplicated token maps to its last id, as in
    /// Hugging Face's <c>load_vocab</c> (each line overwrites the dictionary entry).</summary>
    public Vocabulary(IEnumerable<string> tokens)
    {
        _tokens = tokens.ToList();
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        _continuations = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Count; i++)
        {
            var t = _tokens[i];
            _ids[t] = i;
            if (t.Length > ContinuationPrefix.Length && t.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
                _continuations[t[ContinuationPrefix.Length..]] = i;
        }
        _idsBySpan = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuationsBySpan = _continuations.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Reads a <c>vocab.txt</c> (UTF-8, one token per line; only the line break is stripped).</summary>
    public static Vocabulary Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file not found: {path}", path);
        var lines = Utf8Lines.Read(path).ToList();
        if (lines.Count == 0) throw new InvalidDataException($"{path}: the vocabulary is empty.");
        return new Vocabulary(lines);
    }

    /// <summary>Writes <c>vocab.txt</c> atomically.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(tmp, string.Join("\n", _tokens) + "\n", new UTF8Encoding(false));
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _tokens.Count;

    /// <summary>Tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The token with an id.</summary>
    public string this[int id] => _tokens[id];

    /// <summary>Id of a token, or -1.</summary>
    public int IdOf(string token) => _ids.TryGetValue(token, out int id) ? id : -1;

    /// <summary>Id of a word-initial piece, or -1 (no allocation).</summary>
    public int IdOf(ReadOnlySpan<char> token) => _idsBySpan.TryGetValue(token, out int id) ? id : -1;

    /// <summary>Id of "##" + <paramref name="piece"/>, or -1 (no allocation).</summary>
    public int ContinuationIdOf(ReadOnlySpan<char> piece) => _continuationsBySpan.TryGetValue(piece, out int id) ? id : -1;

    /// <summary>True if the token is present.</summary>
    public bool Contains(string token) => _ids.ContainsKey(token);

    /// <summary>Id of a special token that must be present.</summary>
    public int RequireId(string token) => IdOf(token) is var id and >= 0 ? id
        : throw new InvalidOperationException($"The vocabulary has no '{token}' token.");
}
