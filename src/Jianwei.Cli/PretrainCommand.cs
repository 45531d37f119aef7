using System.CommandLine;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Serialization;
using Jianwei.Text;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei pretrain DATA --text COL[,COL] --out DIR [--objective mlm|electra|mpnet] [--minutes M]</c>:
/// self-supervised pretraining of a text encoder, checkpointed (every 500 steps and on Ctrl+C) and
/// resumable; the encoder is written in Hugging Face's layout.
/// </summary>
internal static class PretrainCommand
{
    /// <summary>The file that marks a directory as a pretraining run's (so a rerun may resume in it).</summary>
    public const string MarkerFile = "pretraining.json";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Argument<FileInfo>("DATA") { Description = "table whose text columns are the corpus (labels are not used)" };
        var text = new Option<string>("--text") { Description = "text column(s), comma-separated", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "directory for checkpoints, logs and the encoder", Required = true };
        var objective = new Option<string>("--objective") { Description = "mlm, electra or mpnet", DefaultValueFactory = _ => "mlm" };
        var minutes = new Option<double>("--minutes") { Description = "wall-clock budget", DefaultValueFactory = _ => 20 };
        var vocabFile = new Option<FileInfo?>("--vocab") { Description = "a vocab.txt to use (default: train a WordPiece vocabulary on the texts)" };
        var vocabSize = new Option<int>("--vocab-size") { Description = "size of a trained vocabulary", DefaultValueFactory = _ => 8000 };
        var preset = new Option<string>("--size") { Description = "encoder size: small (128 wide, 4 layers) or base (256 wide, 4 layers)", DefaultValueFactory = _ => "small" };
        var attention = new Option<string>("--attention") { Description = "softmax, performer or linear", DefaultValueFactory = _ => "softmax" };
        var norm = new Option<string>("--norm") { Description = "post (BERT), pre (pre-layer-norm) or rezero", DefaultValueFactory = _ => "post" };
        var maxLength = new Option<int>("--max-length") { Description = "tokens per sequence (longer texts become several)", DefaultValueFactory = _ => 128 };
        var cmd = new Command("pretrain", """
            Pretrain a text encoder on your texts (no labels needed) with masked language modelling
            (whole words for Chinese), ELECTRA or MPNet. Checkpoints every 500 steps and on Ctrl+C; run the
            same command again to resume exactly where it stopped. The encoder is saved in Hugging Face's
            BERT layout under DIR/encoder; logs are DIR/run/train_log.csv and eval_log.csv.

            Examples:
              jianwei pretrain reviews.csv --text review --out enc --minutes 20
              jianwei pretrain companies.csv --text profile,recruitment,changes --objective electra --out enc
            """) { data, text, output, objective, minutes, vocabFile, vocabSize, preset, attention, norm, maxLength };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction((parse, cancel) => Task.Run(() =>
        {
            OptionChecks.Within(parse.GetValue(minutes), "--minutes", 0.001, 7 * 24 * 60, "minutes");
            OptionChecks.Within(parse.GetValue(vocabSize), "--vocab-size", 100, 1_000_000, "tokens");
            OptionChecks.Within(parse.GetValue(maxLength), "--max-length", 8, 8192, "tokens");
            // A pretraining directory is ours to resume only if an earlier pretrain wrote it (its marker, or the
            // checkpoint state of runs from before the marker existed); any other non-empty directory is refused.
            var dir = OwnedDirectory.Claim(parse.GetValue(output)!.FullName, MarkerFile, "jianwei-pretraining",
                d => OwnedDirectory.MarkerKind(Path.Combine(d, "run", "checkpoints", "latest.json")) == "jianwei-trainer-1");
            var table = input.Load(parse, parse.GetValue(data)!);
            var columns = parse.GetValue(text)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var c in columns)
                if (table.IndexOf(c) < 0) throw new UserErrorException($"--text: the file has no column '{c}'.");
            var texts = columns.SelectMany(c => table.Column(table.IndexOf(c))).ToList();
            var dict = ChineseSegmenter.FindDictionary();
            var segmenter = dict is null ? null : ChineseSegmenter.Load(dict);
            string vocabPath = Path.Combine(dir, "vocab.txt");
            Vocabulary vocab;
            if (parse.GetValue(vocabFile) is FileInfo vf)
            {
                if (!vf.Exists) throw new UserErrorException($"--vocab: {vf.FullName}: file not found.");
                vocab = Vocabulary.Load(vf.FullName);
            }
            else if (File.Exists(vocabPath)) vocab = Vocabulary.Load(vocabPath);   // resuming: the same vocabulary
            else
            {
                stderr.WriteLine($"training a {parse.GetValue(vocabSize):N0}-token WordPiece vocabulary on {texts.Count:N0} texts ...");
                vocab = WordPieceTrainer.Train(texts, new WordPieceTrainerOptions(VocabularySize: parse.GetValue(vocabSize), Segmenter: segmenter));
            }
            vocab.Save(vocabPath);
            SpecialTokens special;
            try { special = SpecialTokens.From(vocab); }
            catch (ArgumentException e) { throw new UserErrorException("--vocab: " + e.Message); }
            var corpus = TokenCorpus.FromTexts(texts, new BertTokenizer(vocab, segmenter: segmenter), parse.GetValue(maxLength));
            if (corpus.Sequences.Count < 20) throw new UserErrorException($"--text: only {corpus.Sequences.Count} non-empty texts; pretraining needs more.");
            var (train, validation) = corpus.Split(0.05, 7);
            var kind = parse.GetValue(attention)!.ToLowerInvariant() switch
            {
                "softmax" => AttentionKind.Softmax, "performer" => AttentionKind.Performer, "linear" => AttentionKind.Linear,
                var other => throw new UserErrorException($"--attention: '{other}' is not softmax, performer or linear."),
            };
            var config = (parse.GetValue(preset) switch
            {
                "small" => new EncoderConfig { HiddenSize = 128, Layers = 4, Heads = 4, IntermediateSize = 512 },
                "base" => new EncoderConfig { HiddenSize = 256, Layers = 4, Heads = 4, IntermediateSize = 1024 },
                var other => throw new UserErrorException($"--size: '{other}' is not small or base."),
            }) with
            {
                VocabSize = vocab.Count, MaxPositions = Math.Max(128, parse.GetValue(maxLength)), Attention = kind,
                Norm = parse.GetValue(norm)!.ToLowerInvariant() switch
                {
                    "post" => NormPlacement.Post, "pre" => NormPlacement.Pre, "rezero" => NormPlacement.ReZero,
                    var other => throw new UserErrorException($"--norm: '{other}' is not post, pre or rezero."),
                },
            };
            var masking = new MaskingOptions();
            IPretrainingObjective obj = parse.GetValue(objective) switch
            {
                "mlm" => new MaskedLanguageModel(config, special, masking, new Rng(1)),
                "electra" => new Electra(config, special, masking, new Rng(1)),
                "mpnet" when kind == AttentionKind.Softmax => new Mpnet(config, special, masking, new Rng(1)),
                "mpnet" => throw new UserErrorException("--objective mpnet needs --attention softmax (its two-stream masks)."),
                var other => throw new UserErrorException($"--objective: '{other}' is not mlm, electra or mpnet."),
            };
            stderr.WriteLine($"{obj.Name}: {train.Sequences.Count:N0} training sequences ({train.Sequences.Sum(s => s.Length):N0} tokens), {validation.Sequences.Count:N0} held out; {obj.Model.ParameterCount() / 1e6:0.0}M parameters");
            var result = new Trainer(new PretrainingTask(obj, train, validation, 32, masking, seed: 1), new TrainerOptions
            {
                MaxSteps = 1_000_000, TimeBudget = TimeSpan.FromMinutes(parse.GetValue(minutes)), CalibrationSteps = 30, WarmupSteps = 200,
                LearningRate = 1e-3f, OutputDirectory = Path.Combine(dir, "run"), CheckpointEvery = 500, EvaluateEvery = 2000, Seed = 1,
                Progress = stderr, Label = obj.Name, LogEvery = 20,
            }).Run(cancel);
            if (result.Interrupted)
            {
                stdout.WriteLine($"stopped at step {result.Steps:N0}; checkpoint saved — run the same command to resume.");
                return 130;
            }
            AtomicDirectory.Replace(Path.Combine(dir, "encoder"), staging => obj.SaveEncoder(staging, vocab));
            var last = result.Evaluations[^1].Metrics;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{obj.Name}: {result.Steps:N0} steps, {result.Tokens:N0} tokens in {result.Seconds / 60:0.0} min; held-out masked-token accuracy {last["masked_accuracy"]:0.0000}, pseudo-perplexity {last["pseudo_perplexity"]:0.0}"));
            stdout.WriteLine($"encoder: {Path.Combine(dir, "encoder")} (config.json, model.safetensors, vocab.txt)");
            return 0;
        }));
        return cmd;
    }
}
