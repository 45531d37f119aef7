using System.Globalization;
using System.Text;

namespace Jianwei.Server;

/// <summary>Request counters and a latency histogram, rendered in Prometheus' text format.</summary>
public sealed class ServerMetrics
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    private readonly long[] _bucketCounts = new long[Buckets.Length + 1];
    private long _requests, _errors, _rows, _batches, _batchedRows;
    private double _latencySum, _scoringSeconds;
    private readonly object _lock = new();

    /// <summary>Requests answered (errors included).</summary>
    public long Requests => Interlocked.Read(ref _requests);
    /// <summary>Requests answered with an error.</summary>
    public long Errors => Interlocked.Read(ref _errors);
    /// <summary>Scoring passes (one per micro-batch).</summary>
    public long Batches => Interlocked.Read(ref _batches);
    /// <summary>Rows scored in those passes.</summary>
    public long BatchedRows { get { lock (_lock) return _batchedRows; } }
    /// <summary>Seconds spent inside the model (the rest of a request's latency is HTTP, JSON and queueing).</summary>
    public double ScoringSeconds { get { lock (_lock) return _scoringSeconds; } }

    internal void Observe(double seconds, int rows, bool error)
    {
        lock (_lock)
        {
            _requests++; _rows += rows; _latencySum += seconds;
            if (error) _errors++;
            int b = 0;
            while (b < Buckets.Length && seconds > Buckets[b]) b++;
            _bucketCounts[b]++;
        }
    }

    internal void ObserveBatch(int rows, double seconds)
    {
        lock (_lock) { _batches++; _batchedRows += rows; _scoringSeconds += seconds; }
    }

    /// <summary>Prometheus exposition text.</summary>
    public string Render()
    {
        lock (_lock)
        {
            var sb = new StringBuilder();
            void Line(string s) => sb.Append(s).Append('\n');
            Line("# HELP jianwei_requests_total Scoring requests answered.");
            Line("# TYPE jianwei_requests_total counter");
            Line($"jianwei_requests_total {_requests}");
            Line("# HELP jianwei_request_errors_total Scoring requests answered with an error.");
            Line("# TYPE jianwei_request_errors_total counter");
            Line($"jianwei_request_errors_total {_errors}");
            Line("# HELP jianwei_rows_scored_total Rows scored.");
            Line("# TYPE jianwei_rows_scored_total counter");
            Line($"jianwei_rows_scored_total {_rows}");
            Line("# HELP jianwei_batches_total Scoring passes (concurrent requests share one).");
            Line("# TYPE jianwei_batches_total counter");
            Line($"jianwei_batches_total {_batches}");
            Line("# HELP jianwei_scoring_seconds_total Time spent inside the model, all passes together.");
            Line("# TYPE jianwei_scoring_seconds_total counter");
            Line($"jianwei_scoring_seconds_total {_scoringSeconds.ToString("R", CultureInfo.InvariantCulture)}");
            Line("# HELP jianwei_request_duration_seconds Time from request to response.");
            Line("# TYPE jianwei_request_duration_seconds histogram");
            long cumulative = 0;
            for (int b = 0; b < Buckets.Length; b++)
            {
                cumulative += _bucketCounts[b];
                Line($"jianwei_request_duration_seconds_bucket{{le=\"{Buckets[b].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative}");
            }
            Line($"jianwei_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative + _bucketCounts[^1]}");
            Line($"jianwei_request_duration_seconds_sum {_latencySum.ToString("R", CultureInfo.InvariantCulture)}");
            Line($"jianwei_request_duration_seconds_count {_requests}");
            return sb.ToString();
        }
    }
}
