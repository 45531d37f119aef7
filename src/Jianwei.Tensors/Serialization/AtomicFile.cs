using System.Text;

namespace Jianwei.Tensors.Serialization;

/// <summary>A file could not be written; the message names the file and the system's reason (disk full, permission denied).</summary>
public sealed class FileWriteException(string path, Exception inner)
    : IOException($"{path}: cannot write ({FileWriteException.Reason(inner)}).", inner)
{
    /// <summary>The file that was being written.</summary>
    public string Path { get; } = path;

    /// <summary>The system's reason without the path .NET appends ("No space left on device", "permission denied").</summary>
    public static string Reason(Exception e)
    {
        if (e is UnauthorizedAccessException) return "permission denied";
        if (e is FileNotFoundException or DirectoryNotFoundException) return "its folder cannot hold new files";   // /proc, a vanished mount: the message would name our temporary file
        var message = e.Message;
        int cut = message.IndexOf(" : '", StringComparison.Ordinal);   // .NET on Unix: "No space left on device : '/path'"
        return (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }
}

/// <summary>
/// Atomic file replacement: write to a temporary file beside the target, flush, then rename over it,
/// so readers see the old file or the complete new one, never a partial one. A device or pipe
/// (<c>/dev/stdout</c>, a FIFO) is written in place instead — renaming over it would replace the
/// device node — and a directory is refused.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/>; failures are <see cref="FileWriteException"/>s naming <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        switch (FileSystemProbe.Kind(full))
        {
            case PathKind.Directory:
                throw new FileWriteException(full, new IOException("it is a directory; name a file"));
            case PathKind.Special:
                try
                {
                    using var device = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
                    write(device);
                    device.Flush();
                }
                catch (Exception e) when (e is (IOException or UnauthorizedAccessException) and not FileWriteException) { throw new FileWriteException(full, e); }
                return;
        }
        var dir = Path.GetDirectoryName(full)!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
            if (e is (IOException or UnauthorizedAccessException) and not FileWriteException) throw new FileWriteException(full, e);
            throw;
        }
    }

    /// <summary>Writes text atomically (UTF-8, no BOM).</summary>
    public static void WriteAllText(string path, string text) => Write(path, s => s.Write(new UTF8Encoding(false).GetBytes(text)));
}
