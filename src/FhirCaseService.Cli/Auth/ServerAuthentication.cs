using System.CommandLine;
using FhirCaseService.Cli.CommandLine;

namespace FhirCaseService.Cli.Auth;

/// <summary>
/// How a command that talks to a FHIR server authenticates: nothing, a fixed bearer token (--token or FHIRCASE_TOKEN),
/// or a SMART Backend Services client (--client-id and --key, with --key-id, --scope, --token-url). The options and
/// their checks are shared, so `fhircase export` and `fhircase import` accept exactly the same ones.
/// </summary>
public sealed record ServerAuthentication(string? Token, string? ClientId, string? KeyPath, string? KeyId, string Scope, Uri? TokenUrl)
{
    public const string TokenEnvironmentVariable = "FHIRCASE_TOKEN";

    private static readonly Option<string?> TokenOption = CliParser.Value("--token", "a bearer token (default: the FHIRCASE_TOKEN environment variable)");
    private static readonly Option<string?> ClientIdOption = CliParser.Value("--client-id", "SMART Backend Services client id");
    private static readonly Option<string?> KeyOption = CliParser.Value("--key", "the client's RSA or EC P-384 private key PEM");
    private static readonly Option<string?> KeyIdOption = CliParser.Value("--key-id", "the kid the server knows the key by");
    private static readonly Option<string?> ScopeOption = CliParser.Value("--scope", "space-separated scopes to ask for");
    private static readonly Option<string?> TokenUrlOption = CliParser.Value("--token-url", "the token endpoint (default: from smart-configuration)");

    public bool UsesBackendServices => ClientId is not null;

    /// <summary>The authorization options, for a command's grammar.</summary>
    public static IReadOnlyList<Option> Options { get; } = [TokenOption, ClientIdOption, KeyOption, KeyIdOption, ScopeOption, TokenUrlOption];

    /// <summary>The --server value as an http(s) base URL without a query; null with <paramref name="error"/> set otherwise.</summary>
    public static Uri? ParseServer(string? server, ref string? error)
    {
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
        return serverUri;
    }

    /// <summary>Reads the authorization options of a parsed command line; null with <paramref name="error"/> set when they do not fit together.</summary>
    public static ServerAuthentication? Parse(ParseResult result, Func<string, string?> environment, string defaultScope, ref string? error)
    {
        var token = result.GetValue(TokenOption);
        var clientId = result.GetValue(ClientIdOption);
        var key = result.GetValue(KeyOption);
        var keyId = result.GetValue(KeyIdOption);
        var scope = result.GetValue(ScopeOption);
        var tokenUrlText = result.GetValue(TokenUrlOption);
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
        if (clientId is null && (keyId ?? scope ?? tokenUrlText) is not null)
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
        if (clientId is null && token is null && environment(TokenEnvironmentVariable) is { Length: > 0 } environmentToken)
            token = environmentToken;
        return new ServerAuthentication(token, clientId, key, keyId, scope ?? defaultScope, tokenUrl);
    }

    /// <summary>
    /// Reads the --key PEM (null without Backend Services). Throws <see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>
    /// or <see cref="ArgumentException"/> with a message fit for stderr when it cannot be used.
    /// </summary>
    public async Task<ClientSigningKey?> LoadKeyAsync(CliContext context, CancellationToken cancellationToken) =>
        KeyPath is null
            ? null
            : ClientSigningKey.FromPem(await File.ReadAllTextAsync(context.ResolvePath(KeyPath), cancellationToken).ConfigureAwait(false), KeyId);

    /// <summary>Where the bearer token comes from: the fixed token, the Backend Services client, or nowhere (no Authorization header).</summary>
    public IAccessTokenSource? CreateTokenSource(ClientSigningKey? key, HttpClient http, Uri server)
    {
        if (Token is not null)
            return new FixedAccessToken(Token);
        if (ClientId is not null)
            return new BackendServicesTokenSource(http, new BackendServicesClient(ClientId, key!, Scope, TokenUrl), server, TimeProvider.System);
        return null;
    }
}
