using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Features;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Serialization;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Models.Multimodal;

/// <summary>A table's rows as the multimodal model reads them: table inputs and encoded text rows, aligned.</summary>
/// <param name="Table">Feature-tokenizer inputs, one row per table row.</param>
/// <param name="Text">[CLS], then per text column its tag, pieces and [SEP], within the columns' budgets.</param>
/// <param name="FullText">
/// The same layout with every piece kept, which the keyword channel reads (<see cref="KeywordBag"/>);
/// null when the texts were not encoded whole, and then the channel reads <paramref name="Text"/>.
/// </param>
public sealed record MultimodalRows(TokenInputs Table, IReadOnlyList<EncodedRow> Text, IReadOnlyList<EncodedRow>? FullText = null)
{
    /// <summary>Number of rows.</summary>
    public int Count => Table.Rows;

    /// <summary>What the keyword channel reads of row <paramref name="row"/>: its whole texts when known.</summary>
    public EncodedRow KeywordText(int row) => (FullText ?? Text)[row];

    /// <summary>The cells and texts of <paramref name="rows"/> (indices into these rows), in that order.</summary>
    public MultimodalRows SelectRows(IReadOnlyList<int> rows) =>
        new(Table.SelectRows(rows), rows.Select(r => Text[r]).ToList(), FullText is null ? null : rows.Select(r => FullText[r]).ToList());
}

/// <summary>
/// Everything fitted on training rows that turns a table into model inputs: the per-cell features
/// (rank-Gauss numbers with missing indicators, category vocabularies) and the text layout (tokenizer,
/// column tags <c>[C:name]</c>, per-column budgets). The vocabulary can be trained on the texts
/// (WordPiece, whole Chinese words found through the segmenter when one is given) or come from a
/// BERT checkpoint.
/// </summary>
public sealed class MultimodalData
{
    /// <summary>Cell features.</summary>
    public TokenFeatures Features { get; }
    /// <summary>The text layout.</summary>
    public TextEncoder TextEncoder { get; }
    /// <summary>The tokenizer's vocabulary.</summary>
    public Vocabulary Vocabulary { get; }
    /// <summary>Special token ids.</summary>
    public SpecialTokens Special { get; }
    /// <summary>The text columns, in layout order.</summary>
    public IReadOnlyList<string> TextColumns { get; }

    private MultimodalData(TokenFeatures features, TextEncoder encoder, Vocabulary vocabulary, IReadOnlyList<string> textColumns)
    {
        Features = features; TextEncoder = encoder; Vocabulary = vocabulary; TextColumns = textColumns;
        Special = SpecialTokens.From(vocabulary);
    }

    /// <summary>
    /// Fits on <paramref name="fitRows"/>. With no <paramref name="vocabulary"/>, a WordPiece vocabulary
    /// of <paramref name="vocabularySize"/> is trained on those rows' texts. Each text column gets
    /// <paramref name="budgetPerColumn"/> pieces.
    /// </summary>
    public static MultimodalData Fit(RawTable table, TableSchema schema, IReadOnlyList<int> fitRows, Vocabulary? vocabulary = null,
                                     ChineseSegmenter? segmenter = null, int vocabularySize = 8000, int budgetPerColumn = 64)
    {
        var textColumns = schema.Columns.Where(c => c.Role == ColumnRole.Feature && c.Type == ColumnType.Text).Select(c => c.Name).ToList();
        if (textColumns.Count == 0) throw new ArgumentException("the multimodal model needs at least one text column; the schema has none.");
        var tags = textColumns.Select(TextColumn.DefaultTag).ToList();
        if (vocabulary is null)
        {
            var texts = textColumns.SelectMany(c => { int i = table.IndexOf(c); return fitRows.Select(r => table.Rows[r][i]); });
            vocabulary = WordPieceTrainer.Train(texts, new WordPieceTrainerOptions(VocabularySize: vocabularySize, Segmenter: segmenter,
                SpecialTokens: [.. Vocabulary.DefaultSpecialTokens, .. tags]));
        }
        var tokenizer = new BertTokenizer(vocabulary, segmenter: segmenter);
        var encoder = new TextEncoder(tokenizer, textColumns.Select(c => new TextColumn(c, budgetPerColumn)).ToList());
        return new MultimodalData(TokenFeatures.Fit(table, schema, fitRows), encoder, vocabulary, textColumns);
    }

