using System.Globalization;
using Jianwei.Data;
using Jianwei.Models.Features;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;

namespace Jianwei.Models.Experiments;

/// <summary>
/// One <see cref="Comparison"/> run: the folds and the label-free preparation every mode shares —
/// the vocabulary and cell encoders over all rows, the co-pretrained weights of each variant, the
/// text-only encoder pretrained with MLM — made once, before any mode is scored; and the fine-tuned
/// models two modes share, kept per fold.
/// </summary>
internal sealed partial class ComparisonRun
{
    private readonly RawTable _table;
    private readonly RawTable _everything;             // the labeled rows, then the --unlabeled ones
    private readonly TableSchema _schema;
    private readonly ComparisonOptions _options;
    private readonly TextWriter? _log;
    private readonly int[] _y;
    private readonly List<Fold> _folds;
    private readonly MultimodalData? _data;            // cells and texts of every row (labeled and unlabeled)
    private readonly MultimodalRows? _allRows;         // the labeled rows through _data
    private readonly MultimodalData? _textData;        // the same texts, the table's columns set aside
    private readonly MultimodalRows? _textRows;
    private readonly MultimodalRows? _unlabeledRows;   // for the consistency and pseudo-label terms, when on
    private readonly Dictionary<string, Dictionary<string, float[]>> _coPretrained = [];   // per variant; "multimodal" serves both multimodal modes
    private readonly Dictionary<string, float[]>? _textPretrained;
    // The co-pretrained model fine-tuned on each fold, shared by multimodal and multimodal-stack (same
    // start, data and seed, so the second would only repeat the first): its predictions and the
    // seconds it took, which the second mode's time includes.
    private readonly Dictionary<(int, int), (double[] Valid, double[] Test, double Seconds)> _fineTuned = [];
    // Likewise the text-pretrained mode's model on each fold, which late fusion starts from.
    private readonly Dictionary<(int, int), (Dictionary<string, float[]> State, double Seconds)> _textFineTuned = [];
    private double _reusedSeconds;

    public ComparisonRun(RawTable table, TableSchema schema, ComparisonOptions options, RawTable? unlabeled)
    {
        (_table, _schema, _options, _log) = (table, schema, options, options.Log);
        _y = schema.Labels(table);
        _folds = DataSplits.StratifiedKFold(_y, options.Folds, options.Seed);
        var modes = options.Modes;
        var everything = _everything = unlabeled is null ? table : table.Append(unlabeled, mayBeAbsent: schema.Label);
        // The ensemble's multimodal candidate starts from the multimodal mode's co-pretrained weights (on tables with text).
        bool multimodalCandidate = modes.Contains("ensemble") && schema.Columns.Any(c => c.Role == ColumnRole.Feature && c.Type == ColumnType.Text);
        if (multimodalCandidate || modes.Any(m => m is "text" or "text-pretrained" or "late-fusion" or "multimodal-scratch" or "multimodal" or "multimodal-stack" || Comparison.Ablations.Contains(m)))
        {
            _data = MultimodalData.Fit(everything, schema, Enumerable.Range(0, everything.RowCount).ToArray(), segmenter: options.Segmenter, budgetPerColumn: options.TextBudget);
            _allRows = _data.Transform(table, Enumerable.Range(0, table.RowCount).ToArray());
        }
        // The text-only modes read the same texts through the same model, head and fine-tuning with
        // the table's columns set aside, so they differ from the multimodal modes only in what they read;
        // late fusion's text model is the text-pretrained mode's.
        if (modes.Any(m => m is "text" or "text-pretrained" or "late-fusion"))
        {
            var textOnly = schema with
            {
                Columns = schema.Columns.Select(c => c.Role == ColumnRole.Feature && c.Type != ColumnType.Text ? c with { Role = ColumnRole.Ignore } : c).ToList(),
            };
            _textData = MultimodalData.Fit(everything, textOnly, [], vocabulary: _data!.Vocabulary, budgetPerColumn: options.TextBudget);
            _textRows = TextsOnly(_allRows!);
        }
        foreach (var mode in modes.Where(m => m is "multimodal" or "multimodal-stack" || m == "ensemble" && multimodalCandidate || Comparison.Ablations.Contains(m)))
        {
            string key = mode is "multimodal-stack" or "ensemble" ? "multimodal" : mode;
            if (!_coPretrained.ContainsKey(key)) _coPretrained[key] = CoPretrain(key, everything);
        }
        _unlabeledRows = unlabeled is not null && _data is not null && (options.FineTune.ConsistencyWeight > 0 || options.FineTune.PseudoLabelWeight > 0)
            ? _data.Transform(unlabeled, Enumerable.Range(0, unlabeled.RowCount).ToArray()) : null;
        if (modes.Any(m => m is "text-pretrained" or "late-fusion")) _textPretrained = PretrainTextEncoder(everything);
    }

