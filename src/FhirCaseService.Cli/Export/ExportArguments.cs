using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.CommandLine;

namespace FhirCaseService.Cli.Export;

/// <summary>The parsed command line of `fhircase export`; the grammar is <see cref="Grammar"/>.</summary>
public sealed partial record ExportArguments(
    ExportRequestKey Request,
    string OutputDirectory,
    TimeSpan PollInterval,
    TimeSpan? Timeout,
    bool Quiet,
    bool Restart,
    ServerAuthentication Authentication)
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>What a SMART Backend Services client asks for by default: read and search of every type.</summary>
    public const string DefaultScope = "system/*.rs";

    private static readonly Option<string?> ServerOption = CliParser.Value("--server", "the FHIR base URL");
    private static readonly Option<string[]> TypeOption = CliParser.Repeatable("--type", "only these resource types (comma-separated)");
    private static readonly Option<string?> SinceOption = CliParser.Value("--since", "only resources changed after this instant");
    private static readonly Option<string?> GroupOption = CliParser.Value("--group", "the members of Group/ID and their data");
    private static readonly Option<string[]> TypeFilterOption = CliParser.Repeatable("--type-filter", "a search per type, e.g. Observation?code=...");
    private static readonly Option<string?> OutputOption = CliParser.Value("--output", "the folder the export's files go to", "-o");
    private static readonly Option<string?> PollIntervalOption = CliParser.Value("--poll-interval", "seconds between status checks when the server does not say");
    private static readonly Option<string?> TimeoutOption = CliParser.Value("--timeout", "give up after this many seconds");
    private static readonly Option<bool> QuietOption = CliParser.Flag("--quiet", "no progress on stderr", "-q");
    private static readonly Option<bool> RestartOption = CliParser.Flag("--restart", "discard the export recorded in the folder and start anew");

    public static Command Grammar { get; } = CliParser.Grammar(
        "export", "pull resources from a FHIR server with Bulk Data $export into a folder of NDJSON files",
        [ServerOption, TypeOption, SinceOption, GroupOption, TypeFilterOption, OutputOption, PollIntervalOption, TimeoutOption,
            QuietOption, RestartOption, .. ServerAuthentication.Options]);

    /// <summary>Returns the arguments, or null with <paramref name="error"/> set on a usage error.</summary>
    public static ExportArguments? Parse(IReadOnlyList<string> arguments, Func<string, string?> environment, out string? error)
    {
        var result = CliParser.Parse(Grammar, arguments, out error, "the output folder is given with -o DIR");
        if (result is null)
            return null;

        var serverUri = ServerAuthentication.ParseServer(result.GetValue(ServerOption), ref error);
        if (serverUri is null)
            return null;
        var output = result.GetValue(OutputOption);
        if (output is null)
        {
            error = "-o DIR is required (the folder the export's files go to)";
            return null;
        }

        var types = (result.GetValue(TypeOption) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
        var badType = types.FirstOrDefault(t => !ResourceTypeName().IsMatch(t));
        if (badType is not null)
        {
            error = $"--type: '{badType}' is not a resource type name";
            return null;
        }
        var since = result.GetValue(SinceOption);
        if (since is not null && !IsInstant(since))
        {
            error = $"--since must be a FHIR instant with a time zone, e.g. 2026-01-31T12:00:00Z (got '{since}')";
            return null;
        }
        var group = result.GetValue(GroupOption);
        if (group is not null && !ResourceId().IsMatch(group))
        {
            error = $"--group: '{group}' is not a FHIR id";
            return null;
        }
        var typeFilters = result.GetValue(TypeFilterOption) ?? [];
        var badFilter = typeFilters.FirstOrDefault(f => f.IndexOf('?') is var q && (q <= 0 || q == f.Length - 1 || !ResourceTypeName().IsMatch(f[..q])));
        if (badFilter is not null)
        {
            error = $"--type-filter must be a resource type and a search, e.g. \"Observation?code=http://loinc.org|51124-6\" (got '{badFilter}')";
            return null;
        }

        if (!CliParser.TryParseSeconds(result.GetValue(PollIntervalOption), "--poll-interval", out var pollInterval, ref error)
            || !CliParser.TryParseSeconds(result.GetValue(TimeoutOption), "--timeout", out var timeout, ref error))
            return null;

        var authentication = ServerAuthentication.Parse(result, environment, DefaultScope, ref error);
        if (authentication is null)
            return null;

        var request = new ExportRequestKey(
            serverUri.AbsoluteUri.TrimEnd('/'),
            group,
            [.. types.Order(StringComparer.Ordinal)],
            since,
            [.. typeFilters.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
        return new ExportArguments(request, output, pollInterval ?? DefaultPollInterval, timeout, result.GetValue(QuietOption), result.GetValue(RestartOption), authentication);
    }

    /// <summary>FHIR instant: seconds required, fractions optional, a time zone (Z or ±hh:mm) required.</summary>
    private static bool IsInstant(string text) =>
        Instant().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    [GeneratedRegex(@"^[A-Z][A-Za-z]{1,63}$")]
    private static partial Regex ResourceTypeName();

    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex ResourceId();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex Instant();
}

/// <summary>
/// What an export asks the server for, in a normal form (base URL without trailing slash, types and filters sorted):
/// two runs with equal keys are the same request, so the second resumes the first.
/// </summary>
public sealed record ExportRequestKey(string Server, string? Group, IReadOnlyList<string> Types, string? Since, IReadOnlyList<string> TypeFilters)
{
    public bool SameAs(ExportRequestKey other) =>
        Server == other.Server && Group == other.Group && Since == other.Since
        && Types.SequenceEqual(other.Types) && TypeFilters.SequenceEqual(other.TypeFilters);

    public override string ToString()
    {
        var parts = new List<string> { $"--server {Server}" };
        if (Group is not null)
            parts.Add($"--group {Group}");
        if (Types.Count > 0)
            parts.Add($"--type {string.Join(',', Types)}");
        if (Since is not null)
            parts.Add($"--since {Since}");
        parts.AddRange(TypeFilters.Select(f => $"--type-filter \"{f}\""));
        return string.Join(' ', parts);
    }
}
