using System.Text.Json;
using static Jianwei.Cli.Tests.Cli;

namespace Jianwei.Cli.Tests;

public class InspectCommandTests
{
    [Fact]
    public void PrintsColumnsAndWritesAnEditableSchema()
    {
        var dir = Directory.CreateTempSubdirectory("jianwei-inspect").FullName;
        try
        {
            var data = Path.Combine(dir, "loans.csv");
            File.WriteAllText(data, "loan_id,income,grade,y\nL1,\"1,200\",A,good\nL2,NA,B,bad\nL3,800,A,good\nL4,950,C,good\n");
            var schemaPath = Path.Combine(dir, "schema.json");
            var (code, output, err) = Run("inspect", data, "--label", "y", "--schema-out", schemaPath);
            Assert.Equal(0, code);
            Assert.Equal("", err);
            Assert.Contains("4 rows, 4 columns", output);
            Assert.Contains("label: y (positive 'bad': 1 rows, 25.0%)", output);
            Assert.Matches(@"income\s+Feature\s+Numeric\s+25\.0%", output);
            var schema = Jianwei.Data.TableSchema.Load(schemaPath);
            Assert.Equal(Jianwei.Data.ColumnRole.Identifier, schema.Find("loan_id")!.Role);

            (code, output, _) = Run("inspect", data, "--json");
            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(output);
            Assert.Equal("y", doc.RootElement.GetProperty("label").GetString());
            Assert.Equal(0.25, doc.RootElement.GetProperty("positive_rate").GetDouble());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void DataErrorsAreOneLineWithExitCode2()
    {
        var dir = Directory.CreateTempSubdirectory("jianwei-inspect").FullName;
        try
        {
            var data = Path.Combine(dir, "bad.csv");
            File.WriteAllText(data, "a,b\n1,2\n3\n");
            var (code, output, err) = Run("inspect", data);
            Assert.Equal(2, code);
            Assert.Equal("", output);
            Assert.StartsWith($"jianwei: {data}:3:", err);
            Assert.Single(err.TrimEnd('\n').Split('\n'));
            (code, _, err) = Run("inspect", data, "--label", "nope", "--skip-bad-rows");
            Assert.Equal(2, code);
            Assert.Contains("column 'nope': the label column is missing", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
