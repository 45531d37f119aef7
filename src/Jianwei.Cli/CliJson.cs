using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Jianwei.Cli;

/// <summary>Machine-readable output: the <c>--json</c> flag and how JSON is printed (indented, Chinese unescaped).</summary>
internal static class CliJson
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Option<bool> Flag() => new("--json") { Description = "print machine-readable JSON instead of text" };
}
