using System.Diagnostics;

namespace Jianwei.Bench;

/// <summary>
/// The bench project turns tiered compilation off so that kernels are measured fully optimized from
/// their first call. Code paths that run mostly through other libraries' small methods — CsvHelper's
/// reader, ASP.NET Core's Kestrel — are different: in the shipped <c>jianwei</c> (tiered compilation
/// with dynamic PGO, the .NET default) they are re-compiled with profile data, devirtualized and
/// inlined. Benchmarks of those paths re-run themselves under that configuration, so they measure
/// what a user runs.
/// </summary>
internal static class ShippedJit
{
    /// <summary>Written into each JSON line of the benchmarks that use it.</summary>
    public const string Name = "tiered-pgo";

    /// <summary>
    /// True when this process already runs the shipped configuration. Otherwise runs
    /// <c>bench MODE ARGS</c> again in a child process under it and returns its exit code.
    /// </summary>
    public static bool IsActive(string mode, string[] args, out int childExitCode)
    {
        childExitCode = 0;
        if (Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "1") return true;
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        // Under `dotnet Jianwei.Bench.dll` the host is dotnet and the assembly comes first.
        if (!Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("Jianwei.Bench", StringComparison.Ordinal))
            start.ArgumentList.Add(typeof(ShippedJit).Assembly.Location);
        start.ArgumentList.Add(mode);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_TieredCompilation"] = "1";
        start.Environment["DOTNET_TieredPGO"] = "1";
        using var child = Process.Start(start)!;
        child.WaitForExit();
        childExitCode = child.ExitCode;
        return false;
    }
}
