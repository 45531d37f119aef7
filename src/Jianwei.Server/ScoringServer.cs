using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Jianwei.Data;
using Jianwei.Models.Learners;
using Jianwei.Models.Bundles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jianwei.Server;

/// <summary>
/// The HTTP scoring service over a model bundle (ASP.NET Core minimal API):
/// <c>POST /v1/score</c> (one row, a list, or {"rows": [...], "explain": true}), <c>GET /v1/schema</c>,
/// <c>GET /healthz</c>, <c>GET /metrics</c> (Prometheus text). Concurrent requests are queued and
/// scored together in one pass (micro-batching) by a single worker, which is also what makes the
/// model safe to share: only that worker touches it. Shutdown drains the queue.
/// </summary>
public sealed class ScoringServer : IAsyncDisposable
{
    private readonly ModelBundle _bundle;
    private readonly ServerOptions _options;
    private readonly RequestValidator _validator;
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;
    private readonly ServerMetrics _metrics = new();
    private volatile bool _draining;
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private sealed record Job(string[][] Rows, bool Explain, TaskCompletionSource<(double[] P, List<Reason[]>? Reasons)> Done);

    /// <summary>Creates the service; call <see cref="Build"/> for the web application.</summary>
    public ScoringServer(ModelBundle bundle, ServerOptions? options = null)
    {
        _bundle = bundle;
        _options = options ?? new ServerOptions();
        _validator = new RequestValidator(bundle.Schema, _options.MaxTextLength);
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>The metrics counters (for tests and the load generator).</summary>
    public ServerMetrics Metrics => _metrics;

    /// <summary>A web application listening on <paramref name="urls"/> (for example http://127.0.0.1:8080; port 0 picks a free one).</summary>
    public WebApplication Build(params string[] urls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = _options.MaxRequestBytes;
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(240, _options.BodyGracePeriod);
        });
        builder.Logging.ClearProviders();
        if (_options.Verbose) builder.Logging.AddSimpleConsole();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var app = builder.Build();
        app.Use(async (http, next) =>
        {
            if (!_draining) { await next(http); return; }
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.Headers.Connection = "close";
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(JsonSerializer.Serialize(new { errors = new[] { new { field = (string?)null, message = "the server is shutting down; retry on another instance." } } }, Json));
        });
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/metrics", () => Results.Text(_metrics.Render(), "text/plain; version=0.0.4"));
        app.MapGet("/v1/schema", () => Results.Text(SchemaJson(), "application/json"));
        app.MapPost("/v1/score", (Delegate)ScoreAsync);
        app.Lifetime.ApplicationStopping.Register(() => _queue.Writer.TryComplete());
        return app;
    }

    /// <summary>
    /// Listens until <paramref name="cancel"/> fires (Ctrl+C, SIGTERM), then stops accepting requests and
    /// finishes those in flight. <paramref name="started"/> receives the bound addresses.
    /// </summary>
    public async Task RunAsync(string[] urls, Action<IReadOnlyCollection<string>> started, CancellationToken cancel)
    {
        var app = Build(urls);
        await app.StartAsync(cancel);
        started(app.Urls.ToList());
        try { await Task.Delay(Timeout.Infinite, cancel); }
        catch (OperationCanceledException) { }
        _draining = true;
        if (_options.DrainTime > TimeSpan.Zero) await Task.Delay(_options.DrainTime);
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private string SchemaJson()
    {
        var columns = _validator.Columns.Select(c => new { name = c.Name, role = c.Role.ToString().ToLowerInvariant(), type = c.Type.ToString().ToLowerInvariant() });
        return JsonSerializer.Serialize(new
        {
            label = _bundle.Schema.Label, positive_class = _bundle.Schema.PositiveClass, threshold = _bundle.Threshold,
            columns, created = _bundle.Created, metrics = _bundle.Metrics,
        }, Json);
    }

    private async Task<IResult> ScoreAsync(HttpContext http)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var query = http.Request.Query["explain"].ToString();
            if (query is not ("" or "true" or "false")) return Fail(400, [new FieldError("explain", $"the query parameter must be true or false, not '{Shorten(query)}'.")]);
            JsonDocument doc;
            try { doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted); }
            catch (JsonException e) { return Fail(400, [new FieldError(null, $"the body is not valid JSON: {e.Message}")]); }
            catch (BadHttpRequestException e)
            {
                // Kestrel's own verdict on the body: too large (413), too slow or cut short (408, 400).
                string message = e.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => $"the request is larger than {_options.MaxRequestBytes:N0} bytes; send fewer rows per request.",
                    StatusCodes.Status408RequestTimeout => "the request body did not arrive in time.",
                    _ => $"the request body is incomplete or malformed ({e.Message.TrimEnd('.')}).",
                };
                return Fail(e.StatusCode, [new FieldError(null, message)]);
            }
            using (doc)
            {
                var (rows, explain, errors) = ReadRows(doc.RootElement, query == "true");
                if (errors.Count > 0) return Fail(400, errors);
                var converted = rows.Select((r, i) => _validator.Convert(r, i)).ToList();
                var fieldErrors = converted.SelectMany(c => c.Errors).ToList();
                if (fieldErrors.Count > 0) return Fail(400, fieldErrors);
                var job = new Job(converted.Select(c => c.Cells).ToArray(), explain, new(TaskCreationOptions.RunContinuationsAsynchronously));
                if (!_queue.Writer.TryWrite(job)) return Fail(503, [new FieldError(null, "the server is shutting down.")]);
                var (p, reasons) = await job.Done.Task;
                var results = p.Select((prob, i) => new
                {
                    probability = Math.Round(prob, 6), label = prob >= _bundle.Threshold ? 1 : 0,
                    reasons = reasons?[i].Select(x => new { feature = x.Feature, contribution = Math.Round(x.Contribution, 6) }),
                });
                var warnings = converted.SelectMany(c => c.Warnings).ToList();
                _metrics.Observe(clock.Elapsed.TotalSeconds, rows.Count, error: false);
                return Results.Text(JsonSerializer.Serialize(new { results, warnings }, Json), "application/json");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The details (native messages, paths) are for the operator's log, not for the client.
            var log = _options.ErrorLog ?? Console.Error;
            lock (log) log.WriteLine($"jianwei serve: internal error scoring a request: {e}");
            _metrics.Observe(clock.Elapsed.TotalSeconds, 0, error: true);
            return Results.Text(JsonSerializer.Serialize(new { errors = new[] { new { field = (string?)null, message = "internal error while scoring; the server log has the details." } } }, Json), "application/json", Encoding.UTF8, 500);
        }

        IResult Fail(int status, IReadOnlyList<FieldError> errors)
        {
            _metrics.Observe(clock.Elapsed.TotalSeconds, 0, error: true);
            var body = JsonSerializer.Serialize(new { errors = errors.Select(e => new { field = e.Field, message = e.Message }) }, Json);
            return Results.Text(body, "application/json", Encoding.UTF8, status);
        }
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;

    /// <summary>Accepts one row object, an array of rows, or {"rows": [...], "explain": bool}.</summary>
    private (List<JsonElement> Rows, bool Explain, List<FieldError> Errors) ReadRows(JsonElement root, bool explain)
    {
        var errors = new List<FieldError>();
        var rows = new List<JsonElement>();
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("rows", out var list))
        {
            if (root.TryGetProperty("explain", out var e))
            {
                if (e.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    return ([], false, [new FieldError("explain", $"must be true or false, got a JSON {e.ValueKind.ToString().ToLowerInvariant()}.")]);
                explain = e.ValueKind == JsonValueKind.True;
            }
            foreach (var property in root.EnumerateObject())
                if (property.Name is not ("rows" or "explain"))
                    return ([], false, [new FieldError(Shorten(property.Name), "unknown field: a request holds \"rows\" and optionally \"explain\".")]);
            root = list;
        }
        if (root.ValueKind == JsonValueKind.Array) rows.AddRange(root.EnumerateArray());
        else if (root.ValueKind == JsonValueKind.Object) rows.Add(root);
        else errors.Add(new FieldError(null, "expected a row object, an array of rows, or {\"rows\": [...]}."));
        if (rows.Count == 0 && errors.Count == 0) errors.Add(new FieldError(null, "no rows to score."));
        if (rows.Count > _options.MaxRowsPerRequest) errors.Add(new FieldError(null, $"{rows.Count:N0} rows; at most {_options.MaxRowsPerRequest:N0} per request."));
        for (int i = 0; i < rows.Count && errors.Count < 50; i++)
            if (rows[i].ValueKind != JsonValueKind.Object) errors.Add(new FieldError($"rows[{i}]", "each row must be a JSON object of column: value."));
        return (rows, explain, errors);
    }

    /// <summary>The single scoring worker: takes every queued job (up to MaxBatchRows rows), scores them in one pass.</summary>
    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Job>();
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            int rows = 0;
            while (rows < _options.MaxBatchRows && reader.TryRead(out var job)) { batch.Add(job); rows += job.Rows.Length; }
            try
            {
                var all = batch.SelectMany(j => j.Rows).ToList();
                var table = new RawTable("request", _validator.Header, all, Enumerable.Range(1, all.Count).Select(i => (long)i).ToList());
                var indices = Enumerable.Range(0, all.Count).ToArray();
                long start = Stopwatch.GetTimestamp();
                var p = _bundle.Model.Predict(table, indices);
                _metrics.ObserveBatch(all.Count, Stopwatch.GetElapsedTime(start).TotalSeconds);
                int offset = 0;
                foreach (var job in batch)
                {
                    var mine = indices.AsSpan(offset, job.Rows.Length).ToArray();
                    var reasons = job.Explain ? _bundle.Model.Explain(table, mine, 5) : null;
                    job.Done.TrySetResult((p[offset..(offset + job.Rows.Length)], reasons));
                    offset += job.Rows.Length;
                }
            }
            catch (Exception e)
            {
                foreach (var job in batch) job.Done.TrySetException(e);
            }
        }
    }

    /// <summary>Stops accepting work and waits for queued requests to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker;
    }
}
