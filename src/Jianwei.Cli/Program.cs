using System.CommandLine;

namespace Jianwei.Cli;

/// <summary>Entry point of the <c>jianwei</c> command.</summary>
public static class Program
{
    /// <summary>
    /// Runs the command line. Exit codes: 0 done; 2 a problem with the input (a bad file, option,
    /// bundle or output path), one line on standard error naming the file, line, column or field; 70
    /// a bug in Jianwei, one line pointing to a crash report; 130 interrupted.
    /// </summary>
    public static int Main(string[] args) => Run(args, Console.In, Console.Out, Console.Error);

    /// <summary>Runs with explicit streams (tests call this in-process).</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Jianwei 见微: credit-default prediction from tables and text.");
        root.Subcommands.Add(GenerateCommand.Create(stdout));
        root.Subcommands.Add(InspectCommand.Create(stdout));
        root.Subcommands.Add(TokenizeCommand.Create(stdin, stdout, stderr));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(TrainCommand.Create(stdout, stderr));
        root.Subcommands.Add(PredictCommand.Create(stdout));
        root.Subcommands.Add(EvaluateCommand.Create(stdout));
        root.Subcommands.Add(ExplainCommand.Create(stdout));
        root.Subcommands.Add(LeaderboardCommand.Create(stdout));
        root.Subcommands.Add(ServeCommand.Create(stdout));
        root.Subcommands.Add(BenchCommand.Create(stdout, stderr));
        root.Subcommands.Add(PretrainCommand.Create(stdout, stderr));
        foreach (var command in root.Subcommands) command.Options.Add(ConfigFile.HelpOption());
        try
        {
            if (args.Length > 0 && root.Subcommands.FirstOrDefault(c => c.Name == args[0]) is Command chosen) args = ConfigFile.Expand(args, chosen);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors) stderr.WriteLine($"jianwei: {e.Message}");
                return 2;
            }
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Unwrap(e) is var inner && UserFacing.Describe(inner) is string message)
        {
            stderr.WriteLine($"jianwei: {message}");
            return UserFacing.UserError;
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            stderr.WriteLine("jianwei: interrupted.");
            return UserFacing.Interrupted;
        }
        catch (Exception e)
        {
            return UserFacing.ReportBug(Unwrap(e), args, stderr);
        }
    }

    /// <summary>The one exception behind a parallel loop's or a task's wrapper.</summary>
    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: > 0 } a) e = a.InnerExceptions[0];
        return e;
    }
}

/// <summary>A mistake of the user's (bad file, bad option value): reported in one line, exit code 2, no stack trace.</summary>
public sealed class UserErrorException(string message) : Exception(message);
