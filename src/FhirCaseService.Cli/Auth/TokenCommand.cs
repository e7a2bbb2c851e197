using System.CommandLine;
using System.Net;
using System.Text.Json;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.CommandLine;
using FhirCaseService.Cli.Export;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// `fhircase token`: one access token from a SMART Backend Services token endpoint, got exactly as `fhircase export`
/// gets its tokens, for scripts and curl (`TOKEN=$(fhircase token ...)`). stdout carries the token alone (or the token
/// response with --json); everything else goes to stderr.
/// </summary>
public sealed class TokenCommand : ICliCommand
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private static readonly Option<string?> ServerOption = CliParser.Value("--server", "the FHIR base URL");
    private static readonly Option<string?> ClientIdOption = CliParser.Value("--client-id", "SMART Backend Services client id");
    private static readonly Option<string?> KeyOption = CliParser.Value("--key", "the client's RSA or EC P-384 private key PEM");
    private static readonly Option<string?> KeyIdOption = CliParser.Value("--key-id", "the kid the server knows the key by");
    private static readonly Option<string?> ScopeOption = CliParser.Value("--scope", "space-separated scopes to ask for");
    private static readonly Option<string?> TokenUrlOption = CliParser.Value("--token-url", "the token endpoint (default: from smart-configuration)");
    private static readonly Option<bool> JsonOption = CliParser.Flag("--json", "print the whole token response");

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string Name => "token";

    public Command Grammar { get; } = CliParser.Grammar(
        "token", "get an access token as a SMART Backend Services client",
        ServerOption, ClientIdOption, KeyOption, KeyIdOption, ScopeOption, TokenUrlOption, JsonOption);

    public string Summary => "get an access token from a server as a SMART Backend Services client (for scripts and curl)";

    public string Usage => """
        usage: fhircase token --server URL --client-id ID --key KEY.pem [--key-id KID] [--scope SCOPES]
                              [--token-url URL] [--json]

        Signs a client assertion with KEY.pem (an RSA or EC P-384 private key PEM; RS384 or ES384), asks the token
        endpoint for a client_credentials token and prints the access token alone, so TOKEN=$(fhircase token ...)
        works; with --json prints the whole token response (access_token, token_type, expires_in, scope).
          --key-id KID     the kid the server knows the key by; default: the key's JWK thumbprint (as `fhircase jwks` prints)
          --scope SCOPES   space-separated scopes to ask for; default system/*.rs
          --token-url URL  default: the token_endpoint of [base]/.well-known/smart-configuration
        Exit codes: 0 printed, 2 usage error, an unreadable key, a server that cannot be reached, or a refusal (the
        server's error and error_description on stderr, e.g. invalid_scope or invalid_client).
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = CliParser.Parse(Grammar, arguments, out var error);
        Uri? server = null;
        Uri? tokenUrl = null;
        if (parsed is not null)
            error = Check(parsed, out server, out tokenUrl);
        if (parsed is null || error is not null)
        {
            await context.Error.WriteLineAsync($"fhircase token: {error}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var keyPath = parsed.GetValue(KeyOption)!;
        ClientSigningKey key;
        try
        {
            key = ClientSigningKey.FromPem(await File.ReadAllTextAsync(context.ResolvePath(keyPath), cancellationToken).ConfigureAwait(false), parsed.GetValue(KeyIdOption));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            await context.Error.WriteLineAsync($"fhircase token: --key {keyPath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var recorder = new TokenResponseRecorder(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All });
        using var http = new HttpClient(recorder) { Timeout = RequestTimeout };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"fhircase/{CliHttpClient.Version}");
        using (key)
        {
            var clientId = parsed.GetValue(ClientIdOption)!;
            var tokens = new BackendServicesTokenSource(
                http,
                new BackendServicesClient(clientId, key, parsed.GetValue(ScopeOption) ?? ExportArguments.DefaultScope, tokenUrl),
                server!,
                TimeProvider.System);
            string token;
            try
            {
                token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ServerErrorException e)
            {
                return await FailAsync(context, e.Message).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                return await FailAsync(context, $"cannot reach {tokenUrl ?? server}: {e.Message}").ConfigureAwait(false);
            }
            catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
            {
                return await FailAsync(context, $"the server did not answer within {RequestTimeout.TotalSeconds:0} s").ConfigureAwait(false);
            }

            if (parsed.GetValue(JsonOption) && recorder.LastTokenResponse is { } body)
            {
                using var document = JsonDocument.Parse(body);
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(document.RootElement, Indented)).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync(token).ConfigureAwait(false);
            }
            return ExitCodes.Success;
        }
    }

    private static string? Check(ParseResult parsed, out Uri? server, out Uri? tokenUrl)
    {
        server = null;
        tokenUrl = null;
        var serverText = parsed.GetValue(ServerOption);
        if (serverText is null)
            return "--server URL is required (the FHIR base URL, e.g. https://fhir.example.org/fhir)";
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out server) || server.Scheme is not ("http" or "https") || server.Query.Length > 0)
            return $"--server must be an http or https base URL without a query (got '{serverText}')";
        if (parsed.GetValue(ClientIdOption) is null || parsed.GetValue(KeyOption) is null)
            return "--client-id ID and --key KEY.pem are required (the client's id and its private key PEM file)";
        if (parsed.GetValue(TokenUrlOption) is { } tokenUrlText
            && (!Uri.TryCreate(tokenUrlText, UriKind.Absolute, out tokenUrl) || tokenUrl.Scheme is not ("http" or "https")))
            return $"--token-url must be an http or https URL (got '{tokenUrlText}')";
        return null;
    }

    private static async Task<int> FailAsync(CliContext context, string message)
    {
        await context.Error.WriteLineAsync($"fhircase token: {message}").ConfigureAwait(false);
        return ExitCodes.UsageOrInputError;
    }

    /// <summary>
    /// Keeps the body of the last successful JSON answer to a POST: the token response, which the token source reduces
    /// to the access token but --json prints whole. Only the token source uses this client, and its only POST is to the
    /// token endpoint.
    /// </summary>
    private sealed class TokenResponseRecorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public string? LastTokenResponse { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (request.Method == HttpMethod.Post && response.IsSuccessStatusCode)
            {
                // Buffered, so the token source can still read the body after it was read here.
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                LastTokenResponse = IsJsonObject(body) ? body : null;
            }
            return response;
        }

        private static bool IsJsonObject(string body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                return document.RootElement.ValueKind == JsonValueKind.Object;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
