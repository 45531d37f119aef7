using System.Diagnostics;

namespace Jianwei.Cli.Tests;

/// <summary>Running the real command: in process (fast; an escaping exception fails the test) or as a process (exit codes, crashes, hangs).</summary>
internal static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Program.Run(args, new StringReader(""), o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>The <c>jianwei</c> program beside the tests, run with <c>dotnet</c>.</summary>
    public static string Program_ => Path.Combine(AppContext.BaseDirectory, "jianwei.dll");

    /// <summary>
    /// Runs <c>jianwei</c> as a process; a run past <paramref name="timeout"/> is killed and reported
    /// with code -1 (a hang). <paramref name="wrap"/> prefixes the command (e.g. setpriv to run as another user).
    /// </summary>
    public static (int Code, string Out, string Err) RunProcess(string[] args, string? workingDirectory = null, TimeSpan? timeout = null, string[]? wrap = null)
    {
        var psi = new ProcessStartInfo(wrap is { Length: > 0 } ? wrap[0] : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in (wrap ?? []).Skip(1)) psi.ArgumentList.Add(a);
        if (wrap is { Length: > 0 }) psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(Program_);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment.Remove("JIANWEI_DEBUG");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, stdout.Result, stderr.Result + "\n(killed: it ran past the time limit)");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Every file under <paramref name="dir"/> with its bytes, to prove nothing was touched.</summary>
    public static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    public static void AssertUnchanged(Dictionary<string, byte[]> before, string dir)
    {
        var after = Snapshot(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
    }

    /// <summary>A user error: code 2, one "jianwei:" line on stderr (after any progress lines) that contains <paramref name="expected"/>, no stack trace.</summary>
    public static string AssertUserError((int Code, string Out, string Err) run, string expected)
    {
        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Err}");
        var errors = run.Err.Split('\n').Where(l => l.StartsWith("jianwei: ", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains(expected, errors[0]);
        Assert.DoesNotContain("   at ", run.Err);
        return errors[0];
    }
}
