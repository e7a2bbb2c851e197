using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.CommandLine;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// `fhircase jwks KEY.pem`: the JWKS a server registers for a SMART Backend Services client, made from the client's key
/// with nothing but this tool (no Node or Python JWK utilities on a fresh machine). Only public members are printed.
/// </summary>
public sealed class JwksCommand : ICliCommand
{
    private static readonly Argument<string[]> KeyArgument = CliParser.Positionals("key.pem", "an RSA or EC P-384 key, private or public PEM");
    private static readonly Option<string?> KidOption = CliParser.Value("--kid", "the key id (default: the key's JWK thumbprint)");
    private static readonly Option<string?> AlgOption = CliParser.Value("--alg", "RS384 or ES384; must match the key");

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string Name => "jwks";

    public Command Grammar { get; } = CliParser.Grammar("jwks", "print the public JWKS of a client's key", KeyArgument, KidOption, AlgOption);

    public string Summary => "print the public JWKS of a client's RSA or EC P-384 key, to register the client with a server";

    public string Usage => """
        usage: fhircase jwks <key.pem> [--kid KID] [--alg RS384|ES384]

        Reads an RSA (2048 bits or more) or EC P-384 key, private or public PEM as openssl writes it, and prints
        {"keys":[{...}]} with the public key only, "use":"sig", "alg" and "kid". The default kid is the key's RFC 7638
        JWK thumbprint, which is also the kid `fhircase export`/`fhircase token --key` sign with when no --key-id
        is given. --alg defaults to RS384 for RSA keys and ES384 for EC keys and must match the key.
        Exit codes: 0 printed, 2 usage error or a key that cannot be read or is not supported (e.g. EC P-256).
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = CliParser.Parse(Grammar, arguments, out var error);
        var keys = parsed?.GetValue(KeyArgument) ?? [];
        if (parsed is not null && keys.Length != 1)
            error = keys.Length == 0 ? "give the key's PEM file" : "give exactly one key file";
        if (parsed is null || error is not null)
        {
            await context.Error.WriteLineAsync($"fhircase jwks: {error}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var path = keys[0];
        PublicJsonWebKey key;
        try
        {
            key = PublicJsonWebKey.FromPem(await File.ReadAllTextAsync(context.ResolvePath(path), cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            await context.Error.WriteLineAsync($"fhircase jwks: {path}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        if (parsed.GetValue(AlgOption) is { } algorithm && algorithm != key.Algorithm)
        {
            await context.Error.WriteLineAsync(
                $"fhircase jwks: --alg {algorithm} does not fit this {key.KeyType} key; it signs {key.Algorithm} (the only algorithm fhircase uses for it)").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var kid = parsed.GetValue(KidOption) ?? key.Thumbprint();
        var jwks = new JsonObject { ["keys"] = new JsonArray(key.ToJson(kid)) };
        await context.Out.WriteLineAsync(jwks.ToJsonString(Indented)).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
