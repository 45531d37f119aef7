namespace Jianwei.Server;

/// <summary>Limits and behaviour of the scoring server.</summary>
public sealed record ServerOptions
{
    /// <summary>Largest request body in bytes.</summary>
    public long MaxRequestBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>Most rows in one request.</summary>
    public int MaxRowsPerRequest { get; init; } = 10_000;
    /// <summary>Text cells longer than this are truncated (with a warning).</summary>
    public int MaxTextLength { get; init; } = 20_000;
    /// <summary>Most rows scored in one pass when concurrent requests are batched together.</summary>
    public int MaxBatchRows { get; init; } = 512;
    /// <summary>Write ASP.NET Core's request log to the console.</summary>
    public bool Verbose { get; init; }
    /// <summary>
    /// After a stop is asked for (SIGTERM, Ctrl+C), how long the server keeps answering — every new
    /// request with 503 and <c>Connection: close</c>, so a client on a keep-alive connection gets an
    /// answer and reconnects elsewhere instead of seeing the connection drop — before it stops listening.
    /// </summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// How long a request body may stall before the request is answered 408 (Kestrel's minimum data
    /// rate of 240 bytes/s applies after this grace), so a client that announces more bytes than it
    /// sends cannot hold a connection. Kestrel needs more than one second.
    /// </summary>
    public TimeSpan BodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Where internal errors are logged in full (the client only learns that one happened).</summary>
    public TextWriter? ErrorLog { get; init; }
}
