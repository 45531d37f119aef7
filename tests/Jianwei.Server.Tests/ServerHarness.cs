using Jianwei.Data;
using Jianwei.Models.Bundles;

namespace Jianwei.Server.Tests;

/// <summary>A bundle (the fast preset unless told otherwise) on generated companies, served on a loopback port.</summary>
public sealed class ServerHarness : IAsyncDisposable
{
    public required RawTable Table { get; init; }
    public required ModelBundle Bundle { get; init; }
    public required ScoringServer Server { get; init; }
    public required HttpClient Http { get; init; }
    private CancellationTokenSource Stop { get; init; } = null!;
    private Task Running { get; init; } = null!;
    private string Dir { get; init; } = null!;

    /// <summary>Trains a bundle (default: the fast preset) on 800 generated companies and serves it.</summary>
    public static async Task<ServerHarness> StartAsync(ServerOptions options, BundleTrainingOptions? training = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-serve-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "companies.csv");
        SmeDataset.WriteCsv(path, SmeDataGenerator.Generate(new SmeDataOptions(Seed: 4, Labeled: 800, Unlabeled: 0)).Labeled, withLabel: true);
        var table = RawTable.Load(path);
        var bundle = ModelBundle.Train(table, SchemaInference.Infer(table, "default", "1"), path, training ?? new BundleTrainingOptions { Preset = Preset.Fast });
        var server = new ScoringServer(bundle, options);
        var stop = new CancellationTokenSource();
        var bound = new TaskCompletionSource<string>();
        var running = server.RunAsync(["http://127.0.0.1:0"], urls => bound.SetResult(urls.First()), stop.Token);
        await Task.WhenAny(bound.Task, running).WaitAsync(TimeSpan.FromSeconds(30));
        if (running.IsFaulted) await running;   // the server failed to start: its exception, not a timeout
        var http = new HttpClient { BaseAddress = new Uri(await bound.Task) };
        return new ServerHarness { Table = table, Bundle = bundle, Server = server, Http = http, Stop = stop, Running = running, Dir = dir };
    }

    /// <summary>Asks the server to stop (as SIGTERM does), without waiting.</summary>
    public void RequestStop() => Stop.Cancel();

    /// <summary>One row of the table as a request object (the label left out, empty cells as null).</summary>
    public Dictionary<string, object?> Row(int r) => Table.Header.Select((h, i) => (h, i)).Where(x => x.h != "default")
        .ToDictionary(x => x.h, x => (object?)(Table.Rows[r][x.i] == "" ? null : Table.Rows[r][x.i]));

    public async ValueTask DisposeAsync()
    {
        Stop.Cancel();
        await Running;
        await Server.DisposeAsync();
        Bundle.Dispose();
        Http.Dispose();
        Directory.Delete(Dir, recursive: true);
    }
}
