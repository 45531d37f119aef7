using System.Text.Json;
using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Features;
using Jianwei.Models.Pretraining;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Models.Multimodal;

/// <summary>A table's rows as the multimodal model reads them: table inputs and encoded text rows, aligned.</summary>
/// <param name="Table">Feature-tokenizer inputs, one row per table row.</param>
/// <param name="Text">[CLS], then per text column its tag, pieces and [SEP].</param>
public sealed record MultimodalRows(TokenInputs Table, IReadOnlyList<EncodedRow> Text)
{
    /// <summary>Number of rows.</summary>
    public int Count => Table.Rows;
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
        var text = rows.Select(r => TextEncoder.Encode(idx.Select(i => (string?)table.Rows[r][i]).ToArray())).ToList();
        return new MultimodalRows(Features.Transform(table, rows), text);
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

    /// <summary>Reads what <see cref="Save"/> wrote. Tokenization needs no segmenter at scoring time: it only groups pieces into words for masking.</summary>
    public static MultimodalData Load(string directory)
    {
        string path = Path.Combine(directory, FeaturesFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: no {FeaturesFile}.", path);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException) { throw new FormatException($"{path}: unreadable ({e.Message})."); }
        var vocabulary = Vocabulary.Load(Path.Combine(directory, "vocab.txt"));
        var columns = json["text_columns"]!.AsArray().Select(c => new TextColumn(c!["name"]!.GetValue<string>(), c["budget"]!.GetValue<int>(),
            Enum.Parse<Truncation>(c["truncation"]!.GetValue<string>()), c["tag"]?.GetValue<string>())).ToList();
        var encoder = new TextEncoder(new BertTokenizer(vocabulary), columns);
        return new MultimodalData(TokenFeatures.FromJson(json["features"]!.AsObject()), encoder, vocabulary, columns.Select(c => c.Name).ToList());
    }
}
