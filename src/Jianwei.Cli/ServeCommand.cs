using System.CommandLine;
using Jianwei.Server;

namespace Jianwei.Cli;

/// <summary><c>jianwei serve BUNDLE [--urls URL]</c>: the HTTP scoring service until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var bundleArg = new Argument<DirectoryInfo>("BUNDLE") { Description = "a bundle directory written by jianwei train" };
        var urls = new Option<string>("--urls") { Description = "where to listen (semicolon-separated)", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var maxBytes = new Option<long>("--max-request-bytes") { Description = "largest request body", DefaultValueFactory = _ => 4 * 1024 * 1024 };
        var verbose = new Option<bool>("--verbose") { Description = "log every request" };
        var cmd = new Command("serve", """
            Serve a bundle over HTTP: POST /v1/score (a row object, a list, or {"rows": [...], "explain": true}),
            GET /v1/schema, GET /healthz, GET /metrics (Prometheus). Concurrent requests are scored together.
            Stops cleanly on Ctrl+C or SIGTERM, finishing requests in flight.

            Examples:
              jianwei serve model --urls http://127.0.0.1:8080
              curl -s localhost:8080/v1/score -d '{"registered_capital": 500, "industry": "retail", ...}'
            """) { bundleArg, urls, maxBytes, verbose };
        cmd.SetAction(async (parse, cancel) =>
        {
            using var bundle = ModelCommands.LoadBundle(parse.GetValue(bundleArg)!);
            await using var server = new ScoringServer(bundle, new ServerOptions { MaxRequestBytes = parse.GetValue(maxBytes), Verbose = parse.GetValue(verbose) });
            var addresses = parse.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            try
            {
                await server.RunAsync(addresses, bound =>
                {
                    stdout.WriteLine($"serving {parse.GetValue(bundleArg)!.FullName} on {string.Join(", ", bound)} (Ctrl+C stops)");
                    stdout.Flush();
                }, cancel);
            }
            catch (IOException e) { throw new UserErrorException($"--urls: cannot listen on {parse.GetValue(urls)} ({e.Message})."); }
            return 0;
        });
        return cmd;
    }
}
