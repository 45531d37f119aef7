using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Jianwei.Data;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei inspect DATA [--label COL] [--positive V] [--schema-out FILE] [--json]</c>: reads a
/// table, infers each column's role and type, and prints per-column statistics; writes the schema
/// for the user to edit.
/// </summary>
internal static class InspectCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(TextWriter stdout)
    {
        var data = new Argument<FileInfo>("DATA") { Description = "CSV, TSV or JSON Lines file (encoding and delimiter detected)" };
        var label = new Option<string?>("--label") { Description = "the label column (default: a column named label, target, y, class, default, ...)" };
        var positive = new Option<string?>("--positive") { Description = "the label value that counts as positive (default: 1, bad, default, yes, ... else the rarer class)" };
        var schemaOut = new Option<FileInfo?>("--schema-out") { Description = "write the inferred schema (JSON) here, to edit and pass to later commands" };
        var json = new Option<bool>("--json") { Description = "print machine-readable JSON instead of a table" };
        var skipBad = new Option<bool>("--skip-bad-rows") { Description = "skip malformed rows (reported) instead of stopping at the first" };
        var cmd = new Command("inspect", """
            Infer column roles and types and show per-column statistics.

            Examples:
              jianwei inspect loans.csv --label default --schema-out schema.json
              jianwei inspect companies.jsonl --json
            """) { data, label, positive, schemaOut, json, skipBad };
        var input = new InputOptions();
        input.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(data)!;
            OptionChecks.File(parse.GetValue(schemaOut), "--schema-out");
            var table = input.Load(parse, file, parse.GetValue(skipBad));
            var schema = SchemaInference.Infer(table, parse.GetValue(label), parse.GetValue(positive));
            var stats = ColumnStatistics.Compute(table, schema);
            var output = parse.GetValue(schemaOut);
            if (output is not null) AtomicFile.WriteAllText(output.FullName, schema.ToJson());

            if (parse.GetValue(json)) PrintJson(stdout, file, table, schema, stats);
            else
            {
                PrintTable(stdout, file, table, schema, stats);
                if (output is not null) stdout.WriteLine($"\nschema written to {output.FullName} (edit roles and types there, then pass --schema)");
            }
            return 0;
        });
        return cmd;
    }

    private static void PrintJson(TextWriter stdout, FileInfo file, RawTable table, TableSchema schema, IReadOnlyList<ColumnStatistics> stats) =>
        stdout.WriteLine(JsonSerializer.Serialize(new
        {
            file = file.FullName, rows = table.RowCount, skipped_rows = table.SkippedRows.Select(s => new { line = s.Line, reason = s.Reason }),
            label = schema.Label, positive_class = schema.PositiveClass,
            positive_rate = schema.Label is null ? (double?)null : schema.Labels(table).Sum() / (double)Math.Max(1, table.RowCount),
            columns = stats.Select(s => new
            {
                name = s.Name, role = s.Schema.Role.ToString(), type = s.Schema.Type.ToString(), missing_rate = s.MissingRate, distinct = s.Distinct,
                top = s.TopValues.Select(t => new { value = t.Value, count = t.Count }), quantiles = s.Quantiles, mean = s.Mean, std = s.StandardDeviation,
            }),
        }, Json));

    private static void PrintTable(TextWriter stdout, FileInfo file, RawTable table, TableSchema schema, IReadOnlyList<ColumnStatistics> stats)
    {
        stdout.WriteLine($"{file.Name}: {table.RowCount:N0} rows, {table.Header.Count} columns" +
                         (table.SkippedRows.Count > 0 ? $", {table.SkippedRows.Count} malformed rows skipped (lines {string.Join(", ", table.SkippedRows.Take(10).Select(s => s.Line))}{(table.SkippedRows.Count > 10 ? ", ..." : "")})" : ""));
        if (schema.Label is not null)
        {
            int pos = schema.Labels(table).Sum();
            stdout.WriteLine($"label: {schema.Label} (positive '{schema.PositiveClass}': {pos:N0} rows, {Pct(pos / (double)Math.Max(1, table.RowCount))})");
        }
        stdout.WriteLine();
        stdout.WriteLine($"{"column",-28} {"role",-10} {"type",-11} {"missing",8} {"distinct",9}  summary");
        foreach (var s in stats)
        {
            string summary = s.Quantiles is { } q
                ? (s.Schema.Type == ColumnType.Text ? "length " : "") + $"min {Num(q[0])}  median {Num(q[3])}  max {Num(q[6])}"
                : string.Join("  ", s.TopValues.Take(3).Select(t => $"{Shorten(t.Value)} ({t.Count})"));
            stdout.WriteLine($"{Shorten(s.Name, 28),-28} {s.Schema.Role,-10} {s.Schema.Type,-11} {Pct(s.MissingRate),8} {s.Distinct,9:N0}  {summary}");
        }
    }

    private static string Pct(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Num(double v) => Math.Abs(v) >= 1e6 || (Math.Abs(v) < 1e-3 && v != 0) ? v.ToString("G4", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Shorten(string s, int max = 16) => s.Length > max ? s[..(max - 1)] + "…" : s;
}
