using System.Text.RegularExpressions;

namespace Jianwei.Tensors.Serialization;

/// <summary>A directory was not replaced because it is not ours to replace; the message names it and says why.</summary>
public sealed class DirectoryNotReplaceableException(string path, string reason) : IOException($"{path}: {reason}")
{
    /// <summary>The directory left alone.</summary>
    public string Path { get; } = path;
}

/// <summary>
/// Replaces a whole directory (a model bundle, an encoder) so that at every instant its path holds
/// either the complete old directory or the complete new one, and a killed process leaves nothing
/// that the next run cannot finish or clean.
/// </summary>
/// <remarks>
/// The new directory is built beside the target as <c>.NAME.PID.ID.tmp</c>, renamed to
/// <c>.NAME.PID.ID.new</c> once complete, then swapped in. On Linux the swap is one
/// <c>renameat2(RENAME_EXCHANGE)</c>; where the file system cannot exchange, the old directory is
/// renamed aside (<c>.old</c>) and the new one renamed in — and a process killed between the two
/// renames leaves a complete <c>.new</c> that <see cref="Recover"/> moves in on the next start.
/// Leftovers of processes that no longer run are deleted; those names are ours alone (a process id
/// and 32 hex digits), so nothing a user wrote is ever touched.
/// </remarks>
public static class AtomicDirectory
{
    /// <summary>
    /// Builds a new directory with <paramref name="build"/> (given an empty staging directory) and
    /// swaps it in at <paramref name="target"/>. When the target exists, <paramref name="whyNotReplaceable"/>
    /// may refuse it (returning the reason) just before the swap: then nothing changes and a
    /// <see cref="DirectoryNotReplaceableException"/> says why.
    /// </summary>
    public static void Replace(string target, Action<string> build, Func<string, string?>? whyNotReplaceable = null)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));   // "model/" names the directory model, not a place inside it
        if (FileSystemProbe.Kind(full) is PathKind.RegularFile or PathKind.Special) throw new DirectoryNotReplaceableException(full, "is a file, not a directory.");
        Recover(full);
        string id = $"{Environment.ProcessId}.{Guid.NewGuid():N}";
        string staging = Sibling(full, id, "tmp"), ready = Sibling(full, id, "new");
        try
        {
            Directory.CreateDirectory(staging);
            build(staging);
            Directory.Move(staging, ready);   // complete from here on: recovery may move it in
            if (!Directory.Exists(full))
            {
                Directory.Move(ready, full);
                return;
            }
            if (whyNotReplaceable?.Invoke(full) is string reason) throw new DirectoryNotReplaceableException(full, reason);
            if (FileSystemProbe.TryExchange(ready, full))
            {
                DeleteQuietly(ready);   // it now holds the old directory
                return;
            }
            string old = Sibling(full, id, "old");
            Directory.Move(full, old);
            Directory.Move(ready, full);
            DeleteQuietly(old);
        }
        catch (Exception e)
        {
            if (Directory.Exists(full)) { DeleteQuietly(staging); DeleteQuietly(ready); }
            else Recover(full);
            // Name the directory the user asked for, not the staging folder a file inside it was written to.
            if (e is FileWriteException inside && inside.Path.StartsWith(staging, StringComparison.Ordinal)) throw new FileWriteException(full, inside.InnerException ?? inside);
            if (e is (IOException or UnauthorizedAccessException) and not (FileWriteException or DirectoryNotReplaceableException)) throw new FileWriteException(full, e);
            throw;
        }
    }

    /// <summary>
    /// Finishes a swap that a killed process left half done (the target missing, a complete new
    /// directory beside it: moved in) and deletes the leftovers of processes that no longer run.
    /// Best effort: a leftover that cannot be removed (read-only media) is left where it is.
    /// </summary>
    public static void Recover(string target)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        var parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent)) return;
        var pattern = new Regex($@"^\.{Regex.Escape(Path.GetFileName(full))}\.(\d+)\.[0-9a-f]{{32}}\.(tmp|new|old)$", RegexOptions.CultureInvariant);
        List<(string Path, string Kind)> stale;
        try
        {
            stale = Directory.EnumerateDirectories(parent, "." + Path.GetFileName(full) + ".*")
                .Select(d => (d, m: pattern.Match(Path.GetFileName(d))))
                .Where(x => x.m.Success && !IsRunning(int.Parse(x.m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)))
                .Select(x => (x.d, x.m.Groups[2].Value)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        if (stale.Count == 0) return;
        if (!Directory.Exists(full) && stale.Where(s => s.Kind == "new").OrderByDescending(s => Directory.GetLastWriteTimeUtc(s.Path)).FirstOrDefault() is { Path: not null } newest)
        {
            try { Directory.Move(newest.Path, full); stale.Remove(newest); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        }
        if (!Directory.Exists(full)) return;   // nothing complete to restore: leave the evidence alone
        foreach (var (path, _) in stale) DeleteQuietly(path);
    }

    private static string Sibling(string full, string id, string kind) => Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{id}.{kind}");

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void DeleteQuietly(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
