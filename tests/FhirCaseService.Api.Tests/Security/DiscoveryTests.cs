using System.Net;
using System.Text.Json;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>What a SMART client finds before it has a token: smart-configuration, the CapabilityStatement's security, the signing key.</summary>
public sealed class DiscoveryTests(SecuredServiceHost host) : IClassFixture<SecuredServiceHost>
{
    [Fact]
    public async System.Threading.Tasks.Task Smart_configuration_describes_backend_services()
    {
        using var anonymous = host.ClientWithToken(null);
        using var response = await anonymous.GetAsync("/.well-known/smart-configuration");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.Equal(host.TokenEndpoint, root.GetProperty("token_endpoint").GetString());
        Assert.Equal(["private_key_jwt"], Strings(root, "token_endpoint_auth_methods_supported"));
        Assert.Equal(["RS384", "ES384"], Strings(root, "token_endpoint_auth_signing_alg_values_supported"));
        Assert.Equal(["client_credentials"], Strings(root, "grant_types_supported"));
        Assert.Equal(["client-confidential-asymmetric", "permission-v1", "permission-v2"], Strings(root, "capabilities"));
        Assert.Contains("system/*.rs", Strings(root, "scopes_supported"));
        Assert.Contains("system/*.read", Strings(root, "scopes_supported"));
    }

    [Fact]
    public async System.Threading.Tasks.Task The_CapabilityStatement_names_SMART_on_FHIR_and_the_token_endpoint()
    {
        using var anonymous = host.ClientWithToken(null);
        using var response = await anonymous.GetAsync("/metadata");

        var statement = FhirSerialization.StrictJson.Deserialize<CapabilityStatement>(await response.Content.ReadAsStringAsync())!;
        var security = statement.Rest.Single().Security;
        Assert.NotNull(security);
        var service = Assert.Single(security.Service).Coding.Single();
        Assert.Equal(("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR"), (service.System, service.Code));
        var oauthUris = security.GetExtension("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
        var token = Assert.IsType<FhirUri>(oauthUris?.GetExtension("token")?.Value);
        Assert.Equal(host.TokenEndpoint, token.Value);
    }

    [Fact]
    public async System.Threading.Tasks.Task The_service_publishes_the_public_key_of_its_tokens_and_no_private_part()
    {
        using var anonymous = host.ClientWithToken(null);
        var jwks = await anonymous.GetStringAsync("/auth/jwks");

        using var document = JsonDocument.Parse(jwks);
        var key = Assert.Single(document.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.False(key.TryGetProperty("d", out _));
        var assertion = SecuredServiceHost.RegistryKey.ClientAssertion(SecuredServiceHost.RegistryClient, host.TokenEndpoint);
        using var token = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/*.rs"));
        using var body = JsonDocument.Parse(await token.Content.ReadAsStringAsync());
        var kid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(body.RootElement.GetProperty("access_token").GetString()).Kid;
        Assert.Equal(key.GetProperty("kid").GetString(), kid);
    }

    private static string[] Strings(JsonElement root, string name) => [.. root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
