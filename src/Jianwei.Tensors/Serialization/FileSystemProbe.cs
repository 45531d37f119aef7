using System.Runtime.InteropServices;

namespace Jianwei.Tensors.Serialization;

/// <summary>What is at a path, as far as writing files there is concerned.</summary>
public enum PathKind
{
    /// <summary>Nothing.</summary>
    Absent,
    /// <summary>A regular file (after following symbolic links).</summary>
    RegularFile,
    /// <summary>A directory (after following symbolic links).</summary>
    Directory,
    /// <summary>A device, pipe or socket (<c>/dev/stdout</c>, <c>/dev/null</c>, a FIFO): written in place, never replaced.</summary>
    Special,
}

/// <summary>
/// The two file-system facts .NET does not expose: the kind of a path (is <c>/dev/stdout</c> a device?)
/// and an atomic exchange of two directories. On Linux they come from glibc's <c>statx</c> and
/// <c>renameat2(RENAME_EXCHANGE)</c>, whose argument layouts are the same on every architecture;
/// elsewhere the kind falls back to what .NET can tell and the exchange reports itself unavailable.
/// </summary>
public static partial class FileSystemProbe
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const uint RenameExchange = 0x2;
    private const ushort TypeMask = 0xF000, TypeRegular = 0x8000, TypeDirectory = 0x4000;

    /// <summary>The kind of <paramref name="path"/>, following symbolic links.</summary>
    public static unsafe PathKind Kind(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                byte* buffer = stackalloc byte[256];   // struct statx is 256 bytes; stx_mode is the u16 at offset 28
                if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return PathKind.Absent;
                ushort type = (ushort)(*(ushort*)(buffer + 28) & TypeMask);
                return type == TypeRegular ? PathKind.RegularFile : type == TypeDirectory ? PathKind.Directory : PathKind.Special;
            }
            catch (EntryPointNotFoundException) { }   // glibc before 2.28
            catch (DllNotFoundException) { }
        }
        if (Directory.Exists(path)) return PathKind.Directory;
        return File.Exists(path) ? PathKind.RegularFile : PathKind.Absent;
    }

    /// <summary>
    /// Swaps the names of two directories in one step: every reader sees one or the other at each
    /// name, never neither. False when the platform or file system cannot (then nothing changed).
    /// </summary>
    public static bool TryExchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            if (RenameAt2(AtFdCwd, a, AtFdCwd, b, RenameExchange) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            const int ENOSYS = 38, EINVAL = 22, ENOTSUP = 95;
            if (errno is ENOSYS or EINVAL or ENOTSUP) return false;
            throw new IOException($"{b}: cannot swap in the new directory ({Marshal.GetPInvokeErrorMessage(errno)}).");
        }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);
}
