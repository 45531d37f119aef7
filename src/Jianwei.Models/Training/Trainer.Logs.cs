using System.Globalization;
using System.Text;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Training;

/// <summary>The curves as CSV: <c>train_log.csv</c> (loss, learning rate, throughput by step) and <c>eval_log.csv</c> (held-out metrics by step).</summary>
public sealed partial class Trainer
{
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private void AppendTrainLog(TrainingLogRow r)
    {
        if (options.OutputDirectory is null) return;
        File.AppendAllText(Path.Combine(options.OutputDirectory, TrainLog), $"{r.Step},{F(r.Loss)},{F(r.LearningRate)},{F(r.TokensPerSecond)},{F(r.Seconds)}\n");
    }

    private void AppendEvalLog(EvaluationRow r)
    {
        if (options.OutputDirectory is null) return;
        string path = Path.Combine(options.OutputDirectory, EvalLog);
        var keys = r.Metrics.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        // One CSV per run needs one header: when the metric set differs, the header is rewritten.
        if (!File.Exists(path) || File.ReadLines(path).FirstOrDefault() != EvalHeader(keys))
        {
            var old = ReadEvalLog(options.OutputDirectory, int.MaxValue).Where(e => e.Step < r.Step).ToList();
            RewriteEvalLog(path, old.Append(r).ToList());
            return;
        }
        File.AppendAllText(path, EvalLine(r, keys) + "\n");
    }

    private static string EvalHeader(IEnumerable<string> keys) => "step,seconds," + string.Join(",", keys);
    private static string EvalLine(EvaluationRow r, IEnumerable<string> keys) =>
        $"{r.Step},{F(r.Seconds)}," + string.Join(",", keys.Select(k => r.Metrics.TryGetValue(k, out var v) ? F(v) : ""));

    private static void RewriteEvalLog(string path, IReadOnlyList<EvaluationRow> rows)
    {
        var keys = rows.SelectMany(r => r.Metrics.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder(EvalHeader(keys)).Append('\n');
        foreach (var r in rows) sb.Append(EvalLine(r, keys)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static void RewriteLogs(string dir, IReadOnlyList<TrainingLogRow> log, IReadOnlyList<EvaluationRow> evaluations)
    {
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder("step,loss,learning_rate,tokens_per_second,seconds\n");
        foreach (var r in log) sb.Append(CultureInfo.InvariantCulture, $"{r.Step},{F(r.Loss)},{F(r.LearningRate)},{F(r.TokensPerSecond)},{F(r.Seconds)}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, TrainLog), sb.ToString());
        RewriteEvalLog(Path.Combine(dir, EvalLog), evaluations);
    }

    private static IEnumerable<TrainingLogRow> ReadTrainLog(string dir, int upToStep)
    {
        string path = Path.Combine(dir, TrainLog);
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != 5 || !int.TryParse(f[0], CultureInfo.InvariantCulture, out int step) || step > upToStep) continue;
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            yield return new TrainingLogRow(step, D(1), D(2), D(3), D(4));
        }
    }

    private static List<EvaluationRow> ReadEvalLog(string dir, int upToStep)
    {
        string path = Path.Combine(dir, EvalLog);
        var rows = new List<EvaluationRow>();
        if (!File.Exists(path)) return rows;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return rows;
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != header.Length || !int.TryParse(f[0], CultureInfo.InvariantCulture, out int step) || step > upToStep) continue;
            var metrics = new Dictionary<string, double>();
            for (int i = 2; i < f.Length; i++)
                if (f[i].Length > 0) metrics[header[i]] = double.Parse(f[i], CultureInfo.InvariantCulture);
            rows.Add(new EvaluationRow(step, double.Parse(f[1], CultureInfo.InvariantCulture), metrics));
        }
        return rows;
    }
}
