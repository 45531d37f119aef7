using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jianwei.Tensors.Serialization;

/// <summary>
/// A working directory a command writes files into (pretraining runs, generated data, the demo):
/// it may be new, empty, or one the same command wrote before — known by its marker file,
/// <c>{"format": KIND}</c>. Any other directory is refused before any work starts, so a command
/// never writes over files a user keeps there.
/// </summary>
public static class OwnedDirectory
{
    /// <summary>
    /// Claims <paramref name="directory"/> for the command whose marker is <paramref name="markerFile"/>
    /// saying <paramref name="kind"/>: creates it (and the marker) when absent or empty, accepts it when
    /// the marker says so or <paramref name="isLegacy"/> recognizes a layout written before markers
    /// existed; otherwise throws a <see cref="DirectoryNotReplaceableException"/> saying what is there.
    /// </summary>
    public static string Claim(string directory, string markerFile, string kind, Func<string, bool>? isLegacy = null)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var marker = Path.Combine(full, markerFile);
        switch (FileSystemProbe.Kind(full))
        {
            case PathKind.RegularFile or PathKind.Special:
                throw new DirectoryNotReplaceableException(full, "is a file, not a directory.");
            case PathKind.Directory when Directory.EnumerateFileSystemEntries(full).Any():
                if (MarkerKind(marker) == kind || isLegacy?.Invoke(full) == true) break;
                throw new DirectoryNotReplaceableException(full, Refusal(full, markerFile, kind));
        }
        if (MarkerKind(marker) != kind)
            AtomicFile.WriteAllText(marker, new JsonObject { ["format"] = kind, ["created"] = DateTime.UtcNow.ToString("O") }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return full;
    }

    /// <summary>Why a non-empty directory is not ours: what it holds, and what to do.</summary>
    public static string Refusal(string directory, string markerFile, string kind)
    {
        var entries = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        string listed = string.Join(", ", entries.Take(3)) + (entries.Count > 3 ? $", … ({entries.Count} entries)" : "");
        return $"the directory exists and was not written by this command (no {markerFile} saying \"{kind}\"); it holds {listed}. "
               + "Nothing was written: name a new or empty directory.";
    }

    /// <summary>The "format" a marker file declares, or null when it is missing or unreadable.</summary>
    public static string? MarkerKind(string markerPath)
    {
        try { return File.Exists(markerPath) && JsonNode.Parse(File.ReadAllText(markerPath)) is JsonObject o && o["format"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null; }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException) { return null; }
    }
}
