using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Kernels;
using Jianwei.Tensors.Optim;

namespace Jianwei.Bench;

/// <summary>
/// Benchmarks. Contract: <c>dotnet run -c Release --project bench -- engine [small|long|gemm|quick|all]</c>
/// prints one JSON object per line (keys: config, train_tokens_per_s, infer_tokens_per_s,
/// one_row_p50_ms, peak_working_set_mb, gc_per_step; for gemm: n, gflops, backend).
/// Progress and the backend in use go to standard error.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine("usage: bench engine [small|long|gemm|quick|all] | bench text [SHARED_DIR] | bench data [MB] | bench tabular [SHARED_DIR] [DATASET] [LEARNERS] [--dump DIR] | bench combiners DIR | bench pretrain [SHARED_DIR] [--minutes M] [--objectives mlm,electra,mpnet] [--epochs E] | bench copretrain --file CSV --label COL [--unlabeled CSV] [--steps N] [--variants a,b] | bench serve [BUNDLE] [--seconds S] [--preset P]");
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] == "text") return TextBench.Run(args.Skip(1).ToArray());
        if (args[0] == "data") return DataBench.Run(args.Skip(1).ToArray());
        if (args[0] == "tabular") return TabularBench.Run(args.Skip(1).ToArray());
        if (args[0] == "combiners") return CombinerBench.Run(args.Skip(1).ToArray());
        if (args[0] == "sklearn-folds")   // FILE LABEL POSITIVE: the folds as scikit-learn prints them, to check SklearnFolds against it
        {
            var table = Jianwei.Data.RawTable.Load(args[1]);
            int li = table.IndexOf(args[2]);
            var folds = SklearnFolds.StratifiedKFold(table.Rows.Select(r => r[li] == args[3] ? 1 : 0).ToArray(), 5, 0);
            foreach (var f in folds) Console.WriteLine($"{f.Index} {f.Test.Length} [{string.Join(", ", f.Test.Take(8))}] {f.Test.Sum() % 100000}");
            return 0;
        }
        if (args[0] == "pretrain") return PretrainBench.Run(args.Skip(1).ToArray());
        if (args[0] == "copretrain") return CoPretrainBench.Run(args.Skip(1).ToArray());
        if (args[0] == "serve") return ServeBench.Run(args.Skip(1).ToArray());
        if (args[0] != "engine")
        {
            Console.Error.WriteLine($"bench: unknown benchmark '{args[0]}' (available: engine, text, data, tabular, combiners, pretrain, copretrain, serve)");
            return 2;
        }
        string what = args.Length > 1 ? args[1] : "all";
        if (what is not ("small" or "long" or "gemm" or "quick" or "arch" or "all") && !what.StartsWith("long-", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"bench: unknown engine configuration '{what}' (small, long, gemm, quick, arch, all)");
            return 2;
        }
        Console.Error.WriteLine($"jianwei bench: {Gemm.Describe()}; {Environment.ProcessorCount} cores; .NET {Environment.Version}");
        if (what is "gemm" or "all") GemmBench();
        if (what is "small" or "all") EncoderBench("small", Anchor(128), 8192, 128, 32, steps: 20);
        if (what is "quick") EncoderBench("quick", Anchor(128), 8192, 128, 32, steps: 3, warmup: 1, latencyRuns: 10);
        if (what is "arch")
        {
            // The seed's architecture options at the multimodal model's size and length (d 256, 4 heads,
            // ff 1024, 4 layers, 192 tokens): what 1.5-entmax attention and 4 Switch experts cost a training step.
            var plain = new EncoderConfig { VocabSize = 8192, HiddenSize = 256, Heads = 4, IntermediateSize = 1024, Layers = 4, MaxPositions = 192 };
            foreach (var (name, config) in new[] { ("softmax", plain), ("entmax15", plain with { Attention = AttentionKind.Entmax }), ("moe4", plain with { Experts = 4 }) })
                EncoderBench($"arch-{name}", () => new ProductMlm(config, new Rng(0)), 8192, 192, 32, steps: 6, warmup: 2, latencyRuns: 0);
        }
        if (what is "long" or "all" || what.StartsWith("long-", StringComparison.Ordinal))
        {
            // The product encoder (same shapes as the anchor: d 256, 4 heads, ff 1024, 4 layers) with each
            // attention. Batch 4 at 512 and 2048 (the anchor's), batch 1 at 8192 (softmax's n² buffers).
            foreach (int seq in new[] { 512, 2048, 8192 })
                foreach (var kind in new[] { AttentionKind.Softmax, AttentionKind.Performer, AttentionKind.Linear })
                {
                    string name = $"long-{kind.ToString().ToLowerInvariant()}-{seq}";
                    if (what.StartsWith("long-", StringComparison.Ordinal) && what != name) continue;
                    var config = new EncoderConfig { VocabSize = 8192, HiddenSize = 256, Heads = 4, IntermediateSize = 1024, Layers = 4, MaxPositions = seq, Attention = kind };
                    EncoderBench(name, () => new ProductMlm(config, new Rng(0)), 8192, seq, seq >= 8192 ? 1 : 4,
                                 steps: seq >= 8192 ? 2 : 5, warmup: 1, latencyRuns: 0);
                }
        }
        return 0;
    }

    private static void Emit(Dictionary<string, object> fields) => Console.WriteLine(JsonSerializer.Serialize(fields));

    private static void GemmBench()
    {
        var backends = new List<GemmBackend> { GemmBackend.Managed };
        if (Gemm.OpenBlasAvailable) backends.Insert(0, GemmBackend.OpenBlas);
        var saved = Gemm.Backend;
        foreach (int n in new[] { 512, 1024, 2048 })
        {
            var rng = new Rng(1);
            var a = Enumerable.Range(0, n * n).Select(_ => rng.NextFloat()).ToArray();
            var b = Enumerable.Range(0, n * n).Select(_ => rng.NextFloat()).ToArray();
            var c = new float[n * n];
            foreach (var backend in backends)
            {
                Gemm.Backend = backend;
                for (int i = 0; i < 3; i++) Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
                int reps = n <= 512 ? 30 : n <= 1024 ? 10 : 4;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
                double seconds = sw.Elapsed.TotalSeconds / reps;
                Emit(new()
                {
                    ["config"] = "gemm", ["n"] = n, ["backend"] = backend == GemmBackend.OpenBlas ? "openblas" : "managed",
                    ["gflops"] = Math.Round(2.0 * n * n * n / seconds / 1e9, 2),
                });
            }
        }
        Gemm.Backend = saved;
    }

    /// <summary>The anchor's model: vocabulary 8192, d 256, 4 heads, ff 1024, 4 layers.</summary>
    private static Func<IBenchModel> Anchor(int seq) => () => new BenchMlm(8192, 256, 4, 1024, 4, seq, new Rng(0));

    private static void EncoderBench(string name, Func<IBenchModel> create, int vocab, int seq, int batch,
                                     int steps, int warmup = 3, int latencyRuns = 50)
    {
        var bench = create();
        var model = bench.Module;
        var opt = new AdamW(model.Parameters(), lr: 1e-4f);
        var data = new Rng(1);
        var ids = new IntTensor(Enumerable.Range(0, batch * seq).Select(_ => 5 + data.NextInt(vocab - 5)).ToArray(), batch, seq);
        var mask = Tensor.Ones(batch, seq);
        var where = Enumerable.Range(0, batch * seq).Where(_ => data.NextFloat() < 0.15f).ToArray();
        var whereT = IntTensor.FromArray(where);
        var targets = IntTensor.FromArray(where.Select(i => ids.Values[i]).ToArray());
        int tokens = batch * seq;

        void TrainStep()
        {
            using var scope = new TensorScope();
            opt.ZeroGrad();
            OpProfiler.Mark();
            model.TakeAddedLosses();
            var loss = bench.Loss(ids, mask, whereT, targets);
            (model.TakeAddedLosses() is { } added ? loss + added : loss).Backward();   // + mixture-of-experts load balancing
            long t0 = Stopwatch.GetTimestamp();
            opt.Step();
            if (OpProfiler.Enabled) OpProfiler.Backward("optimizer step", Stopwatch.GetTimestamp() - t0);
        }

        model.Train();
        for (int i = 0; i < warmup; i++) TrainStep();
        if (Environment.GetEnvironmentVariable("JIANWEI_PROFILE") == "1")
        {
            OpProfiler.Enabled = true;
            for (int i = 0; i < 3; i++) TrainStep();
            OpProfiler.Enabled = false;
            Console.Error.WriteLine($"{name}: per training step\n{OpProfiler.Report(3)}");
            OpProfiler.Reset();
        }
        TensorScope.ResetPeak();
        int gcBefore = GcCount();
        long allocBefore = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            TrainStep();
            Console.Error.Write($"\r{name}: train step {i + 1}/{steps} ({sw.Elapsed.TotalSeconds / (i + 1) * 1000:F0} ms/step)   ");
        }
        double trainSeconds = sw.Elapsed.TotalSeconds / steps;
        double gcPerStep = (GcCount() - gcBefore) / (double)steps;
        double allocKbPerStep = (GC.GetTotalAllocatedBytes(precise: true) - allocBefore) / 1024.0 / steps;
        double activationMb = TensorScope.PeakRentedFloats * 4 / 1048576.0;
        Console.Error.WriteLine();

        model.Eval();
        double inferSeconds;
        using (GradMode.NoGrad())
        {
            for (int i = 0; i < 2; i++) using (new TensorScope()) bench.Encode(ids, mask);
            sw.Restart();
            for (int i = 0; i < steps; i++) using (new TensorScope()) bench.Encode(ids, mask);
            inferSeconds = sw.Elapsed.TotalSeconds / steps;
        }

        // One-row latency: all threads, and one thread (OpenBLAS and engine kernels both), the better reported.
        var one = new IntTensor(ids.Values[..seq], 1, seq);
        var oneMask = Tensor.Ones(1, seq);
        (double P50, int Threads) best = (double.NaN, 0);
        foreach (int threads in latencyRuns == 0 ? [] : new[] { Environment.ProcessorCount, 1 }.Distinct())
        {
            Gemm.SetThreads(threads);
            var lat = new List<double>();
            using (GradMode.NoGrad())
            {
                for (int i = 0; i < 5; i++) using (new TensorScope()) bench.Encode(one, oneMask);
                for (int i = 0; i < latencyRuns; i++)
                {
                    var t = Stopwatch.StartNew();
                    using (new TensorScope()) bench.Encode(one, oneMask);
                    lat.Add(t.Elapsed.TotalMilliseconds);
                }
            }
            lat.Sort();
            double p50 = lat[lat.Count / 2];
            if (Environment.GetEnvironmentVariable("JIANWEI_PROFILE") == "1")
            {
                OpProfiler.Enabled = true;
                using (GradMode.NoGrad())
                    for (int i = 0; i < 10; i++) { OpProfiler.Mark(); using (new TensorScope()) bench.Encode(one, oneMask); }
                OpProfiler.Enabled = false;
                Console.Error.WriteLine($"{name}: one row, {threads} threads, p50 {p50:F2} ms\n{OpProfiler.Report(10)}");
                OpProfiler.Reset();
            }
            if (double.IsNaN(best.P50) || p50 < best.P50) best = (p50, threads);
        }
        Gemm.SetThreads(Environment.ProcessorCount);

        Emit(new()
        {
            ["config"] = name,
            ["params_m"] = Math.Round(model.ParameterCount() / 1e6, 2),
            ["train_tokens_per_s"] = Math.Round(tokens / trainSeconds, 1),
            ["step_ms"] = Math.Round(trainSeconds * 1000, 1),
            ["infer_tokens_per_s"] = Math.Round(tokens / inferSeconds, 1),
            ["one_row_p50_ms"] = double.IsNaN(best.P50) ? null! : Math.Round(best.P50, 2),
            ["one_row_threads"] = best.Threads,
            ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
            ["gc_per_step"] = Math.Round(gcPerStep, 2),
            ["alloc_kb_per_step"] = Math.Round(allocKbPerStep, 1),
            ["train_activation_mb"] = Math.Round(activationMb, 1),
            ["backend"] = Gemm.Backend == GemmBackend.OpenBlas ? "openblas" : "managed",
        });
    }

    private static int GcCount() => GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2);
}
