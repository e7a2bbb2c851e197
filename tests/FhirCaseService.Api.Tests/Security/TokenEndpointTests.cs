using System.Net;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>POST /auth/token: SMART Backend Services client_credentials with a signed client assertion.</summary>
public sealed class TokenEndpointTests(SecuredServiceHost host) : IClassFixture<SecuredServiceHost>
{
    [Fact]
    public async System.Threading.Tasks.Task An_RS384_client_gets_a_short_lived_token_it_can_use()
    {
        var assertion = SecuredServiceHost.EhrKey.ClientAssertion(SecuredServiceHost.EhrClient, host.TokenEndpoint);
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/Patient.c system/Patient.rs"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("bearer", body.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(300, body.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Equal("system/Patient.c system/Patient.rs", body.RootElement.GetProperty("scope").GetString());

        var accessToken = body.RootElement.GetProperty("access_token").GetString()!;
        var claims = new JsonWebToken(accessToken);
        Assert.Equal(SecuredServiceHost.EhrClient, claims.Subject);
        Assert.Equal(SecuredServiceHost.EhrClient, claims.GetPayloadValue<string>("client_id"));
        Assert.Equal([SecuredServiceHost.Audience], claims.Audiences);
        Assert.False(string.IsNullOrEmpty(claims.Id));
        Assert.InRange(claims.ValidTo - claims.IssuedAt, TimeSpan.FromMinutes(4.9), TimeSpan.FromMinutes(5.1));

        using var client = host.ClientWithToken(accessToken);
        using var search = await client.GetAsync("/Patient");
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        using var observations = await client.GetAsync("/Observation");
        Assert.Equal(HttpStatusCode.Forbidden, observations.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_ES384_client_gets_a_token()
    {
        var assertion = SecuredServiceHost.RegistryKey.ClientAssertion(SecuredServiceHost.RegistryClient, host.TokenEndpoint);
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/*.rs"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        using var client = host.ClientWithToken(body.RootElement.GetProperty("access_token").GetString());
        using var search = await client.GetAsync("/Observation");
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_replayed_assertion_is_refused()
    {
        var assertion = SecuredServiceHost.RegistryKey.ClientAssertion(SecuredServiceHost.RegistryClient, host.TokenEndpoint);
        using var first = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/*.rs"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var replay = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/*.rs"));
        await AssertErrorAsync(replay, HttpStatusCode.Unauthorized, "invalid_client", "jti");
    }

    [Fact]
    public async System.Threading.Tasks.Task A_new_assertion_reusing_a_jti_is_refused()
    {
        var jti = Guid.NewGuid().ToString("N");
        using var first = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(
            SecuredServiceHost.RegistryKey.ClientAssertion(SecuredServiceHost.RegistryClient, host.TokenEndpoint, jti: jti), "system/*.rs"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var second = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(
            SecuredServiceHost.RegistryKey.ClientAssertion(SecuredServiceHost.RegistryClient, host.TokenEndpoint, jti: jti, expires: DateTime.UtcNow.AddMinutes(4)), "system/*.rs"));
        await AssertErrorAsync(second, HttpStatusCode.Unauthorized, "invalid_client", "jti");
    }

    public static TheoryData<string, string> RefusedAssertions()
    {
        var now = DateTime.UtcNow;
        return new TheoryData<string, string>
        {
            { "expired", "expired" },
            { "too-far-ahead", "five minutes" },
            { "wrong-aud", "aud" },
            { "unknown-client", "not registered" },
            { "unregistered-key", "signature" },
            { "unregistered-kid", "kid" },
            { "rs256", "RS384 or ES384" },
            { "iss-not-sub", "iss and sub" },
            { "garbage", "not a JWT" },
        };
    }

    [Theory]
    [MemberData(nameof(RefusedAssertions))]
    public async System.Threading.Tasks.Task A_bad_client_assertion_is_invalid_client(string kind, string reason)
    {
        var now = DateTime.UtcNow;
        var key = SecuredServiceHost.EhrKey;
        const string client = SecuredServiceHost.EhrClient;
        var endpoint = host.TokenEndpoint;
        var assertion = kind switch
        {
            "expired" => key.ClientAssertion(client, endpoint, notBefore: now.AddMinutes(-10), expires: now.AddMinutes(-5)),
            "too-far-ahead" => key.ClientAssertion(client, endpoint, expires: now.AddMinutes(10)),
            "wrong-aud" => key.ClientAssertion(client, "https://another-server.test/auth/token"),
            "unknown-client" => key.ClientAssertion("stranger", endpoint),
            "unregistered-key" => TestKey.Rsa(key.Kid).ClientAssertion(client, endpoint),
            "unregistered-kid" => TestKey.Rsa("stranger-key").ClientAssertion(client, endpoint),
            "rs256" => key.ClientAssertion(client, endpoint, algorithm: Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256),
            "iss-not-sub" => key.Sign(client, endpoint, new Dictionary<string, object> { ["sub"] = "someone-else", ["jti"] = Guid.NewGuid().ToString("N") }),
            _ => "garbage",
        };
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/*.c"));

        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client", reason);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_grant_other_than_client_credentials_is_unsupported()
    {
        var assertion = SecuredServiceHost.EhrKey.ClientAssertion(SecuredServiceHost.EhrClient, host.TokenEndpoint);
        var form = SecuredServiceHost.TokenForm(assertion, "system/*.c").Select(p => p.Key == "grant_type" ? new KeyValuePair<string, string>(p.Key, "password") : p);
        using var response = await host.RequestTokenAsync(form);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_grant_type", "client_credentials");
    }

    [Fact]
    public async System.Threading.Tasks.Task A_request_without_a_client_assertion_is_invalid_request()
    {
        using var response = await host.RequestTokenAsync([new("grant_type", "client_credentials"), new("scope", "system/*.c")]);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request", "client_assertion");
    }

    [Theory]
    [InlineData("system/Patient.xyz")]
    [InlineData("system/NotAType.rs")]
    [InlineData("launch openid")]
    public async System.Threading.Tasks.Task A_scope_the_server_does_not_know_is_invalid_scope(string scope)
    {
        var assertion = SecuredServiceHost.EhrKey.ClientAssertion(SecuredServiceHost.EhrClient, host.TokenEndpoint);
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, scope));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_scope", "not a scope this server knows");
    }

    [Fact]
    public async System.Threading.Tasks.Task A_request_for_nothing_the_client_may_have_is_invalid_scope()
    {
        var assertion = SecuredServiceHost.EhrKey.ClientAssertion(SecuredServiceHost.EhrClient, host.TokenEndpoint);
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/Observation.rs patient/*.read"));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_scope", "None of the requested scopes");
    }

    [Theory]
    [InlineData("system/*.cruds", "system/*.cu")]
    [InlineData("system/*.write", "system/*.cu")]
    [InlineData("system/*.cruds system/Patient.read patient/*.rs", "system/*.cu system/Patient.read")]
    [InlineData("system/Observation.cud system/AuditEvent.rs", "system/Observation.cu")]
    [InlineData("system/Patient.*", "system/Patient.crus")]
    public async System.Threading.Tasks.Task The_granted_scopes_are_those_asked_for_narrowed_to_the_registration(string requested, string granted)
    {
        var assertion = SecuredServiceHost.EhrKey.ClientAssertion(SecuredServiceHost.EhrClient, host.TokenEndpoint);
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, requested));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(granted, body.RootElement.GetProperty("scope").GetString());
        Assert.Equal(granted, new JsonWebToken(body.RootElement.GetProperty("access_token").GetString()).GetPayloadValue<string>("scope"));
    }

    private static async System.Threading.Tasks.Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error, string descriptionPart)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        using var body = JsonDocument.Parse(text);
        Assert.Equal(error, body.RootElement.GetProperty("error").GetString());
        Assert.Contains(descriptionPart, body.RootElement.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }
}
