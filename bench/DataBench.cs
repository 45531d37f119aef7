using System.Diagnostics;
using System.Text.Json;
using CsvHelper;
using Jianwei.Data;

namespace Jianwei.Bench;

/// <summary>
/// Parsing throughput on a generated CSV of small-enterprise records with Chinese text (default
/// 200 MB), one core: the raw parser (CsvHelper, fields as spans), the streaming typed parse Jianwei
/// does when scoring (every field decoded; numbers, booleans and dates parsed per the schema), and
/// schema inference on the first 100,000 rows. Peak working set is reported for the streaming pass.
/// </summary>
internal static class DataBench
{
    public static int Run(string[] args)
    {
        if (!ShippedJit.IsActive("data", args, out int exitCode)) return exitCode;
        int targetMb = args.Length > 0 && int.TryParse(args[0], out int mb) ? mb : 200;
        string path = Path.Combine(Path.GetTempPath(), $"jianwei-bench-sme-{targetMb}mb.csv");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"bench data: generating {path} ...");
            // About 430 bytes per company in Chinese.
            int rows = (int)(targetMb * 1e6 / 430);
            var ds = SmeDataGenerator.Generate(new SmeDataOptions(Labeled: rows, Unlabeled: 0));
            SmeDataset.WriteCsv(path, ds.Labeled, withLabel: true);
        }
        long bytes = new FileInfo(path).Length;
        Console.Error.WriteLine($"bench data: {bytes / 1e6:F0} MB");

        // Each pass runs several times; the best is reported with all of them (the machine is shared and
        // a one-second pass swings by a quarter). The typed pass runs five times: its first run is also
        // where the tiered JIT compiles and re-compiles the loop with profile data.
        var sw = Stopwatch.StartNew();

        // 1. Raw parser: every field visited as UTF-8 bytes.
        var rawTimes = Repeat(3, () =>
        {
            long fields = 0;
            using var csv = CsvReader.FromFile(path, new CsvReaderOptions());
            while (csv.Read()) for (int i = 0; i < csv.FieldCount; i++) fields += csv.GetRawSpan(i).Length > 0 ? 1 : 0;
        });
        Emit("raw-parser", bytes, rawTimes.Min(), ("runs_mb_per_s", rawTimes.Select(t => Math.Round(bytes / 1e6 / t, 1)).ToArray()));

        // 2. Schema from a small sample (measured separately below), then the streaming typed parse.
        TableSchema schema;
        using (var reader = TableReader.Open(path))
        {
            var head = new List<string[]>(); var ln = new List<long>();
            while (head.Count < 2000 && reader.Read()) { head.Add(reader.Current); ln.Add(reader.LineNumber); }
            schema = SchemaInference.Infer(new RawTable(path, reader.Header, head, ln), "default");
        }
        GC.Collect();
        var process = Process.GetCurrentProcess();
        long baseline = process.WorkingSet64;
        long rowsRead = 0; double checksum = 0;
        var typedTimes = Repeat(5, () =>
        {
            rowsRead = 0;
            using var typed = new TypedRowReader(path, schema, needLabel: true);
            while (typed.Read())
            {
                foreach (var d in typed.Numbers) if (!double.IsNaN(d)) checksum += d;
                foreach (var str in typed.Strings) if (str is not null) checksum += str.Length * 1e-9;
                rowsRead++;
            }
        });
        process.Refresh();
        Emit("typed-streaming", bytes, typedTimes.Min(), ("runs_mb_per_s", typedTimes.Select(t => Math.Round(bytes / 1e6 / t, 1)).ToArray()), ("rows", rowsRead), ("peak_working_set_mb", Math.Round(process.PeakWorkingSet64 / 1048576.0, 1)),
             ("working_set_growth_mb", Math.Round((process.WorkingSet64 - baseline) / 1048576.0, 1)));

        // 3. Schema inference on the first 100,000 rows (reading them as strings included).
        sw.Restart();
        var sampleRows = new List<string[]>(); var lines = new List<long>();
        using (var reader = TableReader.Open(path))
        {
            while (sampleRows.Count < 100_000 && reader.Read()) { sampleRows.Add(reader.Current); lines.Add(reader.LineNumber); }
            SchemaInference.Infer(new RawTable(path, reader.Header, sampleRows, lines), "default");
        }
        Emit("infer-100k-rows", bytes * sampleRows.Count / rowsRead, sw.Elapsed.TotalSeconds);
        return checksum > 0 ? 0 : 1;
    }

    private static double[] Repeat(int times, Action pass) => Enumerable.Range(0, times).Select(_ =>
    {
        var t = Stopwatch.StartNew();
        pass();
        return t.Elapsed.TotalSeconds;
    }).ToArray();

    private static void Emit(string config, long bytes, double seconds, params (string Key, object Value)[] extra)
    {
        var d = new Dictionary<string, object> { ["config"] = config, ["mb_per_s"] = Math.Round(bytes / 1e6 / seconds, 1), ["seconds"] = Math.Round(seconds, 2), ["threads"] = 1, ["jit"] = ShippedJit.Name };
        foreach (var (k, v) in extra) d[k] = v;
        Console.WriteLine(JsonSerializer.Serialize(d));
    }
}
