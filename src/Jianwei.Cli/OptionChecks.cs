namespace Jianwei.Cli;

/// <summary>Checks on option values, made before any long work starts: each failure names its option.</summary>
internal static class OptionChecks
{
    /// <summary>A number option in [<paramref name="min"/>, <paramref name="max"/>]; NaN and infinities are refused too.</summary>
    public static double Within(double value, string option, double min, double max, string unit) =>
        double.IsFinite(value) && value >= min && value <= max ? value
            : throw new UserErrorException($"{option}: {unit} between {min:0.###} and {max:0.###}.");

    /// <summary>A whole-number option in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static int Within(int value, string option, int min, int max, string unit) =>
        value >= min && value <= max ? value : throw new UserErrorException($"{option}: {unit} between {min:N0} and {max:N0}.");

    /// <summary>Refuses a file option (<c>--out scores.csv</c>, <c>--report r.html</c>) that names a directory.</summary>
    public static void File(FileInfo? file, string option)
    {
        if (file is not null && Directory.Exists(file.FullName))
            throw new UserErrorException($"{option}: {file.FullName} is a directory; name a file to write (e.g. {Path.Combine(file.FullName, option == "--report" ? "report.html" : "scores.csv")}).");
    }

    /// <summary>Listening addresses: absolute http or https URLs (port 0 picks a free one).</summary>
    public static string[] Urls(string value)
    {
        var urls = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0) throw new UserErrorException("--urls: name at least one address, e.g. http://127.0.0.1:8080.");
        foreach (var url in urls)
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new UserErrorException($"--urls: '{url}' is not an http:// or https:// address (e.g. http://127.0.0.1:8080).");
        return urls;
    }
}
