using System.CommandLine;
using System.Globalization;
using Jianwei.Data;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Cli;

/// <summary>
/// <c>jianwei generate [--out DIR] [--rows N] [--unlabeled N] [--lang zh|en] [--seed S]</c>: writes the
/// embedded small-enterprise credit dataset and prints its default rate and the ROC-AUC of the true
/// risk score (the best any model can reach on it).
/// </summary>
internal static class GenerateCommand
{
    /// <summary>The file that marks a folder as generated data (so generating again may overwrite it).</summary>
    public const string MarkerFile = "dataset.json";

    /// <summary>A folder an earlier generate wrote before the marker existed: only its two files, each with the generator's header.</summary>
    internal static bool WrittenBefore(string dir) =>
        Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).All(n => n is "labeled.csv" or "unlabeled.csv")
        && Directory.EnumerateFiles(dir).All(SmeDataset.HasOurHeader);

    public static Command Create(TextWriter stdout)
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "folder for labeled.csv and unlabeled.csv", DefaultValueFactory = _ => new DirectoryInfo("jianwei-data") };
        var rows = new Option<int>("--rows") { Description = "labeled companies", DefaultValueFactory = _ => 20_000 };
        var unlabeled = new Option<int>("--unlabeled") { Description = "unlabeled companies (for pretraining)", DefaultValueFactory = _ => 50_000 };
        var lang = new Option<string>("--lang") { Description = "language of the texts: zh or en", DefaultValueFactory = _ => "zh" };
        var seed = new Option<int>("--seed") { Description = "random seed (same seed, same files)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("generate", """
            Write the embedded small-enterprise credit dataset (tables plus company profiles, recruitment
            posts and registration changes) and report how well the true risk score separates defaults.

            Examples:
              jianwei generate --out data
              jianwei generate --rows 5000 --unlabeled 0 --lang en --seed 7
            """) { outDir, rows, unlabeled, lang, seed };
        cmd.SetAction(parse =>
        {
            int n = parse.GetValue(rows), u = parse.GetValue(unlabeled);
            if (n < 10) throw new UserErrorException($"--rows: {n} is too few (at least 10).");
            if (u < 0) throw new UserErrorException("--unlabeled cannot be negative.");
            // The whole dataset is built in memory: ten million companies take several GB already.
            if ((long)n + u > 10_000_000) throw new UserErrorException($"--rows + --unlabeled: {(long)n + u:N0} companies; at most 10,000,000 in one file.");
            var language = parse.GetValue(lang)!;
            if (language is not ("zh" or "en")) throw new UserErrorException($"--lang: '{language}' is not zh or en.");
            // labeled.csv and unlabeled.csv are written only into a new or empty folder, or one generate wrote before.
            var dir = OwnedDirectory.Claim(parse.GetValue(outDir)!.FullName, MarkerFile, "jianwei-generated-data", WrittenBefore);
            var ds = SmeDataGenerator.Generate(new SmeDataOptions(parse.GetValue(seed), n, u, language));
            var (labeledPath, unlabeledPath) = ds.Write(dir);
            stdout.WriteLine($"wrote {labeledPath} ({n:N0} companies) and {unlabeledPath} ({u:N0} companies)");
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"default rate {ds.DefaultRate * 100:0.00}%; ROC-AUC of the true risk score {ds.TrueScoreAuc:0.0000} (the ceiling for any model)"));
            return 0;
        });
        return cmd;
    }
}
