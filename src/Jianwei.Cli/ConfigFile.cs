using System.CommandLine;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Jianwei.Cli;

/// <summary>
/// <c>--config FILE</c>: a command's options from a YAML or JSON file (JSON is YAML's flow style, so
/// one parser, YamlDotNet, reads both). Keys are option names without the dashes (<c>label</c>,
/// <c>preset</c>, <c>budget</c>, ...); a list becomes a comma-separated value; <c>true</c> turns a flag
/// on. Options given on the command line win over the file. An unknown key, or a file that does not
/// parse, is a user error naming the file, the line and the key.
/// </summary>
/// <example>
/// <code>
/// # train.yaml
/// label: default
/// preset: best
/// budget: 5
/// out: model
/// </code>
/// <c>jianwei train companies.csv --config train.yaml</c>
/// </example>
internal static class ConfigFile
{
    public const string OptionName = "--config";

    /// <summary>The option as it shows in <c>--help</c> (it is expanded before parsing).</summary>
    public static Option<FileInfo?> HelpOption() => new(OptionName) { Description = "read options from a YAML or JSON file (keys are option names without dashes; the command line wins)" };

    /// <summary>
    /// <paramref name="args"/> with <c>--config FILE</c> replaced by the file's options that the command
    /// line does not already give. <paramref name="command"/> is the subcommand the arguments run.
    /// </summary>
    public static string[] Expand(string[] args, Command command)
    {
        int at = Array.IndexOf(args, OptionName);
        if (at < 0) return args;
        if (at + 1 >= args.Length) throw new UserErrorException($"{OptionName}: name the file.");
        string path = args[at + 1];
        if (Directory.Exists(path)) throw new UserErrorException($"{OptionName}: {path}: is a directory; name a YAML or JSON file.");
        if (!File.Exists(path)) throw new UserErrorException($"{OptionName}: {path}: no such file.");
        var rest = args.Take(at).Concat(args.Skip(at + 2)).ToList();
        var given = rest.Where(a => a.StartsWith("--", StringComparison.Ordinal)).Select(a => a.Split('=')[0]).ToHashSet(StringComparer.Ordinal);
        var options = command.Options.Where(o => o.Name != OptionName && !o.Name.StartsWith("-h", StringComparison.Ordinal) && o.Name != "-?" && o.Name != "--help")
                                     .ToDictionary(o => o.Name.TrimStart('-'), StringComparer.Ordinal);
        foreach (var (key, value, line) in Read(path))
        {
            if (!options.TryGetValue(key, out var option))
                throw new UserErrorException($"{path}:{line}: '{key}' is not an option of 'jianwei {command.Name}' (options: {string.Join(", ", options.Keys.Order(StringComparer.Ordinal))}).");
            if (given.Contains(option.Name)) continue;                                         // the command line wins
            bool isFlag = option.ValueType == typeof(bool);
            if (isFlag)
            {
                if (value is not ("true" or "false")) throw new UserErrorException($"{path}:{line}: '{key}' is a flag: true or false, not '{value}'.");
                if (value == "true") rest.Add(option.Name);
                continue;
            }
            rest.Add(option.Name);
            rest.Add(value);
        }
        return [.. rest];
    }

    /// <summary>The top-level keys of a YAML/JSON mapping, with scalar (or comma-joined list) values and their lines.</summary>
    private static List<(string Key, string Value, long Line)> Read(string path)
    {
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlException e) { throw new UserErrorException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML or JSON ({e.InnerException?.Message ?? e.Message})."); }
        if (yaml.Documents.Count == 0) throw new UserErrorException($"{path}: the file is empty.");
        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new UserErrorException($"{path}:{yaml.Documents[0].RootNode.Start.Line}: expected a mapping of option names to values.");
        var result = new List<(string, string, long)>();
        foreach (var (keyNode, valueNode) in root.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? throw new UserErrorException($"{path}:{keyNode.Start.Line}: keys must be option names.");
            string value = valueNode switch
            {
                YamlScalarNode s => s.Value ?? "",
                YamlSequenceNode list when list.Children.All(c => c is YamlScalarNode) => string.Join(",", list.Children.Select(c => ((YamlScalarNode)c).Value)),
                _ => throw new UserErrorException($"{path}:{valueNode.Start.Line}: '{key}' must be a value or a list of values."),
            };
            result.Add((key, value, keyNode.Start.Line));
        }
        return result;
    }
}
