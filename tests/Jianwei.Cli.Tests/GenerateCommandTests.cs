namespace Jianwei.Cli.Tests;

public class GenerateCommandTests
{
    [Fact]
    public void WritesTheDatasetAndPrintsTheCeiling()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"jianwei-gen-{Guid.NewGuid():N}");
        try
        {
            var o = new StringWriter(); var e = new StringWriter();
            int code = Program.Run(["generate", "--out", dir, "--rows", "2000", "--unlabeled", "100", "--seed", "3"], new StringReader(""), o, e);
            Assert.Equal(0, code);
            Assert.Equal("", e.ToString());
            Assert.Matches(@"default rate \d\.\d\d%; ROC-AUC of the true risk score 0\.\d{4}", o.ToString());
            var table = Jianwei.Data.RawTable.Load(Path.Combine(dir, "labeled.csv"));
            Assert.Equal(2000, table.RowCount);
            Assert.Equal(100, Jianwei.Data.RawTable.Load(Path.Combine(dir, "unlabeled.csv")).RowCount);

            code = Program.Run(["generate", "--lang", "fr"], new StringReader(""), o, e);
            Assert.Equal(2, code);
            Assert.Contains("--lang: 'fr' is not zh or en", e.ToString());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
