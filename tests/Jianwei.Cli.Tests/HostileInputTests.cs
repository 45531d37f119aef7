using System.Text;
using Jianwei.Data;
using static Jianwei.Cli.Tests.Cli;

namespace Jianwei.Cli.Tests;

/// <summary>
/// The commands as a hostile user runs them (the reliability issue's classes): every one ends with
/// exit code 2 and one line naming the file, line, column or field, and no command touches a file it
/// did not write.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jianwei-hostile").FullName;
    private readonly string[] _header;
    private readonly List<string[]> _rows;

    public HostileInputTests()
    {
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 5, Labeled: 400, Unlabeled: 0, Language: "en"));
        SmeDataset.WriteCsv(P("train.csv"), ds.Labeled, withLabel: true);
        var table = RawTable.Load(P("train.csv"));
        _header = table.Header.ToArray();
        _rows = table.Rows;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(params string[] parts) => Path.Combine([_dir, .. parts]);

    /// <summary>Writes rows (some edited) as CSV.</summary>
    private string WriteCsv(string name, IEnumerable<string[]> rows, string[]? header = null, Encoding? encoding = null)
    {
        var sb = new StringBuilder(string.Join(",", (header ?? _header).Select(CsvFormat.Field))).Append('\n');
        foreach (var r in rows) sb.Append(string.Join(",", r.Select(CsvFormat.Field))).Append('\n');
        File.WriteAllBytes(P(name), (encoding ?? new UTF8Encoding(false)).GetBytes(sb.ToString()));
        return P(name);
    }

    private string[] WithCell(string[] row, string column, string value) { var c = (string[])row.Clone(); c[Array.IndexOf(_header, column)] = value; return c; }

    private string Fast(string name = "model")
    {
        var run = Run("train", P("train.csv"), "--label", "default", "--preset", "fast", "--out", P(name));
        Assert.True(run.Code == 0, run.Err);
        return P(name);
    }

    [Fact]
    public void TrainNeverReplacesADirectoryThatIsNotABundle()
    {
        // A user's folder: the training file itself, notes, a subfolder.
        Directory.CreateDirectory(P("work", "sub"));
        File.Copy(P("train.csv"), P("work", "train.csv"));
        File.WriteAllText(P("work", "notes.txt"), "precious");
        File.WriteAllText(P("work", "sub", "x.bin"), "more");
        var before = Snapshot(P("work"));
        AssertUserError(Run("train", P("work", "train.csv"), "--label", "default", "--preset", "fast", "--out", P("work")),
            $"{P("work")}: exists and is not a Jianwei model bundle (no manifest.json); it holds notes.txt, sub, train.csv.");
        AssertUnchanged(before, P("work"));

        // A bundle the user added a file to is not replaced either; a file is not a bundle.
        var model = Fast();
        File.WriteAllText(Path.Combine(model, "README.txt"), "my notes on this model");
        before = Snapshot(model);
        AssertUserError(Run("train", P("train.csv"), "--label", "default", "--preset", "fast", "--out", model), "also holds files the bundle did not write (README.txt)");
        AssertUnchanged(before, model);
        File.WriteAllText(P("plain.txt"), "keep");
        AssertUserError(Run("train", P("train.csv"), "--label", "default", "--preset", "fast", "--out", P("plain.txt")), "is a file; a model bundle is a directory");
        Assert.Equal("keep", File.ReadAllText(P("plain.txt")));

        // A bundle Jianwei wrote is replaced whole, and nothing is left beside it.
        File.Delete(Path.Combine(model, "README.txt"));
        Assert.Equal(0, Run("train", P("train.csv"), "--label", "default", "--preset", "fast", "--out", model, "--seed", "3").Code);
        Assert.Contains("\"seed\": 3", File.ReadAllText(Path.Combine(model, "manifest.json")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_dir), e => Path.GetFileName(e).StartsWith(".model", StringComparison.Ordinal));
        // An empty directory is fine too, named with a trailing slash or not.
        Directory.CreateDirectory(P("empty"));
        Assert.Equal(0, Run("train", P("train.csv"), "--label", "default", "--preset", "fast", "--out", P("empty") + "/").Code);
        Assert.Equal(0, Run("train", P("train.csv"), "--label", "default", "--preset", "fast", "--out", P("empty") + "/").Code);
        Assert.True(File.Exists(P("empty", "manifest.json")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_dir), e => Path.GetFileName(e).StartsWith('.'));
    }

    [Fact]
    public void EveryCommandThatWritesADirectoryRefusesAUsersDirectory()
    {
        Directory.CreateDirectory(P("mine"));
        File.WriteAllText(P("mine", "labeled.csv"), "my own data");
        File.WriteAllText(P("mine", "vocab.txt"), "my own vocabulary");
        var before = Snapshot(P("mine"));
        AssertUserError(Run("generate", "--out", P("mine"), "--rows", "50", "--unlabeled", "0"), "was not written by this command (no dataset.json");
        AssertUserError(Run("pretrain", P("train.csv"), "--text", "profile", "--out", P("mine"), "--minutes", "0.01"), "(no pretraining.json");
        AssertUserError(Run("demo", "--quick", "--out", P("mine")), "(no demo.json");
        AssertUnchanged(before, P("mine"));
        // Their own directories they may write again.
        Assert.Equal(0, Run("generate", "--out", P("gen"), "--rows", "50", "--unlabeled", "0").Code);
        Assert.Equal(0, Run("generate", "--out", P("gen"), "--rows", "60", "--unlabeled", "0", "--seed", "2").Code);
        Assert.Equal(61, File.ReadAllLines(P("gen", "labeled.csv")).Length);
        // A folder an older generate wrote (no marker yet, only its two files with the generator's header) is its own too.
        Directory.CreateDirectory(P("old-gen"));
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Labeled: 20, Unlabeled: 5));
        ds.Write(P("old-gen"));
        Assert.Equal(0, Run("generate", "--out", P("old-gen"), "--rows", "30", "--unlabeled", "0").Code);
        Assert.Equal(31, File.ReadAllLines(P("old-gen", "labeled.csv")).Length);
    }

    [Fact]
    public void AKilledSwapIsFinishedByTheNextCommandAndStrayFoldersAreCleaned()
    {
        var model = Fast();
        // The state a kill between the fallback swap's two renames leaves: the old bundle aside, the new one complete, nothing at --out.
        const int dead = 2_000_000_000;
        Directory.Move(model, P($".model.{dead}.{Guid.NewGuid():N}.new"));
        var old = P($".model.{dead}.{Guid.NewGuid():N}.old");
        Fast("old-copy");
        Directory.Move(P("old-copy"), old);
        Directory.CreateDirectory(P($".model.{dead}.{Guid.NewGuid():N}.tmp"));   // and a half-built one from an earlier kill
        var run = Run("predict", model, P("train.csv"), "--out", P("scores.csv"));
        Assert.True(run.Code == 0, run.Err);
        Assert.True(File.Exists(Path.Combine(model, "manifest.json")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_dir), e => Path.GetFileName(e).StartsWith(".model", StringComparison.Ordinal));
    }

    [Fact]
    public void NumbersBeyondFloat32AreRefusedWithTheirLineAndColumnNeverPassedToXGBoost()
    {
        WriteCsv("big.csv", _rows.Select((r, i) => i == 7 ? WithCell(r, "debt_ratio", "1e39") : r));
        AssertUserError(Run("train", P("big.csv"), "--label", "default", "--preset", "balanced", "--out", P("m")),
            $"{P("big.csv")}:9: column 'debt_ratio': '1e39' is outside the range of numbers Jianwei computes with");
        Assert.False(Directory.Exists(P("m")));
        var model = Fast();
        WriteCsv("score.csv", _rows.Take(20).Select((r, i) => i == 3 ? WithCell(r, "revenue_growth", "-1e308") : r));
        AssertUserError(Run("predict", model, P("score.csv"), "--out", P("s.csv")), ":5: column 'revenue_growth': '-1e308' is outside the range");
        Assert.False(File.Exists(P("s.csv")));
    }

    [Fact]
    public void OutputPathsAndOptionValuesAreCheckedBeforeAnyWork()
    {
        var model = Fast();
        Directory.CreateDirectory(P("out"));
        AssertUserError(Run("predict", model, P("train.csv"), "--out", P("out")), $"--out: {P("out")} is a directory; name a file to write");
        AssertUserError(Run("evaluate", model, P("train.csv"), "--report", P("out")), "--report: ");
        AssertUserError(Run("bench", P("train.csv"), "--label", "default", "--modes", "lr", "--json", P("out")), "--json: ");
        AssertUserError(Run("explain", model, P("train.csv"), "--rows", "-3"), "--rows: -3; explain at least 1 row.");
        AssertUserError(Run("explain", model, P("train.csv"), "--top", "0"), "--top: 0");
        AssertUserError(Run("predict", model, P("out"), "--out", P("s.csv")), $"{P("out")}: is a directory, not a data file");
        AssertUserError(Run("predict", model, P("train.csv"), "--out", "/dev/full"), "/dev/full: cannot write (No space left on device).");
        AssertUserError(Run("predict", P("train.csv"), P("train.csv"), "--out", P("s.csv")), "is a file; a model bundle is a directory");
    }

    [Fact]
    public void OptionValuesOutOfRangeAreNamedNeverPassedOn()
    {
        var model = Fast();
        foreach (var (expected, args) in new (string, string[])[]
        {
            ("--budget: minutes between 0 and 1440.", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--budget", "NaN"]),
            ("--fgm: must not be negative (a finite number).", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "best", "--fgm", "NaN"]),
            ("--budget: minutes between 0 and 1440.", ["bench", P("train.csv"), "--label", "default", "--modes", "lr", "--budget", "Infinity"]),
            ("--time-limit: minutes between 0 and 10080.", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "best", "--time-limit", "NaN"]),
            ("--time-limit: minutes between 0 and 10080.", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "best", "--time-limit", "-1"]),
            ("--folds: folds between 2 and 20.", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "best", "--folds", "1"]),
            ("--candidates: 'svm' is not one of logistic, nb-logistic, binned-logistic, lightgbm, xgboost, ft-transformer, multimodal.", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "best", "--candidates", "lr,svm"]),
            ("--candidates: name at least one learner.", ["train", P("train.csv"), "--label", "default", "--out", P("m"), "--preset", "best", "--candidates", ","]),
            ("--minutes: minutes between 0.001 and 10080.", ["pretrain", P("train.csv"), "--text", "profile", "--out", P("p1"), "--minutes", "-1"]),
            ("--vocab-size: tokens between 100 and 1,000,000.", ["pretrain", P("train.csv"), "--text", "profile", "--out", P("p2"), "--vocab-size", "0"]),
            ("--max-length: tokens between 8 and 8,192.", ["pretrain", P("train.csv"), "--text", "profile", "--out", P("p3"), "--max-length", "0"]),
            ("--urls: 'nonsense' is not an http:// or https:// address", ["serve", model, "--urls", "nonsense"]),
            ("--urls: 'htp://x:5' is not an http:// or https:// address", ["serve", model, "--urls", "htp://x:5"]),
            ("--drain-seconds: seconds between 0 and 600.", ["serve", model, "--drain-seconds", "NaN"]),
            ("--rows + --unlabeled: 1,000,000,000 companies; at most 10,000,000", ["generate", "--out", P("g"), "--rows", "1000000000", "--unlabeled", "0"]),
        })
            AssertUserError(Run(args), expected);
        Assert.False(Directory.Exists(P("m")) || Directory.Exists(P("g")));
        // A device named as an output is written in place, never replaced by a file.
        Assert.Equal(0, Run("inspect", P("train.csv"), "--schema-out", "/dev/null").Code);
        Assert.Equal(Jianwei.Tensors.Serialization.PathKind.Special, Jianwei.Tensors.Serialization.FileSystemProbe.Kind("/dev/null"));
        AssertUserError(Run("inspect", P("train.csv"), "--schema-out", "/dev/full"), "/dev/full: cannot write (No space left on device).");
        Assert.Equal(Jianwei.Tensors.Serialization.PathKind.Special, Jianwei.Tensors.Serialization.FileSystemProbe.Kind("/dev/full"));
    }

    [Fact]
    public void TooFewRowsOrLabelsSayWhatThePresetNeeds()
    {
        int li = Array.IndexOf(_header, "default");
        WriteCsv("four.csv", _rows.Where(r => r[li] == "1").Take(2).Concat(_rows.Where(r => r[li] == "0").Take(2)));
        AssertUserError(Run("train", P("four.csv"), "--label", "default", "--preset", "fast", "--out", P("m")), "2 positive ('1') and 2 negative labeled rows; the fast preset needs at least 5 of each");
        WriteCsv("nine.csv", _rows.Where(r => r[li] == "1").Take(1).Concat(_rows.Where(r => r[li] == "0").Take(8)));
        AssertUserError(Run("train", P("nine.csv"), "--label", "default", "--out", P("m")), "1 positive ('1') and 8 negative labeled rows; the balanced preset needs at least 5 of each");
        AssertUserError(Run("train", P("nine.csv"), "--label", "default", "--preset", "best", "--out", P("m")), "or use the fast preset (5 of each)");
        // More folds than the rarer class has training rows: named, with the count that would work.
        WriteCsv("twelve.csv", _rows.Where(r => r[li] == "1").Take(12).Concat(_rows.Where(r => r[li] == "0").Take(40)));
        AssertUserError(Run("train", P("twelve.csv"), "--label", "default", "--preset", "best", "--folds", "20", "--candidates", "lr", "--out", P("m")),
                        "10 rows of the rarer class are left for training (after the 20 % validation split), fewer than the 20 folds asked for: each fold needs one; use --folds 10 or fewer.");
    }

    [Fact]
    public void LabelsAreNeverGuessedSilently()
    {
        int li = Array.IndexOf(_header, "default");
        var graded = _rows.Select((r, i) => WithCell(r, "default", r[li] == "1" ? "C" : i % 3 == 0 ? "B" : "A")).ToList();
        WriteCsv("graded.csv", graded);
        AssertUserError(Run("train", P("graded.csv"), "--label", "default", "--preset", "fast", "--out", P("m")),
            "column 'default': the label has 3 classes (A, B, C); a model predicts one class against the rest: name it with --positive");
        var trained = Run("train", P("graded.csv"), "--label", "default", "--positive", "C", "--preset", "fast", "--out", P("m"));
        Assert.True(trained.Code == 0, trained.Err);
        // A value the model never saw is refused with its line, never counted as negative.
        var model = Fast("binary");
        WriteCsv("meh.csv", _rows.Take(50).Select((r, i) => i == 10 ? WithCell(r, "default", "meh") : r));
        AssertUserError(Run("evaluate", model, P("meh.csv")), $"{P("meh.csv")}:12: column 'default': 'meh' is not a class the model was trained on (0, 1).");
    }

    [Fact]
    public void EncodingsAreDetectedOverTheWholeFileAndCanBeNamed()
    {
        // Chinese text first appears after 1 MB of ASCII rows: GB18030 all the same.
        var rows = Enumerable.Range(0, 12).SelectMany(_ => _rows).ToList();
        rows[^1] = WithCell(rows[^1], "profile", "小微企业，经营良好，按时还款");
        var gb = WriteCsv("gb.csv", rows, encoding: EncodingDetector.Gb18030);
        Assert.True(new FileInfo(gb).Length > 1_100_000);
        var trained = Run("train", gb, "--label", "default", "--preset", "fast", "--out", P("gbmodel"));
        Assert.True(trained.Code == 0, trained.Err);
        AssertUserError(Run("predict", P("gbmodel"), gb, "--out", P("s.csv"), "--encoding", "utf-8"), $":{rows.Count + 1}: column 'profile': bytes that are not valid in the file's encoding (UTF-8); if the file is in another one, name it: --encoding");
        Assert.Equal(0, Run("predict", P("gbmodel"), gb, "--out", P("s.csv"), "--encoding", "gb18030").Code);
        AssertUserError(Run("inspect", gb, "--encoding", "klingon"), "--encoding: 'klingon' is not an encoding this build knows");
    }

    [Fact]
    public void ADamagedPretrainingCheckpointSaysHowToStartOver()
    {
        var first = Run("pretrain", P("train.csv"), "--text", "profile", "--out", P("enc"), "--minutes", "0.01", "--vocab-size", "300");
        Assert.True(first.Code == 0, first.Err);
        var weights = Directory.GetFiles(P("enc", "run", "checkpoints"), "model.safetensors", SearchOption.AllDirectories).Single();
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);
        AssertUserError(Run("pretrain", P("train.csv"), "--text", "profile", "--out", P("enc"), "--minutes", "0.01"),
            $"{weights}: ");
        var message = Run("pretrain", P("train.csv"), "--text", "profile", "--out", P("enc"), "--minutes", "0.01").Err;
        Assert.Contains($"the checkpoint cannot be resumed; delete {P("enc", "run", "checkpoints")} to start over.", message);
    }

    [Fact]
    public void ABugExitsWithItsOwnCodeAndOneLineAndTheDetailsGoToAFile()
    {
        var err = new StringWriter();
        Exception thrown;
        try { throw new InvalidOperationException("an impossible state"); }
        catch (InvalidOperationException e) { thrown = e; }
        Assert.Equal(70, UserFacing.ReportBug(thrown, ["predict", "m", "x.csv"], err));
        var line = err.ToString().Trim();
        Assert.Single(line.Split('\n'));
        Assert.StartsWith("jianwei: internal error (InvalidOperationException: an impossible state). This is a bug in Jianwei", line);
        var report = line[(line.LastIndexOf("details: ", StringComparison.Ordinal) + "details: ".Length)..];
        try
        {
            var text = File.ReadAllText(report);
            Assert.Contains("jianwei predict m x.csv", text);
            Assert.Contains("   at ", text);   // the stack trace is in the file, not on the terminal
        }
        finally { File.Delete(report); }
    }
}
