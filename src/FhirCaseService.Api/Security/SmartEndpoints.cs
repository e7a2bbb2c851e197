using System.Text.Json.Nodes;
using FhirCaseService.Api.Metadata;
using Hl7.Fhir.Model;
using Microsoft.IdentityModel.Tokens;

namespace FhirCaseService.Api.Security;

/// <summary>
/// What a SMART client discovers: <c>/.well-known/smart-configuration</c>, the CapabilityStatement's rest.security,
/// and the service's token-signing public key at <c>/auth/jwks</c>. Plus the token endpoint itself.
/// </summary>
public static class SmartEndpoints
{
    public const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    public const string SecurityServiceSystem = "http://terminology.hl7.org/CodeSystem/restful-security-service";

    public static readonly string[] Capabilities = ["client-confidential-asymmetric", "permission-v1", "permission-v2"];

    /// <summary>Examples of what may be asked; any system/Type scope works (docs/authorization.md).</summary>
    public static readonly string[] ScopesSupported =
    [
        "system/*.read", "system/*.write", "system/*.*", "system/*.rs", "system/*.cud", "system/*.cu", "system/*.cruds",
        "system/AuditEvent.read", "system/AuditEvent.rs",
    ];

    public static IEndpointRouteBuilder MapSmartDiscoveryAndToken(this IEndpointRouteBuilder app)
    {
        app.MapGet(AuthorizationUrls.SmartConfigurationPath, SmartConfiguration)
            .WithName("SmartConfiguration").WithTags("Authorization")
            .WithSummary("SMART App Launch discovery: the token endpoint, the client authentication it takes and the scopes it grants.")
            .AllowPublicAccess();
        app.MapPost(AuthorizationUrls.TokenPath, (HttpContext context, TokenEndpoint endpoint) => endpoint.HandleAsync(context))
            .WithName("Token").WithTags("Authorization")
            .WithSummary("SMART Backend Services token endpoint: grant_type=client_credentials with a private_key_jwt client assertion (RS384/ES384).")
            .DisableAntiforgery()
            .AllowPublicAccess();
        app.MapGet(AuthorizationUrls.JwksPath, (ServiceSigningKey key) => Results.Text(JwksJson(key), "application/json"))
            .WithName("TokenSigningKeys").WithTags("Authorization")
            .WithSummary("The public key that signs this service's access tokens (JWKS).")
            .AllowPublicAccess();
        return app;
    }

    private static IResult SmartConfiguration(HttpRequest request, AuthorizationUrls urls)
    {
        var document = new JsonObject
        {
            ["issuer"] = urls.Issuer(request),
            ["jwks_uri"] = urls.BaseOf(request) + AuthorizationUrls.JwksPath,
            ["token_endpoint"] = urls.TokenEndpoint(request),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt"),
            ["token_endpoint_auth_signing_alg_values_supported"] = new JsonArray([.. TokenEndpoint.AssertionAlgorithms.Select(a => JsonValue.Create(a))]),
            ["grant_types_supported"] = new JsonArray(TokenEndpoint.ClientCredentials),
            ["scopes_supported"] = new JsonArray([.. ScopesSupported.Select(s => JsonValue.Create(s))]),
            ["capabilities"] = new JsonArray([.. Capabilities.Select(c => JsonValue.Create(c))]),
        };
        return Results.Text(document.ToJsonString(), "application/json");
    }

    private static string JwksJson(ServiceSigningKey key)
    {
        var jwk = key.PublicJwk;
        var json = new JsonObject { ["kty"] = jwk.Kty, ["use"] = jwk.Use, ["alg"] = jwk.Alg, ["kid"] = jwk.Kid };
        if (jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA)
        {
            json["n"] = jwk.N;
            json["e"] = jwk.E;
        }
        else
        {
            json["crv"] = jwk.Crv;
            json["x"] = jwk.X;
            json["y"] = jwk.Y;
        }
        return new JsonObject { ["keys"] = new JsonArray(json) }.ToJsonString();
    }

    /// <summary>The CapabilityStatement's rest.security: SMART-on-FHIR, and where the token endpoint is.</summary>
    public static CapabilityStatement.SecurityComponent Security(string tokenEndpoint) => new()
    {
        Cors = false,
        Service = [new CodeableConcept(SecurityServiceSystem, "SMART-on-FHIR", "SMART-on-FHIR")],
        Description = "SMART Backend Services: get a token at the token endpoint with grant_type=client_credentials and a " +
                      "private_key_jwt client assertion (RS384/ES384), then send it as Authorization: Bearer. " +
                      "Scopes: system/Type.cruds (SMART v2) or system/Type.read|write (v1). See /.well-known/smart-configuration.",
        Extension =
        [
            new Extension { Url = OAuthUrisExtension, Extension = [new Extension("token", new FhirUri(tokenEndpoint))] },
        ],
    };
}
