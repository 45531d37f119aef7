namespace Jianwei.Text;

/// <summary>How a text longer than its budget is cut.</summary>
public enum Truncation
{
    /// <summary>Keep the beginning.</summary>
    Head,
    /// <summary>Keep the end (recent recruitment posts, latest registration changes).</summary>
    Tail,
    /// <summary>Keep a quarter of the budget from the beginning and the rest from the end (Sun et al. 2019 found this best for long reviews).</summary>
    HeadTail,
}

/// <summary>One text column: its name, the tag token that opens it, its token budget and truncation.</summary>
/// <param name="Name">Column name.</param>
/// <param name="Budget">Most pieces of this column's text (tag and separator not counted).</param>
/// <param name="Truncation">Which pieces are kept when there are more.</param>
/// <param name="Tag">Token that opens the column (null: <c>[C:name]</c> if the vocabulary has it, else none).</param>
public sealed record TextColumn(string Name, int Budget = 128, Truncation Truncation = Truncation.Head, string? Tag = null)
{
    /// <summary>The tag token Jianwei's trainer adds for a column.</summary>
    public static string DefaultTag(string name) => $"[C:{name}]";
}

/// <summary>
/// One encoded row: <c>[CLS]</c>, then for each column its tag, its pieces (within budget) and
/// <c>[SEP]</c>. Column ids are 0 for <c>[CLS]</c> and c + 1 for everything of column c; word ids
/// number the row's words (−1 for special tokens), so whole-word masking can mask a word at once.
/// </summary>
public sealed record EncodedRow(int[] InputIds, int[] ColumnIds, int[] WordIds)
{
    /// <summary>Number of positions.</summary>
    public int Length => InputIds.Length;
}

/// <summary>Lays several text columns of a row out for a transformer (see <see cref="EncodedRow"/>).</summary>
public sealed class TextEncoder
{
    private readonly BertTokenizer _tokenizer;
    private readonly int _cls, _sep;
    private readonly int[] _tagIds;

    /// <summary>Creates the encoder.</summary>
    public TextEncoder(BertTokenizer tokenizer, IReadOnlyList<TextColumn> columns)
    {
        if (columns.Count == 0) throw new ArgumentException("At least one text column is needed.", nameof(columns));
        foreach (var c in columns)
            if (c.Budget < 1) throw new ArgumentException($"Text column '{c.Name}': budget {c.Budget} must be at least 1.", nameof(columns));
        _tokenizer = tokenizer;
        Columns = columns;
        var v = tokenizer.Vocabulary;
        _cls = v.RequireId("[CLS]"); _sep = v.RequireId("[SEP]");
        _tagIds = columns.Select(c => c.Tag is not null ? v.RequireId(c.Tag) : v.IdOf(TextColumn.DefaultTag(c.Name))).ToArray();
    }

    /// <summary>The columns, in layout order.</summary>
    public IReadOnlyList<TextColumn> Columns { get; }

    /// <summary>Longest possible row: [CLS] plus, per column, tag + budget + [SEP].</summary>
    public int MaxLength => 1 + Columns.Select((c, i) => c.Budget + 1 + (_tagIds[i] >= 0 ? 1 : 0)).Sum();

    /// <summary>Encodes one row; <paramref name="texts"/> holds one text per column (null for missing).</summary>
    public EncodedRow Encode(IReadOnlyList<string?> texts) => Layout(Tokenize(texts), withinBudgets: true);

    /// <summary>
    /// The row within the budgets, and the same layout with every piece of every text kept (what a bag of
    /// n-grams reads: it costs nothing per piece, so it need not stop where the transformer does). Word ids
    /// agree between the two: a word has the same id in both.
    /// </summary>
    public (EncodedRow Row, EncodedRow Full) EncodeWithFullText(IReadOnlyList<string?> texts)
    {
        var tokenized = Tokenize(texts);
        return (Layout(tokenized, withinBudgets: true), Layout(tokenized, withinBudgets: false));
    }

    private TokenizedText[] Tokenize(IReadOnlyList<string?> texts)
    {
        if (texts.Count != Columns.Count) throw new ArgumentException($"Expected {Columns.Count} texts (one per column), got {texts.Count}.");
        return texts.Select(t => _tokenizer.Tokenize(t)).ToArray();
    }

    private EncodedRow Layout(TokenizedText[] tokenized, bool withinBudgets)
    {
        var ids = new List<int> { _cls };
        var cols = new List<int> { 0 };
        var words = new List<int> { -1 };
        int wordBase = 0;
        for (int c = 0; c < Columns.Count; c++)
        {
            var t = tokenized[c];
            var (start, headCount, tailStart) = withinBudgets ? Keep(t.Ids.Length, Columns[c]) : (0, t.Ids.Length, t.Ids.Length);
            if (_tagIds[c] >= 0) { ids.Add(_tagIds[c]); cols.Add(c + 1); words.Add(-1); }
            for (int i = start; i < start + headCount; i++) { ids.Add(t.Ids[i]); cols.Add(c + 1); words.Add(wordBase + t.WordIds[i]); }
            for (int i = tailStart; i < t.Ids.Length; i++) { ids.Add(t.Ids[i]); cols.Add(c + 1); words.Add(wordBase + t.WordIds[i]); }
            ids.Add(_sep); cols.Add(c + 1); words.Add(-1);
            wordBase += t.Words.Length;
        }
        return new EncodedRow([.. ids], [.. cols], [.. words]);
    }

    /// <summary>Which pieces survive the budget: [start, start + headCount) and [tailStart, n).</summary>
    private static (int Start, int HeadCount, int TailStart) Keep(int n, TextColumn column)
    {
        int b = column.Budget;
        if (n <= b) return (0, n, n);
        return column.Truncation switch
        {
            Truncation.Head => (0, b, n),
            Truncation.Tail => (n - b, b, n),
            _ => (0, (b + 3) / 4, n - (b - (b + 3) / 4)),
        };
    }

    /// <summary>
    /// A long text cut into overlapping windows of <paramref name="window"/> pieces, <paramref name="stride"/>
    /// apart, each laid out as a one-column row ([CLS] tag pieces [SEP]); the model's outputs for the
    /// windows are pooled afterwards. Always at least one window.
    /// </summary>
    public List<EncodedRow> Windows(string? text, int column, int window, int stride)
    {
        if (window < 1 || stride < 1) throw new ArgumentException("window and stride must be positive.");
        var t = _tokenizer.Tokenize(text);
        var rows = new List<EncodedRow>();
        for (int start = 0; ; start += stride)
        {
            int end = Math.Min(t.Ids.Length, start + window);
            var ids = new List<int> { _cls }; var cols = new List<int> { 0 }; var words = new List<int> { -1 };
            if (_tagIds[column] >= 0) { ids.Add(_tagIds[column]); cols.Add(1); words.Add(-1); }
            for (int i = start; i < end; i++) { ids.Add(t.Ids[i]); cols.Add(1); words.Add(t.WordIds[i]); }
            ids.Add(_sep); cols.Add(1); words.Add(-1);
            rows.Add(new EncodedRow([.. ids], [.. cols], [.. words]));
            if (end >= t.Ids.Length) break;
        }
        return rows;
    }
}
