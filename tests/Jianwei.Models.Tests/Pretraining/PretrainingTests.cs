using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Text;

namespace Jianwei.Models.Tests.Pretraining;

[Collection("Serial")]
public class PretrainingTests
{
    private static readonly string[] Words = ["the", "a", "cat", "dog", "bird", "sat", "ran", "flew", "on", "under", "mat", "tree", "roof", "red", "big", "small", "##s", "##ed", "and", "quickly"];
    private static readonly Vocabulary Vocab = new(Vocabulary.DefaultSpecialTokens.Concat(Words));
    private static readonly SpecialTokens Special = SpecialTokens.From(Vocab);

    /// <summary>Sentences from a tiny grammar: learnable structure (determiner → adjective → noun → verb …).</summary>
    private static List<string> Sentences(int count, ulong seed)
    {
        var rng = new Rng(seed);
        string Pick(params string[] options) => options[rng.NextInt(options.Length)];
        return Enumerable.Range(0, count).Select(_ =>
            $"{Pick("the", "a")} {Pick("red", "big", "small")} {Pick("cat", "dog", "bird")} {Pick("sat", "ran", "flew")} {Pick("on", "under")} the {Pick("mat", "tree", "roof")}"
            + (rng.NextInt(2) == 0 ? $" and {Pick("cats", "dogs")} {Pick("sat", "ran")} quickly" : "")).ToList();
    }

    private static TokenCorpus Corpus(int count, ulong seed) => TokenCorpus.FromTexts(Sentences(count, seed), new BertTokenizer(Vocab), 32);

    private static readonly EncoderConfig Tiny = new()
    {
        VocabSize = Vocab.Count, HiddenSize = 32, Layers = 2, Heads = 2, IntermediateSize = 64, MaxPositions = 64, HiddenDropout = 0.1f,
    };

    [Fact]
    public void CorpusCutsLongTextsIntoWindowsAndLosesNothing()
    {
        var corpus = TokenCorpus.FromTexts(["the cat sat on the mat and dogs ran quickly under the tree", "", null], new BertTokenizer(Vocab), 6);
        Assert.All(corpus.Sequences, s => { Assert.True(s.Length <= 6); Assert.Equal(Special.Cls, s.Ids[0]); Assert.Equal(Special.Sep, s.Ids[^1]); });
        var pieces = corpus.Sequences.SelectMany(s => s.Ids[1..^1]).ToArray();
        Assert.Equal(new BertTokenizer(Vocab).EncodeIds("the cat sat on the mat and dogs ran quickly under the tree"), pieces);
        var batches = corpus.EpochBatches(2, 1, 0);
        Assert.Equal(Enumerable.Range(0, corpus.Sequences.Count), batches.SelectMany(b => b).Order());
        Assert.Equal(batches.Select(b => b.ToArray()), corpus.EpochBatches(2, 1, 0));   // a function of (seed, epoch)
    }

    [Theory]
    [InlineData(MaskingUnit.Token)]
    [InlineData(MaskingUnit.WholeWord)]
    [InlineData(MaskingUnit.Span)]
    public void MaskingRatesAndUnitsFollowTheRecipe(MaskingUnit unit)
    {
        var corpus = Corpus(2000, 3);
        var masker = new TokenMasker(new MaskingOptions { Unit = unit }, Special, Vocab.Count);
        var rng = new Rng(4);
        long real = 0, chosen = 0, asMask = 0, asRandom = 0, kept = 0;
        foreach (var s in corpus.Sequences)
        {
            var picks = masker.Choose(s, rng);
            real += s.Length - 2;
            chosen += picks.Length;
            Assert.All(picks, p => Assert.True(s.WordIds[p] >= 0, "a special token was chosen"));
            if (unit != MaskingUnit.Token)   // a word is chosen whole or not at all
                foreach (int p in picks)
                    for (int q = 1; q < s.Length - 1; q++)
                        if (s.WordIds[q] == s.WordIds[p]) Assert.Contains(q, picks);
            foreach (int p in picks)
            {
                int id = masker.Corrupt(s.Ids[p], rng);
                if (id == Special.Mask) asMask++; else if (id == s.Ids[p]) kept++; else { asRandom++; Assert.False(Special.Contains(id)); }
            }
        }
        double rate = chosen / (double)real;
        Assert.InRange(rate, 0.13, 0.17);
        Assert.InRange(asMask / (double)chosen, 0.77, 0.83);
        Assert.InRange(asRandom / (double)chosen, 0.08, 0.12);   // random replacements that hit the original count as kept (1/20 of them)
        Assert.InRange(kept / (double)chosen, 0.08, 0.13);
    }