    /// <summary>The model inputs of <paramref name="rows"/>.</summary>
    public MultimodalRows Transform(RawTable table, IReadOnlyList<int> rows)
    {
        var idx = TextColumns.Select(c => table.IndexOf(c) is var i and >= 0 ? i : throw new DataFormatException(table.Source, 1, c, "the column is missing.")).ToArray();
        var text = rows.Select(r => TextEncoder.EncodeWithFullText(idx.Select(i => (string?)table.Rows[r][i]).ToArray())).ToList();
        return new MultimodalRows(Features.Transform(table, rows), text.Select(t => t.Row).ToList(), text.Select(t => t.Full).ToList());
    }

    private const string FeaturesFile = "multimodal_data.json";

    /// <summary>Writes <c>multimodal_data.json</c> (cell features, text layout) and <c>vocab.txt</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Vocabulary.Save(Path.Combine(directory, "vocab.txt"));
        var json = new JsonObject
        {
            ["features"] = Features.ToJson(),
            ["text_columns"] = new JsonArray(TextEncoder.Columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["budget"] = c.Budget, ["truncation"] = c.Truncation.ToString(), ["tag"] = c.Tag,
            }).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, FeaturesFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    /// <summary>
    /// Reads what <see cref="Save"/> wrote. Tokenization needs no segmenter at scoring time: it only
    /// groups pieces into words for masking. Problems are <see cref="ModelFormatException"/>s naming
    /// the file: a vocabulary without the special tokens the encoder writes, a text budget out of
    /// range, any field of the features.
    /// </summary>
    public static MultimodalData Load(string directory)
    {
        var json = JsonFields.Load(Path.Combine(directory, FeaturesFile));
        var vocabulary = LoadVocabulary(Path.Combine(directory, "vocab.txt"));
        var columns = json.Objects("text_columns").Select(c => new TextColumn(c.String("name"), c.Int("budget", 1, 100_000),
            c.Enum<Truncation>("truncation"), c.OptionalString("tag"))).ToList();
        if (columns.Count == 0) throw json.Error("text_columns", "empty: the multimodal model reads at least one text column.");
        foreach (var tag in columns.Select(c => c.Tag).OfType<string>())
            if (!vocabulary.Contains(tag)) throw new ModelFormatException(Path.Combine(directory, "vocab.txt"), null, $"has no '{tag}' token (the tag of a text column in {FeaturesFile}).");
        var encoder = new TextEncoder(new BertTokenizer(vocabulary), columns);
        return new MultimodalData(TokenFeatures.FromJson(json.Object("features")), encoder, vocabulary, columns.Select(c => c.Name).ToList());
    }

    /// <summary>A bundle's <c>vocab.txt</c>: readable UTF-8 with the special tokens encoding needs.</summary>
    private static Vocabulary LoadVocabulary(string path)
    {
        Vocabulary vocabulary;
        try { vocabulary = Vocabulary.Load(path); }
        catch (FileNotFoundException) { throw new ModelFormatException(path, null, "the file is missing."); }
        catch (InvalidDataException e) { throw new ModelFormatException(path, null, e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message); }
        foreach (var token in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]" })
            if (!vocabulary.Contains(token)) throw new ModelFormatException(path, null, $"has no '{token}' token (a BERT vocabulary holds [PAD], [UNK], [CLS] and [SEP]).");
        return vocabulary;
    }
}
