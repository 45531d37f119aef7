using System.Net;
using System.Text;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Models.Bundles;

namespace Jianwei.Server.Tests;

/// <summary>The server on a loopback port, against the bundle's own scores.</summary>
public sealed class ScoringServerTests : IAsyncLifetime
{
    private ServerHarness _harness = null!;
    private RawTable _table = null!;
    private ModelBundle _bundle = null!;
    private ScoringServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _harness = await ServerHarness.StartAsync(new ServerOptions { MaxRequestBytes = 200_000, MaxTextLength = 1000, DrainTime = TimeSpan.Zero });
        (_table, _bundle, _server, _http) = (_harness.Table, _harness.Bundle, _harness.Server, _harness.Http);
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private Dictionary<string, object?> Row(int r) => _harness.Row(r);

    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(object body, string query = "")
    {
        var response = await _http.PostAsync("/v1/score" + query, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task ScoresOneRowAndListsLikeTheBundle()
    {
        var expected = _bundle.Score(_table);
        var (status, body) = await Post(Row(3));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected[3], body.GetProperty("results")[0].GetProperty("probability").GetDouble(), 2e-6);
        (status, body) = await Post(new { rows = new[] { Row(0), Row(1), Row(2) }, explain = true });
        Assert.Equal(HttpStatusCode.OK, status);
        var results = body.GetProperty("results");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i], results[i].GetProperty("probability").GetDouble(), 2e-6);
            Assert.Equal(expected[i] >= _bundle.Threshold ? 1 : 0, results[i].GetProperty("label").GetInt32());
            Assert.True(results[i].GetProperty("reasons").GetArrayLength() > 0);
        }
    }

    [Fact]
    public async Task ServesTheValidatedEnsembleAndExplainsItAsTheLibraryDoes()
    {
        // The best preset's ensemble with a network on the table and one on the texts: every member scores and explains through the server.
        var tiny = new Jianwei.Models.Learners.MultimodalLearnerOptions
        {
            Encoder = new() { HiddenSize = 16, Layers = 1, Heads = 2, IntermediateSize = 32, MaxPositions = 128 },
            TextBudget = 12, VocabularySize = 600, PretrainBudget = TimeSpan.FromSeconds(1), FineTune = new() { MaxEpochs = 1, Patience = 1 },
        };
        await using var harness = await ServerHarness.StartAsync(new ServerOptions { DrainTime = TimeSpan.Zero }, new BundleTrainingOptions
        {
            Preset = Preset.Best, Multimodal = tiny, Limit = Jianwei.Models.Training.TimeLimit.None, Folds = 2, BoostingTrials = 1,
            Candidates = [Jianwei.Models.Bundles.TabularLearner.Logistic, Jianwei.Models.Bundles.TabularLearner.FtTransformer, Jianwei.Models.Bundles.TabularLearner.Multimodal],
        });
        var bundle = harness.Bundle;
        Assert.Equal(Jianwei.Models.Bundles.TabularLearner.Ensemble, bundle.Model.Learner);
        var expected = bundle.Score(harness.Table);
        var response = await harness.Http.PostAsync("/v1/score", new StringContent(JsonSerializer.Serialize(new { rows = new[] { harness.Row(5), harness.Row(6) }, explain = true }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results");
        var reasons = bundle.Model.Explain(harness.Table, [5, 6], 5);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(expected[5 + i], results[i].GetProperty("probability").GetDouble(), 2e-6);
            var served = results[i].GetProperty("reasons").EnumerateArray().ToList();
            Assert.Equal(reasons[i].Select(r => r.Feature), served.Select(r => r.GetProperty("feature").GetString()));
            Assert.All(reasons[i].Zip(served), x => Assert.Equal(x.First.Contribution, x.Second.GetProperty("contribution").GetDouble(), 1e-6));   // the server rounds to 6 decimals
        }
    }

    [Fact]
    public async Task BadFieldsAreNamedInA400()
    {
        var row = Row(0);
        row.Remove("industry");
        row["employees"] = "many";
        var (status, body) = await Post(new[] { row });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var fields = body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("rows[0].industry", fields);
        Assert.Contains("rows[0].employees", fields);
        // An unseen category is fine; a long text is cut with a warning.
        row = Row(1);
        row["industry"] = "interplanetary mining";
        row["profile"] = new string('很', 1500);
        (status, body) = await Post(row);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("truncated", body.GetProperty("warnings")[0].GetString());
        (status, _) = await Post(new { rows = Enumerable.Range(0, 400).Select(_ => Row(2)).ToArray() });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        var raw = await _http.PostAsync("/v1/score", new StringContent("{ nope", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, raw.StatusCode);
        Assert.Contains("not valid JSON", await raw.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConcurrentRequestsShareScoringPassesAndAgree()
    {
        var expected = _bundle.Score(_table);
        long batchesBefore = _server.Metrics.Batches, rowsBefore = _server.Metrics.BatchedRows;
        double scoringBefore = _server.Metrics.ScoringSeconds;
        var tasks = Enumerable.Range(0, 64).Select(async i => (i, await Post(Row(i)))).ToArray();
        foreach (var (i, (status, body)) in await Task.WhenAll(tasks))
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(expected[i], body.GetProperty("results")[0].GetProperty("probability").GetDouble(), 2e-6);
        }
        Assert.Equal(64, _server.Metrics.BatchedRows - rowsBefore); // every row scored exactly once
        Assert.True(_server.Metrics.Batches - batchesBefore <= 64);
        Assert.True(_server.Metrics.ScoringSeconds > scoringBefore);
    }

    [Fact]
    public async Task HealthSchemaAndMetrics()
    {
        Assert.Equal("ok\n", await _http.GetStringAsync("/healthz"));
        var schema = JsonDocument.Parse(await _http.GetStringAsync("/v1/schema")).RootElement;
        Assert.Equal("default", schema.GetProperty("label").GetString());
        Assert.Contains(schema.GetProperty("columns").EnumerateArray(), c => c.GetProperty("name").GetString() == "profile" && c.GetProperty("type").GetString() == "text");
        await Post(Row(0));
        var metrics = await _http.GetStringAsync("/metrics");
        Assert.Matches(@"jianwei_requests_total [1-9]", metrics);
        Assert.Contains("jianwei_request_duration_seconds_bucket{le=\"+Inf\"}", metrics);
        Assert.Matches(@"jianwei_scoring_seconds_total [0-9.eE-]+\n", metrics);
    }
}
