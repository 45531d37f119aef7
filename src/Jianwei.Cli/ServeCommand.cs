using System.CommandLine;
using Jianwei.Models.Bundles;
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
        var drain = new Option<double>("--drain-seconds") { Description = "on SIGTERM or Ctrl+C, answer new requests with 503 for this long before closing (load balancers move away)", DefaultValueFactory = _ => 1 };
        var cmd = new Command("serve", """
            Serve a bundle over HTTP: POST /v1/score (a row object, a list, or {"rows": [...], "explain": true}),
            GET /v1/schema, GET /healthz, GET /metrics (Prometheus). Concurrent requests are scored together.
            Stops cleanly on Ctrl+C or SIGTERM, finishing requests in flight.

            Examples:
              jianwei serve model --urls http://127.0.0.1:8080
              curl -s localhost:8080/v1/score -d '{"registered_capital": 500, "industry": "retail", ...}'
            """) { bundleArg, urls, maxBytes, verbose, drain };
        cmd.SetAction(async (parse, cancel) =>
        {
            OptionChecks.Within(parse.GetValue(drain), "--drain-seconds", 0, 600, "seconds");
            var addresses = OptionChecks.Urls(parse.GetValue(urls)!);
            if (parse.GetValue(maxBytes) < 1) throw new UserErrorException("--max-request-bytes: at least 1.");
            using var bundle = ModelBundle.Load(parse.GetValue(bundleArg)!.FullName);   // an invalid bundle stops here, before the port opens
            await using var server = new ScoringServer(bundle, new ServerOptions
            {
                MaxRequestBytes = parse.GetValue(maxBytes), Verbose = parse.GetValue(verbose), DrainTime = TimeSpan.FromSeconds(parse.GetValue(drain)),
            });
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
