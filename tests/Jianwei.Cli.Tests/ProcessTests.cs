using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Jianwei.Data;
using static Jianwei.Cli.Tests.Cli;

namespace Jianwei.Cli.Tests;

/// <summary>A multimodal bundle (every kind of file a bundle holds) and scoring data, made once for the process tests.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ProcessFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("jianwei-process").FullName;
    public string Train => Path.Combine(Root, "train.csv");
    public string Score => Path.Combine(Root, "score.csv");
    public string Bundle => Path.Combine(Root, "bundle");

    public ProcessFixture()
    {
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);   // 755: another user may read it (the permission tests)
        var ds = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 8, Labeled: 300, Unlabeled: 0, Language: "en"));
        SmeDataset.WriteCsv(Train, ds.Labeled, withLabel: true);
        SmeDataset.WriteCsv(Score, ds.Labeled.Take(10).ToList(), withLabel: false);
        var run = Cli.Run("train", Train, "--label", "default", "--preset", "best", "--budget", "0.02", "--candidates", "multimodal", "--folds", "2", "--time-limit", "0", "--out", Bundle);
        if (run.Code != 0) throw new InvalidOperationException(run.Err);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// The real program as a process: what an in-process run cannot show — a native crash (exit 139), an
/// unhandled exception (134), a hang, another user's permissions, a full disk.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ProcessTests(ProcessFixture fixture) : IClassFixture<ProcessFixture>
{
    private static void AssertCleanOutcome((int Code, string Out, string Err) run, string what)
    {
        Assert.True(run.Code is 0 or 2, $"{what}: exit {run.Code} (134: an unhandled exception, 139: a native crash, -1: a hang)\n{run.Err}");
        Assert.DoesNotContain("   at ", run.Err);
        if (run.Code == 2) Assert.Single(run.Err.Trim().Split('\n'));
    }

    [Fact]
    public void RandomByteFlipsOfEachBundleFileNeverCrashOrHang()
    {
        // Each file of the bundle in turn, mutated 8 ways (seeded): a flipped byte, a changed digit (valid
        // JSON with other numbers: child indices, sizes, offsets), a truncation. Half the cases strip the
        // manifest's digests first, so the mutation reaches the readers behind them.
        // The second fold model's files are of the same kinds as the first's: only the first's are mutated.
        var files = Directory.GetFiles(fixture.Bundle, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(fixture.Bundle, f)).Order().ToList();
        Assert.Equal(10, files.Count);
        var mutated = files.Where(f => !f.StartsWith("multimodal-fold-2", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, mutated.Count);
        var rng = new Random(20);
        var cases = new List<(string File, byte[] Bytes, bool StripDigests, string Kind)>();
        foreach (var file in mutated)
        {
            var original = File.ReadAllBytes(Path.Combine(fixture.Bundle, file));
            for (int k = 0; k < 8; k++)
            {
                var bytes = (byte[])original.Clone();
                string kind = (k % 4) switch { 0 => "flip", 1 or 2 => "digit", _ => "truncate" };
                var digits = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToList();
                if (kind == "digit" && digits.Count == 0) kind = "flip";
                if (kind == "flip") bytes[rng.Next(bytes.Length)] ^= (byte)rng.Next(1, 256);
                else if (kind == "digit") bytes[digits[rng.Next(digits.Count)]] = (byte)('0' + rng.Next(10));
                else bytes = bytes[..rng.Next(bytes.Length)];
                cases.Add((file, bytes, StripDigests: k % 2 == 0, kind));
            }
        }
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(cases.Select((c, i) => (c, i)), new ParallelOptions { MaxDegreeOfParallelism = 2 }, item =>
        {
            var (c, i) = item;
            var copy = Path.Combine(fixture.Root, $"flip-{i}");
            foreach (var f in files)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, f))!);
                File.Copy(Path.Combine(fixture.Bundle, f), Path.Combine(copy, f));
            }
            if (c.StripDigests)
            {
                var manifest = Path.Combine(copy, "manifest.json");
                var json = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
                // LightGBM's file keeps its digest: without it the bundle is refused before any reader runs.
                var kept = json["sha256"]!.AsObject().Where(kv => kv.Key.EndsWith("lightgbm.txt", StringComparison.Ordinal)).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value!.DeepClone())).ToList();
                json.Remove("sha256");
                if (kept.Count > 0) json["sha256"] = new JsonObject(kept);
                File.WriteAllText(manifest, json.ToJsonString());
            }
            File.WriteAllBytes(Path.Combine(copy, c.File), c.Bytes);
            var run = RunProcess(["predict", copy, fixture.Score, "--out", Path.Combine(copy, "scores.csv")], timeout: TimeSpan.FromSeconds(60));
            try { AssertCleanOutcome(run, $"case {i}: {c.Kind} of {c.File}"); }
            catch (Exception e) { failures.Add(e.Message); }
            Directory.Delete(copy, recursive: true);
        });
        Assert.True(failures.IsEmpty, string.Join("\n\n", failures));
    }

    [Fact]
    public void TrainOutDotInTheUsersFolderDeletesNothing()
    {
        // The reported case, exactly: run from the folder that holds the data, --out .
        var work = Path.Combine(fixture.Root, "work");
        Directory.CreateDirectory(work);
        File.Copy(fixture.Train, Path.Combine(work, "train.csv"));
        File.WriteAllText(Path.Combine(work, "notes.txt"), "precious");
        var before = Snapshot(work);
        var run = RunProcess(["train", "train.csv", "--label", "default", "--preset", "fast", "--out", "."], workingDirectory: work);
        Assert.Equal(2, run.Code);
        Assert.Contains("exists and is not a Jianwei model bundle", run.Err);
        AssertUnchanged(before, work);
    }

    [Fact]
    public void ServeRefusesAnInvalidBundleBeforeListening()
    {
        var copy = Path.Combine(fixture.Root, "serve-bad");
        foreach (var f in Directory.GetFiles(fixture.Bundle, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(fixture.Bundle, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        var config = Path.Combine(copy, "multimodal-fold-2", "multimodal", "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"vocab_size\":", "\"vocab_size\": 1000000, \"old_vocab_size\":"));
        var run = RunProcess(["serve", copy, "--urls", "http://127.0.0.1:0"], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, run.Code);
        Assert.Contains($"{config}: ", run.Err);
        Assert.DoesNotContain("serving", run.Out);
    }

    [Fact]
    public void AnotherUsersPermissionsAreNamedNotDumped()
    {
        string[] asNobody = Environment.UserName == "root" ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
        if (asNobody.Length > 0 && !File.Exists("/usr/bin/setpriv")) return;   // root without setpriv: nothing to drop to (Debian has it in util-linux)
        var dir = Path.Combine(fixture.Root, "perm");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
        var secret = Path.Combine(dir, "secret.csv");
        File.Copy(fixture.Score, secret);
        File.SetUnixFileMode(secret, UnixFileMode.None);
        var locked = Path.Combine(dir, "locked");
        Directory.CreateDirectory(locked);
        File.SetUnixFileMode(locked, (UnixFileMode)0b101_101_101);
        var env = asNobody.Length > 0 ? asNobody : null;
        var read = RunProcess(["predict", fixture.Bundle, secret, "--out", Path.Combine(dir, "s.csv")], workingDirectory: dir, wrap: env);
        Assert.True(read.Code == 2, read.Err);
        Assert.Contains($"{secret}: permission denied: this user may not read the file.", read.Err);
        var write = RunProcess(["predict", fixture.Bundle, fixture.Score, "--out", Path.Combine(locked, "s.csv")], workingDirectory: dir, wrap: env);
        Assert.True(write.Code == 2, write.Err);
        Assert.Contains($"{Path.Combine(locked, "s.csv")}: cannot write (permission denied).", write.Err);
        Assert.Empty(Directory.GetFileSystemEntries(locked));
    }

    [TmpfsFact]
    public void AFullDiskFailsCleanlyAndKeepsTheOldBundle()
    {
        var mount = Path.Combine(fixture.Root, "small-disk");
        Directory.CreateDirectory(mount);
        Tmpfs.Mount(mount, "1m");
        try
        {
            var model = Path.Combine(mount, "model");
            var first = Cli.Run("train", fixture.Train, "--label", "default", "--preset", "fast", "--out", model);
            Assert.True(first.Code == 0, first.Err);
            var before = Snapshot(model);
            // Fill what is left of the disk, then train again into the same bundle, and score onto the disk.
            using (var filler = new FileStream(Path.Combine(mount, "filler"), FileMode.Create))
            {
                var block = new byte[4096];
                try { while (true) filler.Write(block); }
                catch (IOException) { }
            }
            var again = Cli.Run("train", fixture.Train, "--label", "default", "--preset", "fast", "--out", model, "--seed", "4");
            AssertUserError(again, $"{model}: cannot write (No space left on device).");
            AssertUnchanged(before, model);
            var scores = Cli.Run("predict", model, fixture.Train, "--out", Path.Combine(mount, "scores.csv"));
            AssertUserError(scores, $"{Path.Combine(mount, "scores.csv")}: cannot write (No space left on device).");
            Assert.Equal(["filler", "model"], Directory.GetFileSystemEntries(mount).Select(Path.GetFileName).Order());   // no temporary file or staging folder left
        }
        finally { Tmpfs.Unmount(mount); }
    }
}

/// <summary>Small RAM disks for full-disk tests: needs root (or CAP_SYS_ADMIN) and mount(8).</summary>
internal static class Tmpfs
{
    public static readonly bool Available = Probe();

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        var dir = Directory.CreateTempSubdirectory("jianwei-tmpfs-probe").FullName;
        try { return Mount(dir, "64k", throwOnFailure: false) && Unmount(dir); }
        finally { try { Directory.Delete(dir); } catch (IOException) { } }
    }

    public static bool Mount(string dir, string size, bool throwOnFailure = true) => Exec(throwOnFailure, "mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", dir);

    public static bool Unmount(string dir) => Exec(false, "umount", dir);

    private static bool Exec(bool throwOnFailure, string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit(30_000);
            if (p.ExitCode != 0 && throwOnFailure) throw new InvalidOperationException($"{file} failed: {p.StandardError.ReadToEnd()}");
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) when (!throwOnFailure) { return false; }
    }
}

/// <summary>A fact that needs a tmpfs mount: reported as skipped (never passed) where this user cannot mount one.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (!Tmpfs.Available) Skip = "cannot mount a tmpfs here (needs root): the full-disk test is skipped";
    }
}
