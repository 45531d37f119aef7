using System.CommandLine;

namespace Jianwei.Cli;

/// <summary>Entry point of the <c>jianwei</c> command.</summary>
public static class Program
{
    /// <summary>Runs the command line; user errors exit with 2 and one line on standard error.</summary>
    public static int Main(string[] args) => Run(args, Console.In, Console.Out, Console.Error);

    /// <summary>Runs with explicit streams (tests call this in-process).</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Jianwei 见微: credit-default prediction from tables and text.");
        root.Subcommands.Add(GenerateCommand.Create(stdout));
        root.Subcommands.Add(InspectCommand.Create(stdout));
        root.Subcommands.Add(TokenizeCommand.Create(stdin, stdout, stderr));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(ModelCommands.Train(stdout, stderr));
        root.Subcommands.Add(ModelCommands.Predict(stdout));
        root.Subcommands.Add(ModelCommands.Evaluate(stdout));
        root.Subcommands.Add(ModelCommands.Explain(stdout));
        root.Subcommands.Add(ServeCommand.Create(stdout));
        root.Subcommands.Add(BenchCommand.Create(stdout, stderr));
        root.Subcommands.Add(PretrainCommand.Create(stdout, stderr));
        foreach (var command in root.Subcommands) command.Options.Add(ConfigFile.HelpOption());
        try
        {
            if (args.Length > 0 && root.Subcommands.FirstOrDefault(c => c.Name == args[0]) is Command chosen) args = ConfigFile.Expand(args, chosen);
        }
        catch (UserErrorException e)
        {
            stderr.WriteLine($"jianwei: {e.Message}");
            return 2;
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.WriteLine($"jianwei: {e.Message}");
            return 2;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (UserErrorException e)
        {
            stderr.WriteLine($"jianwei: {e.Message}");
            return 2;
        }
        catch (Jianwei.Data.DataFormatException e)
        {
            stderr.WriteLine($"jianwei: {e.Message}");
            return 2;
        }
    }
}

/// <summary>A mistake of the user's (bad file, bad option value): reported in one line, exit code 2, no stack trace.</summary>
public sealed class UserErrorException(string message) : Exception(message);