    /// <summary>Co-pretrains the multimodal transformer of variant <paramref name="key"/> on every row; returns its weights.</summary>
    private Dictionary<string, float[]> CoPretrain(string key, RawTable everything)
    {
        var (losses, encoder) = Comparison.Variant(key, _options.Encoder);
        string name = "co-pretraining" + (key == "multimodal" ? "" : $" ({key})");
        _log?.WriteLine($"{name} on {everything.RowCount:N0} rows (labels unused) for {Length()} ...");
        var model = MultimodalTransformer.Create(_data!, encoder, (ulong)_options.Seed, _options.HeadLayers, keywordBuckets: _options.KeywordBuckets);
        Report(name, new Trainer(model.CoPretrainingTask(EveryRow(everything), 32, losses, (ulong)_options.Seed), Pretraining("co-pretrain")).Run());
        return model.CopyState();
    }

    /// <summary>
    /// The text-only encoder, pretrained with MLM (whole words) on every row's texts — the comparison's
    /// "text model pretrained apart from the table"; returns its weights.
    /// </summary>
    private Dictionary<string, float[]> PretrainTextEncoder(RawTable everything)
    {
        _log?.WriteLine($"pretraining the text-only encoder (MLM) on {everything.RowCount:N0} rows' texts for {Length()} ...");
        var data = _data!;
        var corpus = new TokenCorpus(EveryRow(everything).Text.Select(t => new TokenSequence(t.InputIds, t.WordIds)).ToList(), data.Special);
        var (train, valid) = corpus.Split(0.02, (ulong)_options.Seed);
        var masking = new MaskingOptions();
        var mlm = new MaskedLanguageModel(_options.Encoder with { VocabSize = data.Vocabulary.Count }, data.Special, masking, new Rng((ulong)_options.Seed));
        Report("text MLM", new Trainer(new PretrainingTask(mlm, train, valid, 32, masking, (ulong)_options.Seed, pseudoPerplexitySequences: 0), Pretraining("text MLM")).Run());
        return ((BertForMaskedLM)mlm.Model).Bert.CopyState();
    }

    private MultimodalRows EveryRow(RawTable everything) =>
        everything == _table ? _allRows! : _data!.Transform(everything, Enumerable.Range(0, everything.RowCount).ToArray());

    private string Length() => _options.PretrainSteps > 0 ? $"{_options.PretrainSteps:N0} steps" : $"up to {_options.PretrainBudget.TotalMinutes:0.#} min";

    private TrainerOptions Pretraining(string label) => new()
    {
        MaxSteps = _options.PretrainSteps > 0 ? _options.PretrainSteps : 1_000_000, TimeBudget = _options.PretrainSteps > 0 ? null : _options.PretrainBudget,
        CalibrationSteps = 30, WarmupSteps = 100, LearningRate = 1e-3f, Seed = (ulong)_options.Seed, Progress = _log, Label = label, LogEvery = 50,
    };

    private void Report(string name, TrainingResult r) => _log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: {r.Steps:N0} steps in {r.Seconds:F0} s, loss {(r.Log.Count > 0 ? r.Log[0].Loss : double.NaN):F2} → {(r.Log.Count > 0 ? r.Log[^1].Loss : double.NaN):F2}"));

    /// <summary>The same rows' texts under a table without columns.</summary>
    private static MultimodalRows TextsOnly(MultimodalRows rows) => new(new TokenInputs([], [], rows.Count), rows.Text);
}
