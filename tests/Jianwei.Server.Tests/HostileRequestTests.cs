using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Jianwei.Server.Tests;

/// <summary>
/// Requests a hostile client sends: each gets a 4xx with a JSON error naming the field (never a 500,
/// a backtrace or a silently ignored field), and a client on a keep-alive connection gets its 503
/// when the server is asked to stop.
/// </summary>
public sealed class HostileRequestTests(HostileRequestTests.Served served) : IClassFixture<HostileRequestTests.Served>
{
    /// <summary>One server for the tests that leave it running.</summary>
    public sealed class Served : IAsyncLifetime
    {
        public ServerHarness Harness { get; private set; } = null!;
        public async Task InitializeAsync() => Harness = await ServerHarness.StartAsync(new ServerOptions { DrainTime = TimeSpan.Zero, BodyGracePeriod = TimeSpan.FromSeconds(2) });
        public async Task DisposeAsync() => await Harness.DisposeAsync();
    }

    private ServerHarness _h => served.Harness;

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostBytes(byte[] body, string query = "")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        var response = await _h.Http.PostAsync("/v1/score" + query, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> Post(object body, string query = "") => PostBytes(JsonSerializer.SerializeToUtf8Bytes(body), query);

    private static List<string?> Fields(JsonElement body) => body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();

    [Fact]
    public async Task TextThatIsNotValidUnicodeIsA400NamingTheField()
    {
        // A lone surrogate escape, and raw bytes that are not UTF-8, inside the profile text.
        var json = JsonSerializer.Serialize(new { rows = new[] { _h.Row(0) } });
        var profile = (string)_h.Row(0)["profile"]!;
        var surrogate = json.Replace(JsonSerializer.Serialize(profile)[1..^1], "\\ud800 lonely");
        var (status, body) = await PostBytes(Encoding.UTF8.GetBytes(surrogate));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("rows[0].profile", Fields(body));
        var bytes = Encoding.UTF8.GetBytes(json.Replace(JsonSerializer.Serialize(profile)[1..^1], "@@@@"));
        int at = Encoding.UTF8.GetString(bytes).IndexOf("@@@@", StringComparison.Ordinal);
        bytes[at] = 0xFF; bytes[at + 1] = 0xFE;
        (status, body) = await PostBytes(bytes);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("errors", body.ToString());
    }

    [Fact]
    public async Task OptionsOfTheWrongTypeAreRefusedNotIgnored()
    {
        var (status, body) = await Post(new { rows = new[] { _h.Row(0) }, explain = "yes" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["explain"], Fields(body));
        (status, body) = await Post(new { rows = new[] { _h.Row(0) }, explian = true });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["explian"], Fields(body));
        (status, body) = await Post(_h.Row(0), "?explain=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["explain"], Fields(body));
    }

    [Fact]
    public async Task NumbersBeyondFloat32AreA400()
    {
        var row = _h.Row(0);
        row["debt_ratio"] = 1e308;
        var (status, body) = await Post(row);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["rows[0].debt_ratio"], Fields(body));
        Assert.Contains("outside the range of numbers Jianwei computes with", body.ToString());
    }

    [Fact]
    public async Task ABodyShorterThanItsContentLengthIsA408NotA500AfterATimeout()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_h.Http.BaseAddress!.Host, _h.Http.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"rows\": ["));
        // The client sends no more: the minimum body data rate (240 bytes/s after the grace period) ends the wait.
        var response = await new StreamReader(stream).ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 408", response);
        Assert.Contains("the request body did not arrive in time.", response);
    }

    [Fact]
    public async Task AKeepAliveClientGetsA503WhileTheServerDrains()
    {
        await using var own = await ServerHarness.StartAsync(new ServerOptions { DrainTime = TimeSpan.FromSeconds(3) });
        var first = await own.Http.PostAsync("/v1/score", new StringContent(JsonSerializer.Serialize(own.Row(0)), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);     // opens the pooled keep-alive connection
        own.RequestStop();                                       // SIGTERM
        await Task.Delay(200);
        var response = await own.Http.PostAsync("/v1/score", new StringContent(JsonSerializer.Serialize(own.Row(1)), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.ConnectionClose);
        Assert.Contains("shutting down", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await own.Http.GetAsync("/healthz")).StatusCode);   // load balancers see it too
    }
}
