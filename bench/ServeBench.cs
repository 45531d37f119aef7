using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Models.Bundles;
using Jianwei.Server;

namespace Jianwei.Bench;

/// <summary>
/// Load test of the scoring server on loopback: a bundle trained on generated SME data (or one given),
/// served in-process, hit by a C# load generator at concurrency 1, 8 and 32 with one-row requests for a
/// fixed time each. Next to it, measured in the same run: the model's batch scoring rate on the same
/// rows and its one-row latency, called directly. <c>bench serve [BUNDLE] [--seconds S] [--preset P]</c>.
/// </summary>
internal static class ServeBench
{
    public static int Run(string[] args)
    {
        if (!ShippedJit.IsActive("serve", args, out int exitCode)) return exitCode;
        double seconds = args.Contains("--seconds") ? double.Parse(args[Array.IndexOf(args, "--seconds") + 1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        string preset = args.Contains("--preset") ? args[Array.IndexOf(args, "--preset") + 1] : "balanced";
        string? bundlePath = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && Directory.Exists(a));

        string dir = Path.Combine(Path.GetTempPath(), "jianwei-serve-bench");
        Directory.CreateDirectory(dir);
        string dataPath = Path.Combine(dir, "companies.csv");
        if (!File.Exists(dataPath))
            SmeDataset.WriteCsv(dataPath, SmeDataGenerator.Generate(new SmeDataOptions(Labeled: 20_000, Unlabeled: 0)).Labeled, withLabel: true);
        var table = RawTable.Load(dataPath);
        ModelBundle bundle;
        if (bundlePath is not null) bundle = ModelBundle.Load(bundlePath);
        else
        {
            Console.Error.WriteLine($"bench serve: training a {preset} bundle on {table.RowCount:N0} rows ...");
            bundle = ModelBundle.Train(table, SchemaInference.Infer(table, "default", "1"), dataPath,
                new BundleTrainingOptions { Preset = Enum.Parse<Preset>(preset, ignoreCase: true) });
        }
        using var _ = bundle;
        var requestRows = Enumerable.Range(0, 2000).Select(r => JsonSerializer.Serialize(
            table.Header.Select((h, i) => (h, i)).Where(x => x.h != "default").ToDictionary(x => x.h, x => table.Rows[r][x.i] == "" ? null : table.Rows[r][x.i]))).ToArray();

        // The engine alone, same rows: one batch of 2,000, and one row at a time.
        var rows = Enumerable.Range(0, 2000).ToArray();
        bundle.Model.Predict(table, rows);
        var sw = Stopwatch.StartNew();
        int reps = 0;
        while (sw.Elapsed.TotalSeconds < 3 || reps < 2) { bundle.Model.Predict(table, rows); reps++; }
        double batchRowsPerSecond = rows.Length * reps / sw.Elapsed.TotalSeconds;
        // One second of one-row calls first, so the tiered JIT has promoted that path as it will have
        // in the server's warmed-up run.
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 1;) bundle.Model.Predict(table, [0]);
        var single = new List<double>();
        for (int i = 0; i < 300; i++)
        {
            var t = Stopwatch.StartNew();
            bundle.Model.Predict(table, [i]);
            single.Add(t.Elapsed.TotalMilliseconds);
        }
        single.Sort();
        double oneRowP50 = single[single.Count / 2];
        // The same call after the machine has idled 1 ms, as it does between requests at concurrency 1
        // (the client's round trip): worker threads asleep, caches colder. Not the target's anchor,
        // which is the tight loop above; printed to tell the server's own cost from the idle's.
        var afterIdle = new List<double>();
        for (int i = 0; i < 300; i++)
        {
            Thread.Sleep(1);
            var t = Stopwatch.StartNew();
            bundle.Model.Predict(table, [i]);
            afterIdle.Add(t.Elapsed.TotalMilliseconds);
        }
        afterIdle.Sort();
        // What the server can at best reach when its batches are as small as the concurrency allows.
        double RateAt(int size)
        {
            var clock = Stopwatch.StartNew();
            int scored = 0;
            for (int start = 0; clock.Elapsed.TotalSeconds < 2; start = (start + size) % (2000 - size)) { bundle.Model.Predict(table, rows[start..(start + size)]); scored += size; }
            return scored / clock.Elapsed.TotalSeconds;
        }
        Emit(new()
        {
            ["config"] = "serve-engine", ["batch_rows_per_s"] = Math.Round(batchRowsPerSecond, 0), ["one_row_p50_ms"] = Math.Round(oneRowP50, 3), ["one_row_after_idle_p50_ms"] = Math.Round(afterIdle[afterIdle.Count / 2], 3),
            ["batch8_rows_per_s"] = Math.Round(RateAt(8), 0), ["batch32_rows_per_s"] = Math.Round(RateAt(32), 0), ["learner"] = bundle.Model.Learner.ToString().ToLowerInvariant(),
        });

        var server = new ScoringServer(bundle);
        using var stop = new CancellationTokenSource();
        var bound = new TaskCompletionSource<string>();
        var running = server.RunAsync(["http://127.0.0.1:0"], urls => bound.SetResult(urls.First()), stop.Token);
        var address = new Uri(bound.Task.GetAwaiter().GetResult());
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = address };
        foreach (int concurrency in new[] { 1, 8, 32 })
        {
            // Warm-up, then a fixed-time run; each worker sends its next request when the last returns.
            RunLoad(http, requestRows, concurrency, 1.5);
            long batches0 = server.Metrics.Batches, rows0 = server.Metrics.BatchedRows;
            double scoring0 = server.Metrics.ScoringSeconds;
            var (count, latencies, errors, elapsed) = RunLoad(http, requestRows, concurrency, seconds);
            latencies.Sort();
            double rps = count / elapsed;
            Emit(new()
            {
                ["config"] = "serve", ["concurrency"] = concurrency, ["requests_per_s"] = Math.Round(rps, 1), ["rows_per_s"] = Math.Round(rps, 1),
                ["p50_ms"] = Math.Round(latencies[latencies.Count / 2], 3), ["p99_ms"] = Math.Round(latencies[(int)(latencies.Count * 0.99)], 3),
                ["errors"] = errors, ["vs_engine_batch"] = Math.Round(rps / batchRowsPerSecond, 3), ["p50_vs_engine_one_row"] = Math.Round(latencies[latencies.Count / 2] / oneRowP50, 2),
                ["rows_per_batch"] = Math.Round((double)(server.Metrics.BatchedRows - rows0) / (server.Metrics.Batches - batches0), 2),
                ["model_ms_per_pass"] = Math.Round(1000 * (server.Metrics.ScoringSeconds - scoring0) / (server.Metrics.Batches - batches0), 3),
            });
        }
        stop.Cancel();
        running.GetAwaiter().GetResult();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    private static (int Count, List<double> Latencies, int Errors, double Seconds) RunLoad(HttpClient http, string[] bodies, int concurrency, double seconds)
    {
        var latencies = new List<double>();
        int count = 0, errors = 0;
        var deadline = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = new List<double>();
            int i = w;
            while (deadline.Elapsed.TotalSeconds < seconds)
            {
                var t = Stopwatch.StartNew();
                using var response = await http.PostAsync("/v1/score", new StringContent(bodies[i++ % bodies.Length], Encoding.UTF8, "application/json"));
                await response.Content.ReadAsByteArrayAsync();
                mine.Add(t.Elapsed.TotalMilliseconds);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            }
            lock (latencies) { latencies.AddRange(mine); count += mine.Count; }
        })).ToArray();
        Task.WaitAll(workers);
        return (count, latencies, errors, deadline.Elapsed.TotalSeconds);
    }

    private static void Emit(Dictionary<string, object> fields)
    {
        fields["jit"] = ShippedJit.Name;
        Console.WriteLine(JsonSerializer.Serialize(fields));
    }
}
