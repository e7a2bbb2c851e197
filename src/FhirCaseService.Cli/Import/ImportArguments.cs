using System.CommandLine;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.CommandLine;

namespace FhirCaseService.Cli.Import;

/// <summary>The parsed command line of `fhircase import`; the grammar is <see cref="Grammar"/>.</summary>
public sealed record ImportArguments(
    IReadOnlyList<string> Inputs,
    Uri Server,
    TimeSpan PollInterval,
    TimeSpan? Timeout,
    bool Quiet,
    ServerAuthentication Authentication)
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>What a SMART Backend Services client asks for by default: create and update of every type.</summary>
    public const string DefaultScope = "system/*.cu";

    private static readonly Argument<string[]> InputsArgument = CliParser.Positionals("inputs", "NDJSON files, FHIR JSON resources or Bundles, or folders of them");
    private static readonly Option<string?> ServerOption = CliParser.Value("--server", "the FHIR base URL");
    private static readonly Option<string?> PollIntervalOption = CliParser.Value("--poll-interval", "seconds between status checks when the server does not say");
    private static readonly Option<string?> TimeoutOption = CliParser.Value("--timeout", "give up (and cancel the job) after this many seconds");
    private static readonly Option<bool> QuietOption = CliParser.Flag("--quiet", "no progress on stderr", "-q");

    public static Command Grammar { get; } = CliParser.Grammar(
        "import", "load NDJSON files and Bundles into a FHIR server with $import",
        [InputsArgument, ServerOption, PollIntervalOption, TimeoutOption, QuietOption, .. ServerAuthentication.Options]);

    /// <summary>Returns the arguments, or null with <paramref name="error"/> set on a usage error.</summary>
    public static ImportArguments? Parse(IReadOnlyList<string> arguments, Func<string, string?> environment, out string? error)
    {
        var result = CliParser.Parse(Grammar, arguments, out error);
        if (result is null)
            return null;
        var inputs = result.GetValue(InputsArgument) ?? [];
        if (inputs.Length == 0)
        {
            error = "no files given: name the NDJSON files, JSON resources or Bundles, or folders of them, to import";
            return null;
        }
        var server = ServerAuthentication.ParseServer(result.GetValue(ServerOption), ref error);
        if (server is null)
            return null;
        if (!CliParser.TryParseSeconds(result.GetValue(PollIntervalOption), "--poll-interval", out var pollInterval, ref error)
            || !CliParser.TryParseSeconds(result.GetValue(TimeoutOption), "--timeout", out var timeout, ref error))
            return null;
        var authentication = ServerAuthentication.Parse(result, environment, DefaultScope, ref error);
        if (authentication is null)
            return null;
        return new ImportArguments(inputs, new Uri(server.AbsoluteUri.TrimEnd('/')), pollInterval ?? DefaultPollInterval, timeout, result.GetValue(QuietOption), authentication);
    }
}
