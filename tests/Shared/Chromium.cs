using System.Diagnostics;

namespace Jianwei.Tests;

/// <summary>Headless Chromium (Debian's <c>chromium</c>), to check that HTML reports render.</summary>
public static class Chromium
{
    public static string? Path { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    /// <summary>Renders <paramref name="html"/> to a PNG; returns the browser's console messages and errors about the page.</summary>
    public static List<string> Screenshot(string html, string png, int width = 1340, int height = 2400)
    {
        var psi = new ProcessStartInfo(Path!)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                                  $"--screenshot={png}", $"--window-size={width},{height}", new Uri(System.IO.Path.GetFullPath(html)).AbsoluteUri })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("chromium did not finish in 2 minutes"); }
        // Console output and page-load failures; the sandbox's D-Bus complaints are not about the page.
        return stderr.Result.Split('\n').Where(l => l.Contains("CONSOLE", StringComparison.Ordinal) || l.Contains("Failed to load", StringComparison.Ordinal)
                                                    || l.Contains("Uncaught", StringComparison.Ordinal)).ToList();
    }
}

/// <summary>A fact that needs headless Chromium: reported as skipped (never passed) when it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null) Skip = "chromium is not installed (scripts/deps.sh installs it; apt-get install chromium)";
    }
}
