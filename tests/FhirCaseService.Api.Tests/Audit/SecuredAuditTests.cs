using System.Net;
using FhirCaseService.Api.Tests.Security;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Audit;

/// <summary>Authorization on, with a short audit flush interval.</summary>
public sealed class SecuredAuditServiceHost() : SecuredServiceHost(new SqliteTestDatabase(), "Development", new Dictionary<string, string?>
{
    ["Authorization:Enabled"] = "true",
    ["Audit:FlushInterval"] = "00:00:00.020",
});

/// <summary>With authorization on: the token's client is who the trail names, refusals are on it, and reading it takes an audit scope.</summary>
public sealed class SecuredAuditTests(SecuredAuditServiceHost host) : IClassFixture<SecuredAuditServiceHost>
{
    private const string AuditorScope = "system/AuditEvent.rs";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private async Task<AuditEvent> WaitForAsync(string query, Func<AuditEvent, bool> match)
    {
        using var auditor = host.ClientWithScopes(AuditorScope);
        var deadline = DateTimeOffset.UtcNow + Timeout;
        while (true)
        {
            var response = await auditor.GetAsync("/AuditEvent?" + query);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
            var found = FhirSerialization.StrictJson.Deserialize<Bundle>(body).Entry.Select(e => (AuditEvent)e.Resource!).ToList();
            if (found.FirstOrDefault(match) is { } hit)
                return hit;
            Assert.True(DateTimeOffset.UtcNow < deadline, $"no matching AuditEvent for {query}; found: {string.Join("; ", found.Select(AuditTrailClient.Describe))}");
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task The_tokens_client_id_is_recorded_as_the_requestor()
    {
        var reader = "reader-" + Guid.NewGuid().ToString("N");
        using var client = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/Patient.rs", reader));
        var id = "unknown-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/Patient/{id}")).StatusCode);

        var recorded = await WaitForAsync($"entity=Patient/{id}&agent={reader}", _ => true);

        var who = recorded.Agent.Single(a => a.Requestor == true).Who!.Identifier!;
        Assert.Equal((AuditTrailClient.ClientIdSystem, reader), (who.System, who.Value));
        Assert.Equal(("read", AuditEvent.AuditEventOutcome.N4), (AuditTrailClient.Subtype(recorded), recorded.Outcome));
    }

    [Fact]
    public async Task A_token_request_is_recorded_under_the_client_its_assertion_proved()
    {
        var assertion = SecuredServiceHost.EhrKey.ClientAssertion(SecuredServiceHost.EhrClient, host.TokenEndpoint);
        var requested = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        using var response = await host.RequestTokenAsync(SecuredServiceHost.TokenForm(assertion, "system/Patient.rs"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var recorded = await WaitForAsync($"agent={SecuredServiceHost.EhrClient}&date=ge{requested}", e => e.Type?.Code == "110114");

        Assert.Equal(AuditEvent.AuditEventOutcome.N0, recorded.Outcome);
    }

    [Fact]
    public async Task Requests_refused_by_authorization_are_recorded_with_outcome_4()
    {
        var id = "refused-" + Guid.NewGuid().ToString("N");
        using var anonymous = host.ClientWithToken(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/Patient/{id}")).StatusCode);

        var recorded = await WaitForAsync($"entity=Patient/{id}", e => e.OutcomeDesc == "401 Unauthorized");
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, recorded.Outcome);
    }

    [Fact]
    public async Task Searching_the_trail_needs_an_audit_scope_the_wildcard_read_scope_is_refused()
    {
        var wildcard = "wildcard-" + Guid.NewGuid().ToString("N");
        using var registry = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.rs", wildcard));

        var search = await registry.GetAsync("/AuditEvent");
        var read = await registry.GetAsync("/AuditEvent/" + Guid.NewGuid().ToString("N"));

        Assert.Equal(HttpStatusCode.Forbidden, search.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        using var auditor = host.ClientWithScopes(AuditorScope);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/AuditEvent?_count=1")).StatusCode);
        // The refused look at the trail is itself on the trail.
        var refused = await WaitForAsync($"agent={wildcard}&entity-type=AuditEvent&outcome=4", e => AuditTrailClient.Subtype(e) == "search-type");
        Assert.Equal("403 Forbidden", refused.OutcomeDesc);
    }
}
