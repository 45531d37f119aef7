namespace Jianwei.Tests;

/// <summary>Locates ../shared (beside the repository root); JIANWEI_SHARED overrides.</summary>
public static class SharedData
{
    public static string? Root { get; } = Find();

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("JIANWEI_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jianwei.sln")))
            {
                var shared = Path.Combine(dir.FullName, "..", "shared");
                return Directory.Exists(shared) ? Path.GetFullPath(shared) : null;
            }
        }
        return null;
    }

    public static string Path_(params string[] parts) => Path.Combine([Root ?? throw new InvalidOperationException("../shared is absent"), .. parts]);
}

/// <summary>A fact that needs ../shared: reported as skipped (never passed) when the folder is absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (SharedData.Root is null) Skip = "../shared is absent (tests that read the shared fixtures and datasets are skipped)";
    }
}

/// <summary>A theory that needs ../shared: reported as skipped (never passed) when the folder is absent.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (SharedData.Root is null) Skip = "../shared is absent (tests that read the shared fixtures and datasets are skipped)";
    }
}