    [Fact]
    public void SpanMaskingChoosesRunsOfWords()
    {
        var corpus = Corpus(500, 5);
        var masker = new TokenMasker(new MaskingOptions { Unit = MaskingUnit.Span, Rate = 0.3 }, Special, Vocab.Count);
        var rng = new Rng(6);
        int runs = 0, picked = 0;
        foreach (var s in corpus.Sequences)
        {
            var picks = masker.Choose(s, rng);
            picked += picks.Length;
            runs += picks.Where((p, i) => i == 0 || picks[i - 1] != p - 1).Count();
        }
        Assert.True(picked / (double)runs > 1.8, $"mean run {picked / (double)runs:F2} tokens: spans should be longer than single tokens");
    }

    [Fact]
    public void MpnetLayoutMatchesThePapersWorkedExample()
    {
        // Paper, Figure 2: x1..x6, permutation (1, 3, 5, 4, 6, 2), the last three predicted: x4, x6, x2.
        // 0-based: predicted positions 3, 5, 1 in that order; tokens are ids 10..15.
        var s = new TokenSequence([10, 11, 12, 13, 14, 15], [0, 1, 2, 3, 4, 5]);
        var layout = Mpnet.Build([s], [[3, 5, 1]], _ => 4 /* [MASK] */, 0);
        var inputs = layout.Inputs;
        // Content: x1 x3 x5 | M M M | x4 x6 x2, then query rows for x4 x6 x2.
        Assert.Equal(new[] { 10, 12, 14, 4, 4, 4, 13, 15, 11, 4, 4, 4 }, inputs.Ids.Values);
        Assert.Equal(new[] { 0, 2, 4, 3, 5, 1, 3, 5, 1, 3, 5, 1 }, inputs.Positions!.Values);
        Assert.Equal(9, inputs.KeyRows);
        Assert.Equal(new[] { 13, 15, 11 }, layout.Targets.Values);
        Assert.Equal(new[] { 9, 10, 11 }, layout.QueryRows.Values);

        int[] Visible(int row) => Enumerable.Range(0, 9).Where(k => inputs.AttentionMask![0, row, k] == 1f).ToArray();
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, Visible(0));     // kept x1: kept + all masks
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, Visible(4));     // a mask slot: the same
        Assert.Equal(new[] { 0, 1, 2, 4, 5, 6 }, Visible(6));     // content x4 (1st predicted): itself, masks of x6, x2
        Assert.Equal(new[] { 0, 1, 2, 5, 6, 7 }, Visible(7));     // content x6: x4, itself, mask of x2
        Assert.Equal(new[] { 0, 1, 2, 6, 7, 8 }, Visible(8));     // content x2: all predicted tokens
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, Visible(9));     // query x4: no predicted token, all masks (its own position included)
        Assert.Equal(new[] { 0, 1, 2, 4, 5, 6 }, Visible(10));    // query x6: x4, masks of x6 and x2
        Assert.Equal(new[] { 0, 1, 2, 5, 6, 7 }, Visible(11));    // query x2: x4, x6, mask of x2
        // Position compensation: every row sees each of the six positions exactly once.
        for (int row = 0; row < 12; row++)
            Assert.Equal(Enumerable.Range(0, 6), Visible(row).Select(k => inputs.Positions!.Values[k]).Order());
    }

    public static TheoryData<string> ObjectiveNames => new() { "mlm", "electra", "mpnet" };

    private static IPretrainingObjective Make(string name, EncoderConfig config, MaskingOptions masking, ulong seed) => name switch
    {
        "mlm" => new MaskedLanguageModel(config, Special, masking, new Rng(seed)),
        "electra" => new Electra(config, Special, masking, new Rng(seed)),
        _ => new Mpnet(config, Special, masking, new Rng(seed)),
    };

    [Theory, MemberData(nameof(ObjectiveNames))]
    public void EachObjectiveLearnsTheGrammar(string name)
    {
        var (train, validation) = Corpus(600, 7).Split(0.1, 1);
        var masking = new MaskingOptions();
        var objective = Make(name, Tiny, masking, 8);
        var before = PretrainingEvaluation.Evaluate(objective, validation, masking, pseudoPerplexitySequences: 8);
        var task = new PretrainingTask(objective, train, validation, 32, masking, seed: 9, pseudoPerplexitySequences: 8);
        var result = new Trainer(task, new TrainerOptions { MaxSteps = 150, WarmupSteps = 10, LearningRate = 3e-3f, Seed = 9 }).Run();
        var after = result.Evaluations[^1].Metrics;
        // The grammar leaves ~1/3 of tokens to chance (3 choices each) and fixes the rest; chance over 25 ids is 4 %.
        // ELECTRA is scored through its generator, a quarter of the width.
        Assert.True(after["masked_accuracy"] > before.MaskedAccuracy + 0.2, $"{name}: accuracy {before.MaskedAccuracy:F3} → {after["masked_accuracy"]:F3}");
        Assert.True(after["pseudo_perplexity"] < before.PseudoPerplexity / 3, $"{name}: pseudo-perplexity {before.PseudoPerplexity:F1} → {after["pseudo_perplexity"]:F1}");
        Assert.True(result.Log[^1].Loss < result.Log[0].Loss, $"{name}: loss {result.Log[0].Loss:F3} → {result.Log[^1].Loss:F3}");
    }

    [Fact]
    public void ElectraSharesTheTokenEmbeddingsAndWeightsTheDiscriminator()
    {
        var electra = new Electra(Tiny, Special, new MaskingOptions(), new Rng(1));
        var parts = (Electra.Parts)electra.Model;
        Assert.Same(parts.Discriminator.Embeddings, parts.Generator.Embeddings);
        Assert.Equal(1, electra.Model.NamedParameters().Count(p => ReferenceEquals(p.Parameter, parts.Discriminator.Embeddings.Word.Weight)));
        Assert.Equal(8, parts.Generator.Config.HiddenSize);   // a quarter of 32
        var batch = Corpus(8, 2).MakeBatch(Enumerable.Range(0, 8).ToArray());
        var loss = electra.Loss(batch, new Rng(3));
        Assert.Equal(loss.Parts["generator_mlm"] + 50 * loss.Parts["discriminator_bce"], loss.Loss.Item(), 3);
        Assert.InRange(loss.Parts["replaced_fraction"], 0.01, 0.2);
    }

    private sealed class StopAfter(PretrainingTask inner, long microBatches, CancellationTokenSource cancel) : ITrainingTask
    {
        public Tensors.Nn.Module Model => inner.Model;
        public TrainingStepResult Step(long microBatch, Rng rng)
        {
            if (microBatch + 1 >= microBatches) cancel.Cancel();
            return inner.Step(microBatch, rng);
        }
        public IReadOnlyDictionary<string, double> Evaluate() => inner.Evaluate();
    }

    [Theory]
    [InlineData("mlm")]
    [InlineData("electra")]
    public void ResumedRunContinuesTheUninterruptedOneExactly(string name)
    {
        // Dropout on, Performer features redrawn every 2 passes, gradient accumulation: all must resume exactly.
        var config = Tiny with { Attention = AttentionKind.Performer, PerformerRedrawInterval = 2 };
        var (train, validation) = Corpus(200, 11).Split(0.1, 1);
        var masking = new MaskingOptions();
        string straight = TempDir(), resumed = TempDir();
        try
        {
            TrainerOptions Options(string dir) => new() { MaxSteps = 8, WarmupSteps = 2, GradientAccumulation = 2, LogEvery = 1, OutputDirectory = dir, Seed = 5, LearningRate = 2e-3f };
            var a = Make(name, config, masking, 1);
            var full = new Trainer(new PretrainingTask(a, train, validation, 16, masking, 5, 4), Options(straight)).Run();

            var b = Make(name, config, masking, 1);
            using var cancel = new CancellationTokenSource();
            var first = new Trainer(new StopAfter(new PretrainingTask(b, train, validation, 16, masking, 5, 4), 8, cancel), Options(resumed)).Run(cancel.Token);
            Assert.True(first.Interrupted);
            Assert.Equal(4, first.Steps);

            var c = Make(name, config, masking, 99);   // a fresh process: other initial weights, restored from the checkpoint
            var second = new Trainer(new PretrainingTask(c, train, validation, 16, masking, 5, 4), Options(resumed)).Run();
            Assert.Equal(8, second.Steps);
            Assert.Equal(full.Log.Select(r => r.Loss), second.Log.Select(r => r.Loss));   // the curve continues the one before
            foreach (var (key, tensor) in a.Model.StateDict())
                Assert.Equal(tensor.ToArray(), c.Model.StateDict()[key].ToArray());
            Assert.Equal(File.ReadLines(Path.Combine(straight, "train_log.csv")).Select(l => l.Split(',')[1]),
                         File.ReadLines(Path.Combine(resumed, "train_log.csv")).Select(l => l.Split(',')[1]));
        }
        finally { Directory.Delete(straight, true); Directory.Delete(resumed, true); }
    }

    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-train-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
