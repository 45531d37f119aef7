using Jianwei.Tensors.Serialization;

namespace Jianwei.Tensors.Tests;

/// <summary>
/// Directory replacement at every instant a process can be killed, simulated by leaving exactly the
/// state that instant leaves (a process id that is not running owns the leftovers), and the rules
/// for writing into directories a user owns.
/// </summary>
public sealed class AtomicDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jianwei-atomicdir").FullName;
    private const int DeadPid = 2_000_000_000;   // above any pid_max: never a running process

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(params string[] parts) => Path.Combine([_root, .. parts]);

    private static void Write(string dir, string name, string text)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name), text);
    }

    private string Leftover(string kind) => P($".target.{DeadPid}.{Guid.NewGuid():N}.{kind}");

    [Fact]
    public void ReplaceSwapsInTheNewDirectoryAndLeavesNothingBeside()
    {
        Write(P("target"), "a.txt", "old");
        AtomicDirectory.Replace(P("target"), staging => Write(staging, "b.txt", "new"));
        Assert.Equal(["b.txt"], Directory.GetFiles(P("target")).Select(Path.GetFileName));
        Assert.Equal("new", File.ReadAllText(P("target", "b.txt")));
        Assert.Equal([P("target")], Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void AFailedBuildOrARefusalLeavesTheOldDirectoryByteForByte()
    {
        Write(P("target"), "a.txt", "old");
        Assert.Throws<InvalidOperationException>(() => AtomicDirectory.Replace(P("target"), staging => { Write(staging, "b.txt", "half"); throw new InvalidOperationException("killed"); }));
        var refused = Assert.Throws<DirectoryNotReplaceableException>(() => AtomicDirectory.Replace(P("target"), staging => Write(staging, "b.txt", "new"), _ => "is not ours."));
        Assert.Equal($"{P("target")}: is not ours.", refused.Message);
        Assert.Equal("old", File.ReadAllText(P("target", "a.txt")));
        Assert.Equal([P("target")], Directory.GetFileSystemEntries(_root));
        File.WriteAllText(P("file"), "keep");
        Assert.Throws<DirectoryNotReplaceableException>(() => AtomicDirectory.Replace(P("file"), staging => Write(staging, "b.txt", "new")));
        Assert.Equal("keep", File.ReadAllText(P("file")));
    }

    [Fact]
    public void KilledBetweenTheTwoRenamesTheCompleteNewDirectoryIsMovedInOnTheNextStart()
    {
        // The fallback swap's window: the old directory renamed aside, the new one not yet in.
        var old = Leftover("old");
        Write(old, "a.txt", "old");
        var ready = Leftover("new");
        Write(ready, "b.txt", "new");
        var half = Leftover("tmp");
        Write(half, "c.txt", "half-built");
        AtomicDirectory.Recover(P("target"));
        Assert.Equal("new", File.ReadAllText(P("target", "b.txt")));
        Assert.Equal([P("target")], Directory.GetFileSystemEntries(_root));   // the old and the half-built one are cleaned
    }

    [Fact]
    public void StaleLeftoversBesideAnIntactTargetAreDeletedButALiveProcessesAreNot()
    {
        Write(P("target"), "a.txt", "current");
        Write(Leftover("tmp"), "x", "killed while building");
        Write(Leftover("new"), "x", "killed before swapping");
        Write(Leftover("old"), "x", "killed before deleting");
        var live = P($".target.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Write(live, "x", "still being built");
        var user = P(".target.mine.tmp");
        Write(user, "x", "a user's folder with a similar name");
        AtomicDirectory.Recover(P("target"));
        Assert.Equal("current", File.ReadAllText(P("target", "a.txt")));
        Assert.Equal(new[] { P("target"), live, user }.Order(), Directory.GetFileSystemEntries(_root).Order());
    }

    [Fact]
    public void WithNothingCompleteToRestoreTheEvidenceStays()
    {
        var old = Leftover("old");
        Write(old, "a.txt", "old");
        AtomicDirectory.Recover(P("target"));
        Assert.False(Directory.Exists(P("target")));
        Assert.True(Directory.Exists(old));
    }

    [Fact]
    public void ProbeTellsDevicesFilesAndDirectoriesApart()
    {
        File.WriteAllText(P("f"), "x");
        Assert.Equal(PathKind.RegularFile, FileSystemProbe.Kind(P("f")));
        Assert.Equal(PathKind.Directory, FileSystemProbe.Kind(_root));
        Assert.Equal(PathKind.Absent, FileSystemProbe.Kind(P("none")));
        if (OperatingSystem.IsLinux()) Assert.Equal(PathKind.Special, FileSystemProbe.Kind("/dev/null"));
    }

    [Fact]
    public void AtomicFileWritesDevicesInPlaceAndRefusesDirectories()
    {
        if (OperatingSystem.IsLinux())
        {
            AtomicFile.WriteAllText("/dev/null", "scores");   // written, not renamed over: the device node stays a device
            Assert.Equal(PathKind.Special, FileSystemProbe.Kind("/dev/null"));
            Assert.Empty(Directory.GetFiles("/dev", ".null.*"));
            var full = Assert.Throws<FileWriteException>(() => AtomicFile.WriteAllText("/dev/full", "scores"));
            Assert.Equal("/dev/full: cannot write (No space left on device).", full.Message);
        }
        var e = Assert.Throws<FileWriteException>(() => AtomicFile.WriteAllText(_root, "x"));
        Assert.Contains("is a directory", e.Message);
    }

    [Fact]
    public void OwnedDirectoriesAreClaimedOnlyWhenNewEmptyOrMarked()
    {
        var fresh = OwnedDirectory.Claim(P("fresh"), "run.json", "jianwei-test");
        Assert.Equal("jianwei-test", OwnedDirectory.MarkerKind(Path.Combine(fresh, "run.json")));
        File.WriteAllText(Path.Combine(fresh, "out.txt"), "ours");
        Assert.Equal(fresh, OwnedDirectory.Claim(fresh, "run.json", "jianwei-test"));   // a rerun resumes in it

        Write(P("user"), "thesis.docx", "years of work");
        var refused = Assert.Throws<DirectoryNotReplaceableException>(() => OwnedDirectory.Claim(P("user"), "run.json", "jianwei-test"));
        Assert.Contains("thesis.docx", refused.Message);
        Assert.Equal(["thesis.docx"], Directory.GetFiles(P("user")).Select(Path.GetFileName));
        Assert.Throws<DirectoryNotReplaceableException>(() => OwnedDirectory.Claim(fresh, "run.json", "jianwei-other"));   // another command's
        Assert.Equal(P("user"), OwnedDirectory.Claim(P("user"), "run.json", "jianwei-test", d => File.Exists(Path.Combine(d, "thesis.docx"))));
    }
}
