using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Evaluation;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Text;

namespace Jianwei.Bench;

/// <summary>
/// The pretraining comparison of the encoder issue: pretrain one small encoder with MLM, ELECTRA and
/// MPNet for the same wall-clock budget on the Chinese review texts (waimai + ChnSentiCorp), then
/// fine-tune a classifier on ChnSentiCorp with 5-fold CV — each pretrained encoder and the same
/// architecture from scratch, with one recipe.
/// <c>bench pretrain [SHARED_DIR] [--minutes M] [--objectives mlm,electra,mpnet] [--out DIR] [--epochs E] [--lr R]
/// [--fold-limit N] [--train-rows N] [--norm post|pre|rezero] [--reuse]</c> (<c>--reuse</c>: fine-tune the encoders a previous run saved under --out;
/// <c>--train-rows</c>: fine-tune on a stratified sample of N rows of each training fold — few labels, where pretraining should matter most)
/// prints one JSON object per model and a Markdown table.
/// </summary>
internal static class PretrainBench
{
    public static int Run(string[] args)
    {
        string shared = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal)))
                            .FirstOrDefault() ?? Path.Combine("..", "shared");
        double minutes = double.Parse(Option(args, "--minutes") ?? "8", CultureInfo.InvariantCulture);
        var objectives = (Option(args, "--objectives") ?? "mlm,electra,mpnet").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string outDir = Option(args, "--out") ?? Path.Combine(Path.GetTempPath(), "jianwei-pretrain-bench");
        int epochs = int.Parse(Option(args, "--epochs") ?? "2", CultureInfo.InvariantCulture);
        float fineTuneRate = float.Parse(Option(args, "--lr") ?? "5e-4", CultureInfo.InvariantCulture);
        int foldLimit = int.Parse(Option(args, "--fold-limit") ?? "5", CultureInfo.InvariantCulture);
        int? trainRows = Option(args, "--train-rows") is { } tr ? int.Parse(tr, CultureInfo.InvariantCulture) : null;
        var norm = (Option(args, "--norm") ?? "post") switch
        {
            "post" => NormPlacement.Post, "pre" => NormPlacement.Pre, "rezero" => NormPlacement.ReZero,
            var other => throw new ArgumentException($"--norm: '{other}' is not post, pre or rezero"),
        };
        bool reuse = args.Contains("--reuse");   // fine-tune the encoders an earlier run saved under --out
        string data = Path.Combine(shared, "datasets");
        string htl = Path.Combine(data, "zh_ChnSentiCorp_htl_all.csv"), waimai = Path.Combine(data, "zh_waimai_10k.csv");
        if (!File.Exists(htl) || !File.Exists(waimai)) { Console.Error.WriteLine($"bench pretrain: {data} lacks the Chinese review sets"); return 2; }

        var htlTable = RawTable.Load(htl);
        var htlTexts = htlTable.Column(htlTable.IndexOf("review"));
        var htlLabels = htlTable.Column(htlTable.IndexOf("label")).Select(v => v == "1" ? 1 : 0).ToArray();
        var waimaiTable = RawTable.Load(waimai);
        var allTexts = htlTexts.Concat(waimaiTable.Column(waimaiTable.IndexOf("review"))).ToList();

        var sw = Stopwatch.StartNew();
        var segmenter = ChineseSegmenter.Load(ChineseSegmenter.FindDictionary(Path.Combine(data, "jieba_dict.txt"))!);
        var vocab = WordPieceTrainer.Train(allTexts, new WordPieceTrainerOptions(VocabularySize: 8000, Segmenter: segmenter));
        var tokenizer = new BertTokenizer(vocab, segmenter: segmenter);
        var corpus = TokenCorpus.FromTexts(allTexts, tokenizer, 128);
        var (train, validation) = corpus.Split(0.05, 7);
        Console.Error.WriteLine($"pretrain bench: {allTexts.Count} texts, vocabulary {vocab.Count}, {train.Sequences.Count} training and {validation.Sequences.Count} validation sequences, "
                                + $"{train.Sequences.Sum(s => s.Length):N0} training tokens ({sw.Elapsed.TotalSeconds:F0} s)");

        var config = new EncoderConfig
        {
            VocabSize = vocab.Count, HiddenSize = 128, Layers = 4, Heads = 4, IntermediateSize = 512, MaxPositions = 128, Norm = norm,
        };
        var masking = new MaskingOptions { Unit = MaskingUnit.WholeWord };
        var special = SpecialTokens.From(vocab);
        var encoders = new List<(string Name, string? Directory, PretrainingScores? Scores, double Seconds, int Steps)> { ("scratch", null, null, 0, 0) };
        foreach (var name in objectives)
        {
            if (reuse)
            {
                encoders.Add((name, Path.Combine(outDir, name, "encoder"), null, 0, 0));
                continue;
            }
            IPretrainingObjective objective = name switch
            {
                "mlm" => new MaskedLanguageModel(config, special, masking, new Rng(1)),
                "electra" => new Electra(config, special, masking, new Rng(1)),
                "mpnet" => new Mpnet(config, special, masking, new Rng(1)),
                _ => throw new ArgumentException($"unknown objective '{name}' (mlm, electra, mpnet)"),
            };
            string dir = Path.Combine(outDir, name);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            var task = new PretrainingTask(objective, train, validation, 32, masking, seed: 3, pseudoPerplexitySequences: 100);
            var result = new Trainer(task, new TrainerOptions
            {
                MaxSteps = 1_000_000, TimeBudget = TimeSpan.FromMinutes(minutes), CalibrationSteps = 60, WarmupSteps = 200, LearningRate = 1e-3f,
                OutputDirectory = Path.Combine(dir, "run"), CheckpointEvery = 500, Seed = 3, Progress = Console.Error, Label = name, LogEvery = 50,
            }).Run();
            var final = result.Evaluations[^1].Metrics;   // the trainer's closing evaluation
            var scores = new PretrainingScores(final["masked_accuracy"], final["masked_loss"], final["pseudo_perplexity"], 0);
            objective.SaveEncoder(Path.Combine(dir, "encoder"), vocab);
            encoders.Add((name, Path.Combine(dir, "encoder"), scores, result.Seconds, result.Steps));
            Console.Error.WriteLine($"{name}: {result.Steps} steps, {result.Tokens:N0} tokens in {result.Seconds:F0} s; masked accuracy {scores.MaskedAccuracy:F4}, pseudo-perplexity {scores.PseudoPerplexity:F1}");
        }

        // Fine-tuning: ChnSentiCorp, 5-fold stratified (seed 0), one recipe for every encoder.
        var sequences = TokenCorpus.FromTexts(htlTexts, tokenizer, 128, oneSequencePerText: true).Sequences;
        var folds = DataSplits.StratifiedKFold(htlLabels, 5, 0);
        var rows = new List<Dictionary<string, object?>>();
        foreach (var (name, dir, scores, seconds, steps) in encoders)
        {
            var aucs = new List<double>();
            var fineTuneClock = Stopwatch.StartNew();
            foreach (var fold in folds.Take(foldLimit))
            {
                using var scope = new TensorScope();
                var encoder = new TransformerEncoder(config, new Rng(100 + (ulong)fold.Index));
                if (dir is not null) BertCheckpoint.LoadInto(encoder, dir);
                var classifier = new SequenceClassifier(encoder, special.Pad, new Rng(200 + (ulong)fold.Index));
                var trainIndex = trainRows is { } n ? StratifiedSample(fold.Train, htlLabels, n, 300 + (ulong)fold.Index) : fold.Train;
                classifier.Fit(trainIndex.Select(i => sequences[i]).ToList(), trainIndex.Select(i => htlLabels[i]).ToList(),
                               new FineTuneOptions { Epochs = epochs, LearningRate = fineTuneRate, Seed = (ulong)fold.Index });
                var p = classifier.PredictProbabilities(fold.Test.Select(i => sequences[i]).ToList());
                aucs.Add(Metrics.RocAuc(p.Select(v => (double)v).ToArray(), fold.Test.Select(i => htlLabels[i]).ToArray()));
                Console.Error.WriteLine($"{name}: fold {fold.Index} ROC-AUC {aucs[^1]:F4}");
            }
            double mean = aucs.Average(), std = Math.Sqrt(aucs.Sum(a => (a - mean) * (a - mean)) / (aucs.Count - 1));
            var row = new Dictionary<string, object?>
            {
                ["config"] = "pretrain", ["encoder"] = name, ["pretrain_minutes"] = dir is null ? 0 : Math.Round(seconds / 60, 1), ["pretrain_steps"] = steps,
                ["masked_accuracy"] = scores is null ? null : Math.Round(scores.MaskedAccuracy, 4),
                ["pseudo_perplexity"] = scores is null ? null : Math.Round(scores.PseudoPerplexity, 1),
                ["auc"] = Math.Round(mean, 4), ["auc_std"] = Math.Round(std, 4), ["fine_tune_seconds"] = Math.Round(fineTuneClock.Elapsed.TotalSeconds, 0), ["train_rows_per_fold"] = trainRows,
            };
            rows.Add(row);
            Console.WriteLine(JsonSerializer.Serialize(row));
        }
        Console.WriteLine();
        string protocol = (foldLimit >= folds.Count ? $"{folds.Count}-fold" : $"{Math.Min(foldLimit, folds.Count)} of {folds.Count} folds")
                          + (trainRows is { } rowsPerFold ? $", {rowsPerFold} training rows per fold" : "");
        Console.WriteLine($"| encoder | pretraining | masked-token acc. | pseudo-perplexity | ChnSentiCorp ROC-AUC ({protocol}) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var r in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r["encoder"]} | {r["pretrain_minutes"]} min, {r["pretrain_steps"]} steps | {r["masked_accuracy"] ?? "–"} | {r["pseudo_perplexity"] ?? "–"} | {r["auc"]:F4} ± {r["auc_std"]:F4} |"));
        return 0;
    }

    /// <summary>n of the rows, each class in its share, shuffled by <paramref name="seed"/>: the same sample for every encoder.</summary>
    private static int[] StratifiedSample(IReadOnlyList<int> rows, int[] labels, int n, ulong seed)
    {
        if (n >= rows.Count) return rows.ToArray();
        var rng = new Rng(seed);
        int positives = rows.Count(r => labels[r] == 1);
        int wantPositives = (int)Math.Round((double)n * positives / rows.Count);
        int[] Shuffled(int label)
        {
            var pick = rows.Where(r => labels[r] == label).ToArray();
            for (int i = pick.Length - 1; i > 0; i--) { int j = rng.NextInt(i + 1); (pick[i], pick[j]) = (pick[j], pick[i]); }
            return pick;
        }
        return [.. Shuffled(1).Take(wantPositives), .. Shuffled(0).Take(n - wantPositives)];
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
