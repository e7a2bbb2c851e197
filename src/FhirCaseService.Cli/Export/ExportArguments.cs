using System.Globalization;
using System.Text.RegularExpressions;

namespace FhirCaseService.Cli.Export;

/// <summary>How the command authenticates: nothing, a fixed bearer token, or a SMART Backend Services client.</summary>
public sealed record ExportAuthentication(string? Token, string? ClientId, string? KeyPath, string? KeyId, string Scope, Uri? TokenUrl)
{
    public const string DefaultScope = "system/*.rs";

    public bool UsesBackendServices => ClientId is not null;
}

/// <summary>
/// The parsed command line of `fhircase export`. Parsed here rather than with <see cref="CommandArguments"/> because
/// --type and --type-filter may be repeated.
/// </summary>
public sealed partial record ExportArguments(
    ExportRequestKey Request,
    string OutputDirectory,
    TimeSpan PollInterval,
    TimeSpan? Timeout,
    bool Quiet,
    bool Restart,
    ExportAuthentication Authentication)
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    private static readonly string[] ValueOptions =
    [
        "--server", "--type", "--since", "--group", "--type-filter", "--output", "--poll-interval", "--timeout",
        "--token", "--client-id", "--key", "--key-id", "--scope", "--token-url",
    ];

    private static readonly string[] RepeatableOptions = ["--type", "--type-filter"];

    /// <summary>Returns the arguments, or null with <paramref name="error"/> set on a usage error.</summary>
    public static ExportArguments? Parse(IReadOnlyList<string> arguments, Func<string, string?> environment, out string? error)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var quiet = false;
        var restart = false;
        error = null;

        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument is "--quiet" or "-q")
            {
                quiet = true;
                continue;
            }
            if (argument == "--restart")
            {
                restart = true;
                continue;
            }
            if (!argument.StartsWith('-'))
            {
                error = $"unexpected argument '{argument}' (the output folder is given with -o DIR)";
                return null;
            }
            var equals = argument.IndexOf('=');
            var name = argument.StartsWith("--", StringComparison.Ordinal) && equals > 0 ? argument[..equals] : argument;
            if (name == "-o")
                name = "--output";
            if (!ValueOptions.Contains(name))
            {
                error = $"unknown option {argument}";
                return null;
            }
            var value = equals > 0 && name != "-o" && argument.StartsWith("--", StringComparison.Ordinal)
                ? argument[(equals + 1)..]
                : i + 1 < arguments.Count ? arguments[++i] : null;
            if (string.IsNullOrEmpty(value))
            {
                error = $"option {name} needs a value";
                return null;
            }
            if (!values.TryGetValue(name, out var list))
                values[name] = list = [];
            else if (!RepeatableOptions.Contains(name))
            {
                error = $"option {name} given more than once";
                return null;
            }
            list.Add(value);
        }

        string? Single(string name) => values.TryGetValue(name, out var list) ? list[0] : null;
        IReadOnlyList<string> All(string name) => values.TryGetValue(name, out var list) ? list : [];

        var server = Single("--server");
        if (server is null)
        {
            error = "--server URL is required (the FHIR base URL, e.g. https://fhir.example.org/fhir)";
            return null;
        }
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("http" or "https") || serverUri.Query.Length > 0)
        {
            error = $"--server must be an http or https base URL without a query (got '{server}')";
            return null;
        }
        var output = Single("--output");
        if (output is null)
        {
            error = "-o DIR is required (the folder the export's files go to)";
            return null;
        }

        var types = All("--type").SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
        var badType = types.FirstOrDefault(t => !ResourceTypeName().IsMatch(t));
        if (badType is not null)
        {
            error = $"--type: '{badType}' is not a resource type name";
            return null;
        }
        var since = Single("--since");
        if (since is not null && !IsInstant(since))
        {
            error = $"--since must be a FHIR instant with a time zone, e.g. 2026-01-31T12:00:00Z (got '{since}')";
            return null;
        }
        var group = Single("--group");
        if (group is not null && !ResourceId().IsMatch(group))
        {
            error = $"--group: '{group}' is not a FHIR id";
            return null;
        }
        var typeFilters = All("--type-filter");
        var badFilter = typeFilters.FirstOrDefault(f => f.IndexOf('?') is var q && (q <= 0 || q == f.Length - 1 || !ResourceTypeName().IsMatch(f[..q])));
        if (badFilter is not null)
        {
            error = $"--type-filter must be a resource type and a search, e.g. \"Observation?code=http://loinc.org|51124-6\" (got '{badFilter}')";
            return null;
        }

        if (!TryParseSeconds(Single("--poll-interval"), "--poll-interval", out var pollInterval, ref error)
            || !TryParseSeconds(Single("--timeout"), "--timeout", out var timeout, ref error))
            return null;

        var authentication = ParseAuthentication(Single, environment, ref error);
        if (authentication is null)
            return null;

        var request = new ExportRequestKey(
            serverUri.AbsoluteUri.TrimEnd('/'),
            group,
            [.. types.Order(StringComparer.Ordinal)],
            since,
            [.. typeFilters.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
        return new ExportArguments(request, output, pollInterval ?? DefaultPollInterval, timeout, quiet, restart, authentication);
    }

    private static ExportAuthentication? ParseAuthentication(Func<string, string?> single, Func<string, string?> environment, ref string? error)
    {
        var token = single("--token");
        var clientId = single("--client-id");
        var key = single("--key");
        var tokenUrlText = single("--token-url");
        if (token is not null && clientId is not null)
        {
            error = "give either --token or --client-id with --key, not both";
            return null;
        }
        if ((clientId is null) != (key is null))
        {
            error = "--client-id and --key go together (the client's id and its private key PEM file)";
            return null;
        }
        if (clientId is null && (single("--key-id") ?? single("--scope") ?? tokenUrlText) is not null)
        {
            error = "--key-id, --scope and --token-url only apply with --client-id and --key";
            return null;
        }
        Uri? tokenUrl = null;
        if (tokenUrlText is not null && (!Uri.TryCreate(tokenUrlText, UriKind.Absolute, out tokenUrl) || tokenUrl.Scheme is not ("http" or "https")))
        {
            error = $"--token-url must be an http or https URL (got '{tokenUrlText}')";
            return null;
        }
        if (clientId is null && token is null && environment("FHIRCASE_TOKEN") is { Length: > 0 } environmentToken)
            token = environmentToken;
        return new ExportAuthentication(token, clientId, key, single("--key-id"), single("--scope") ?? ExportAuthentication.DefaultScope, tokenUrl);
    }

    private static bool TryParseSeconds(string? text, string name, out TimeSpan? value, ref string? error)
    {
        value = null;
        if (text is null)
            return true;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0) || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            error = $"{name} must be a positive number of seconds (got '{text}')";
            return false;
        }
        value = TimeSpan.FromSeconds(seconds);
        return true;
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
