using System.Net;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>Bearer tokens the service refuses with 401, an OperationOutcome and an RFC 6750 challenge, and the ones it takes.</summary>
public sealed class TokenValidationTests(SecuredServiceHost host) : IClassFixture<SecuredServiceHost>
{
    private static readonly Dictionary<string, object> Claims = new() { ["sub"] = "test-client", ["client_id"] = "test-client", ["scope"] = "system/*.rs" };

    [Fact]
    public async System.Threading.Tasks.Task A_request_without_a_token_gets_401_with_a_bare_bearer_challenge()
    {
        using var client = host.ClientWithToken(null);
        using var response = await client.GetAsync("/Patient");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"fhircase\"", response.Headers.WwwAuthenticate.ToString());
        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(OperationOutcome.IssueType.Login, outcome.Issue.Single().Code);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_valid_token_of_the_external_issuer_is_accepted()
    {
        using var client = host.ClientWithToken(SecuredServiceHost.ExternalRsa.Sign(SecuredServiceHost.ExternalIssuer, SecuredServiceHost.Audience, Claims));
        using var response = await client.GetAsync("/Patient");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_ES256_token_of_the_external_issuer_is_accepted()
    {
        using var client = host.ClientWithToken(SecuredServiceHost.ExternalEc.Sign(SecuredServiceHost.ExternalIssuer, SecuredServiceHost.Audience, Claims));
        using var response = await client.GetAsync("/Patient");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> RefusedTokens()
    {
        var now = DateTime.UtcNow;
        var issuer = SecuredServiceHost.ExternalIssuer;
        var audience = SecuredServiceHost.Audience;
        var key = SecuredServiceHost.ExternalRsa;
        var valid = key.Sign(issuer, audience, Claims);
        var parts = valid.Split('.');
        var otherClaims = key.Sign(issuer, audience, new Dictionary<string, object>(Claims) { ["scope"] = "system/*.cruds" }).Split('.')[1];
        return new TheoryData<string, string>
        {
            { "not-a-jwt", "not a JWT" },
            { "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", "algorithm" },
            { key.Sign(issuer, audience, Claims, notBefore: now.AddMinutes(-20), expires: now.AddMinutes(-10)), "expired" },
            { key.Sign(issuer, audience, Claims, notBefore: now.AddMinutes(10), expires: now.AddMinutes(15)), "not valid yet" },
            { key.Sign(issuer, "https://another-server.test/fhir", Claims), "audience" },
            { key.Sign("https://rogue-as.test", audience, Claims), "issuer" },
            { $"{parts[0]}.{otherClaims}.{parts[2]}", "signature" },
            { TestKey.Rsa("external-rsa").Sign(issuer, audience, Claims), "signature" },
            { TestKey.Rsa("rolled-key-nobody-published").Sign(issuer, audience, Claims), "kid" },
        };
    }

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async System.Threading.Tasks.Task A_bad_token_gets_401_invalid_token_saying_why(string token, string reason)
    {
        using var client = host.ClientWithToken(token);
        using var response = await client.GetAsync("/Patient");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer realm=\"fhircase\", error=\"invalid_token\", error_description=\"", challenge, StringComparison.Ordinal);
        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(reason, outcome.Issue.Single().Diagnostics, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_token_signed_with_an_algorithm_outside_the_accepted_list_is_refused()
    {
        var token = SecuredServiceHost.ExternalRsa.Sign(SecuredServiceHost.ExternalIssuer, SecuredServiceHost.Audience, Claims,
            algorithm: Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha512);
        using var client = host.ClientWithToken(token);
        using var response = await client.GetAsync("/Patient");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("algorithm", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_token_within_the_clock_skew_of_its_expiry_is_still_accepted()
    {
        var now = DateTime.UtcNow;
        var token = SecuredServiceHost.ExternalRsa.Sign(SecuredServiceHost.ExternalIssuer, SecuredServiceHost.Audience, Claims,
            notBefore: now.AddMinutes(-5), expires: now.AddSeconds(-10));
        using var client = host.ClientWithToken(token);
        using var response = await client.GetAsync("/Patient");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
