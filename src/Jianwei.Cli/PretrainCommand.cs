using System.CommandLine;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Transformers;
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

    private const string Help = """
        Pretrain a text encoder on your texts (no labels needed) with masked language modelling
        (whole words for Chinese), ELECTRA or MPNet. Checkpoints every 500 steps and on Ctrl+C; run the
        same command again to resume exactly where it stopped. The encoder is saved in Hugging Face's
        BERT layout under DIR/encoder; logs are DIR/run/train_log.csv and eval_log.csv.

        Examples:
          jianwei pretrain reviews.csv --text review --out enc --minutes 20
          jianwei pretrain companies.csv --text profile,recruitment,changes --objective electra --out enc
        """;

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
        var attention = new Option<string>("--attention") { Description = "softmax, performer, linear or entmax (1.5-entmax: sparse attention)", DefaultValueFactory = _ => "softmax" };
        var norm = new Option<string>("--norm") { Description = "post (BERT), pre (pre-layer-norm) or rezero", DefaultValueFactory = _ => "post" };
        var maxLength = new Option<int>("--max-length") { Description = "tokens per sequence (longer texts become several)", DefaultValueFactory = _ => 128 };
        var cmd = new Command("pretrain", Help) { data, text, output, objective, minutes, vocabFile, vocabSize, preset, attention, norm, maxLength };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction((parse, cancel) => Task.Run(() =>
        {
            OptionChecks.Within(parse.GetValue(minutes), "--minutes", 0.001, 7 * 24 * 60, "minutes");
            OptionChecks.Within(parse.GetValue(vocabSize), "--vocab-size", 100, 1_000_000, "tokens");
            OptionChecks.Within(parse.GetValue(maxLength), "--max-length", 8, 8192, "tokens");
            var options = Options(parse.GetValue(objective)!, parse.GetValue(preset)!, parse.GetValue(attention)!, parse.GetValue(norm)!) with
            {
                Budget = TimeSpan.FromMinutes(parse.GetValue(minutes)), MaxLength = parse.GetValue(maxLength), VocabularySize = parse.GetValue(vocabSize),
                VocabularyFile = parse.GetValue(vocabFile) is FileInfo vf ? (vf.Exists ? vf.FullName : throw new UserErrorException($"--vocab: {vf.FullName}: file not found.")) : null,
                Segmenter = ChineseSegmenter.FindDictionary() is string dict ? ChineseSegmenter.Load(dict) : null, Progress = stderr,
            };
            // A pretraining directory is ours to resume only if an earlier pretrain wrote it (its marker, or the
            // checkpoint state of runs from before the marker existed); any other non-empty directory is refused.
            var dir = OwnedDirectory.Claim(parse.GetValue(output)!.FullName, MarkerFile, "jianwei-pretraining",
                d => OwnedDirectory.MarkerKind(Path.Combine(d, "run", "checkpoints", "latest.json")) == "jianwei-trainer-1");
            var table = input.Load(parse, parse.GetValue(data)!);
            var columns = parse.GetValue(text)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var c in columns)
                if (table.IndexOf(c) < 0) throw new UserErrorException($"--text: the file has no column '{c}'.");
            TextPretrainingResult result;
            try { result = TextPretraining.Run(columns.SelectMany(c => table.Column(table.IndexOf(c))).ToList(), dir, options, cancel); }
            catch (PretrainingInputException e) { throw new UserErrorException((e.Field == "vocabulary" ? "--vocab: " : "--text: ") + e.Message); }
            var run = result.Training;
            if (run.Interrupted)
            {
                stdout.WriteLine($"stopped at step {run.Steps:N0}; checkpoint saved — run the same command to resume.");
                return 130;
            }
            var last = run.Evaluations[^1].Metrics;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Objective}: {run.Steps:N0} steps, {run.Tokens:N0} tokens in {run.Seconds / 60:0.0} min; held-out masked-token accuracy {last["masked_accuracy"]:0.0000}, pseudo-perplexity {last["pseudo_perplexity"]:0.0}"));
            stdout.WriteLine($"encoder: {result.EncoderDirectory} (config.json, model.safetensors, vocab.txt)");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The objective and encoder shape the options name, checked before any work.</summary>
    private static TextPretrainingOptions Options(string objective, string size, string attention, string norm)
    {
        var kind = attention.ToLowerInvariant() switch
        {
            "softmax" => AttentionKind.Softmax, "performer" => AttentionKind.Performer, "linear" => AttentionKind.Linear, "entmax" => AttentionKind.Entmax,
            var other => throw new UserErrorException($"--attention: '{other}' is not softmax, performer, linear or entmax."),
        };
        var placement = norm.ToLowerInvariant() switch
        {
            "post" => NormPlacement.Post, "pre" => NormPlacement.Pre, "rezero" => NormPlacement.ReZero,
            var other => throw new UserErrorException($"--norm: '{other}' is not post, pre or rezero."),
        };
        if (!TextPretraining.Sizes.TryGetValue(size, out var shape)) throw new UserErrorException($"--size: '{size}' is not small or base.");
        if (!TextPretraining.Objectives.Contains(objective)) throw new UserErrorException($"--objective: '{objective}' is not mlm, electra or mpnet.");
        if (objective == "mpnet" && kind is not (AttentionKind.Softmax or AttentionKind.Entmax)) throw new UserErrorException("--objective mpnet needs --attention softmax or entmax (its two-stream masks).");
        return new TextPretrainingOptions { Objective = objective, Encoder = shape with { Attention = kind, Norm = placement } };
    }
}
