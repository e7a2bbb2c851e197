using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>
/// Each interaction group against the scopes that allow it and the scopes that do not, in SMART v1 and v2 syntax:
/// allowed answers what the interaction answers; denied answers 403, an OperationOutcome and a WWW-Authenticate
/// naming the scope that would do.
/// </summary>
public sealed class ScopeEnforcementTests(SeededSecuredServiceHost host) : IClassFixture<SeededSecuredServiceHost>
{
    private const string PatientJson = """{"resourceType":"Patient","identifier":[{"system":"urn:test","value":"VALUE"}],"gender":"female"}""";
    private const string ObservationJson = """{"resourceType":"Observation","status":"final","code":{"text":"blasts"},"subject":{"reference":"Patient/seed"}}""";

    /// <summary>What each interaction group sends; placeholders are filled so every request touches data of its own.</summary>
    private static (HttpMethod Method, string Path, string? Body, string ContentType) Request(string interaction)
    {
        var unique = Guid.NewGuid().ToString("N");
        return interaction switch
        {
            "read" => (HttpMethod.Get, "/Patient/seed", null, ""),
            "vread" => (HttpMethod.Get, "/Patient/seed/_history/1", null, ""),
            "search" => (HttpMethod.Get, "/Patient?identifier=urn:test|seed", null, ""),
            "search-post" => (HttpMethod.Post, "/Patient/_search", "identifier=urn:test|seed", "application/x-www-form-urlencoded"),
            "history-instance" => (HttpMethod.Get, "/Patient/seed/_history", null, ""),
            "history-type" => (HttpMethod.Get, "/Patient/_history", null, ""),
            "create" => (HttpMethod.Post, "/Patient", PatientJson.Replace("VALUE", unique), "application/fhir+json"),
            "update" => (HttpMethod.Put, "/Patient/seed", PatientJson.Replace("{\"resourceType\":\"Patient\",", "{\"resourceType\":\"Patient\",\"id\":\"seed\",").Replace("VALUE", "seed"), "application/fhir+json"),
            "conditional-update-match" => (HttpMethod.Put, "/Patient?identifier=urn:test|seed", PatientJson.Replace("VALUE", "seed"), "application/fhir+json"),
            "conditional-update-create" => (HttpMethod.Put, $"/Patient?identifier=urn:test|{unique}", PatientJson.Replace("VALUE", unique), "application/fhir+json"),
            "delete" => (HttpMethod.Delete, $"/Patient/{unique}", null, ""),
            "conditional-delete" => (HttpMethod.Delete, $"/Patient?identifier=urn:test|{unique}", null, ""),
            "validate" => (HttpMethod.Post, "/Patient/$validate", PatientJson.Replace("VALUE", unique), "application/fhir+json"),
            "everything" => (HttpMethod.Get, "/Patient/seed/$everything", null, ""),
            "everything-observations" => (HttpMethod.Get, "/Patient/seed/$everything?_type=Observation", null, ""),
            "summary" => (HttpMethod.Get, "/$case-series-summary", null, ""),
            "observation-create" => (HttpMethod.Post, "/Observation", ObservationJson, "application/fhir+json"),
            "audit-search" => (HttpMethod.Get, "/AuditEvent", null, ""),
            _ => throw new ArgumentOutOfRangeException(nameof(interaction), interaction, null),
        };
    }

    public static TheoryData<string, string> Allowed => new()
    {
        { "read", "system/Patient.r" }, { "read", "system/Patient.read" }, { "read", "system/*.rs" }, { "read", "system/*.read" }, { "read", "system/*.*" },
        { "vread", "system/Patient.r" }, { "vread", "system/*.read" },
        { "search", "system/Patient.s" }, { "search", "system/Patient.read" }, { "search", "system/*.cruds" },
        { "search-post", "system/Patient.s" }, { "search-post", "system/*.read" },
        { "history-instance", "system/Patient.r" }, { "history-instance", "system/Patient.read" },
        { "history-type", "system/Patient.s" }, { "history-type", "system/*.read" },
        { "create", "system/Patient.c" }, { "create", "system/Patient.write" }, { "create", "system/*.cu" }, { "create", "system/*.write" },
        { "update", "system/Patient.u" }, { "update", "system/Patient.write" }, { "update", "system/*.cu" },
        { "conditional-update-match", "system/Patient.u" }, { "conditional-update-match", "system/*.write" },
        { "conditional-update-create", "system/Patient.cu" }, { "conditional-update-create", "system/*.write" },
        { "delete", "system/Patient.d" }, { "delete", "system/Patient.write" }, { "delete", "system/*.cud" },
        { "conditional-delete", "system/Patient.d" }, { "conditional-delete", "system/*.write" },
        { "validate", "system/Observation.s" }, { "validate", "system/*.cu" },
        { "everything", "system/*.rs" }, { "everything", "system/*.read" },
        { "everything-observations", "system/Patient.r system/Observation.s" },
        { "summary", "system/*.rs" }, { "summary", "system/*.read" },
        { "observation-create", "system/Observation.c" },
        { "audit-search", "system/AuditEvent.rs" }, { "audit-search", "system/AuditEvent.read" },
    };

    public static TheoryData<string, string, string> Denied => new()
    {
        { "read", "system/Patient.s", "system/Patient.r" }, { "read", "system/Observation.read", "system/Patient.r" },
        { "read", "system/*.cud", "system/Patient.r" }, { "read", "system/*.write", "system/Patient.r" },
        { "vread", "system/Patient.s", "system/Patient.r" },
        { "search", "system/Patient.r", "system/Patient.s" }, { "search", "system/*.cu", "system/Patient.s" }, { "search", "system/*.write", "system/Patient.s" },
        { "search-post", "system/Patient.r", "system/Patient.s" },
        { "history-instance", "system/Patient.s", "system/Patient.r" },
        { "history-type", "system/Patient.r", "system/Patient.s" },
        { "create", "system/Patient.rus", "system/Patient.c" }, { "create", "system/*.read", "system/Patient.c" },
        { "update", "system/Patient.c", "system/Patient.u" }, { "update", "system/*.rs", "system/Patient.u" },
        { "conditional-update-match", "system/Patient.c", "system/Patient.u" },
        { "conditional-update-create", "system/Patient.u", "system/Patient.c" },
        { "delete", "system/Patient.cru", "system/Patient.d" }, { "delete", "system/*.read", "system/Patient.d" },
        { "conditional-delete", "system/Patient.u", "system/Patient.d" },
        { "everything", "system/Patient.r", "system/Condition.s" }, { "everything", "system/*.cu", "system/Patient.r" },
        { "everything-observations", "system/Patient.r system/Condition.s", "system/Observation.s" },
        { "summary", "system/Patient.s", "system/Condition.s" }, { "summary", "system/*.cu", "system/Patient.s" },
        { "observation-create", "system/Patient.c", "system/Observation.c" },
        { "audit-search", "system/*.rs", "system/AuditEvent.rs" }, { "audit-search", "system/*.*", "system/AuditEvent.rs" },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public async System.Threading.Tasks.Task An_interaction_is_served_to_a_token_whose_scopes_allow_it(string interaction, string scope)
    {
        using var response = await SendAsync(interaction, scope);

        Assert.True(response.IsSuccessStatusCode, $"{interaction} with '{scope}' answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [MemberData(nameof(Denied))]
    public async System.Threading.Tasks.Task An_interaction_is_refused_with_403_naming_the_missing_scope(string interaction, string scope, string missing)
    {
        using var response = await SendAsync(interaction, scope);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal($"Bearer realm=\"fhircase\", error=\"insufficient_scope\", scope=\"{missing}\"", response.Headers.WwwAuthenticate.ToString());
        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(await response.Content.ReadAsStringAsync());
        Assert.Equal(OperationOutcome.IssueType.Forbidden, outcome.Issue.Single().Code);
        Assert.Contains(missing, outcome.Issue.Single().Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_refused_conditional_update_that_would_create_writes_nothing()
    {
        var value = Guid.NewGuid().ToString("N");
        using var pusher = host.ClientWithScopes("system/Patient.u");
        using var refused = await pusher.PutAsync($"/Patient?identifier=urn:test|{value}", SecuredServiceHost.Json(PatientJson.Replace("VALUE", value)));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        Assert.Equal(0, await host.CountAsync($"/Patient?identifier=urn:test|{value}"));
    }

    [Fact]
    public async System.Threading.Tasks.Task Validate_needs_a_token_but_no_data_scope()
    {
        using var anonymous = host.ClientWithToken(null);
        using var withoutToken = await anonymous.PostAsync("/Patient/$validate", SecuredServiceHost.Json(PatientJson));
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);

        using var unrelated = host.ClientWithScopes("system/Group.r");
        using var withToken = await unrelated.PostAsync("/Patient/$validate", SecuredServiceHost.Json(PatientJson));
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_transaction_with_one_entry_out_of_scope_is_refused_whole_and_writes_nothing()
    {
        var value = Guid.NewGuid().ToString("N");
        using var pusher = host.ClientWithScopes("system/Patient.c");
        using var response = await pusher.PostAsync("/", SecuredServiceHost.Json(Bundle("transaction", value)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("system/Observation.c", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Contains("Bundle.entry[1]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await host.CountAsync($"/Patient?identifier=urn:test|{value}"));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_transaction_within_scope_is_written()
    {
        var value = Guid.NewGuid().ToString("N");
        using var pusher = host.ClientWithScopes("system/*.cu");
        using var response = await pusher.PostAsync("/", SecuredServiceHost.Json(Bundle("transaction", value)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await host.CountAsync($"/Patient?identifier=urn:test|{value}"));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_batch_refuses_only_the_entries_out_of_scope()
    {
        var value = Guid.NewGuid().ToString("N");
        using var pusher = host.ClientWithScopes("system/Patient.c");
        using var response = await pusher.PostAsync("/", SecuredServiceHost.Json(Bundle("batch", value)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("201", bundle.Entry[0].Response!.Status!, StringComparison.Ordinal);
        Assert.StartsWith("403", bundle.Entry[1].Response!.Status!, StringComparison.Ordinal);
        Assert.Contains("system/Observation.c", ((OperationOutcome)bundle.Entry[1].Response!.Outcome!).Issue[0].Diagnostics!, StringComparison.Ordinal);
        Assert.Equal(1, await host.CountAsync($"/Patient?identifier=urn:test|{value}"));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_batch_read_entry_needs_read_and_a_search_entry_needs_search()
    {
        using var reader = host.ClientWithScopes("system/Patient.r");
        var batch = """{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/seed"}},{"request":{"method":"GET","url":"Patient?identifier=urn:test|seed"}}]}""";
        using var response = await reader.PostAsync("/", SecuredServiceHost.Json(batch));

        var bundle = FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("200", bundle.Entry[0].Response!.Status!, StringComparison.Ordinal);
        Assert.StartsWith("403", bundle.Entry[1].Response!.Status!, StringComparison.Ordinal);
    }

    [Fact]
    public async System.Threading.Tasks.Task Import_case_series_needs_create_and_update_on_the_types_it_writes()
    {
        var record = await File.ReadAllTextAsync(CaseSeriesTests.ExampleRecordPath);

        using var registry = host.ClientWithScopes("system/*.rs");
        using var refused = await registry.PostAsync("/$import-case-series", new StringContent(record, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("insufficient_scope", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var createOnly = host.ClientWithScopes("system/*.c");
        using var refusedToo = await createOnly.PostAsync("/$import-case-series", new StringContent(record, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, refusedToo.StatusCode);

        using var ehr = host.ClientWithScopes("system/*.write");
        using var imported = await ehr.PostAsync("/$import-case-series", new StringContent(record, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task Convert_case_series_needs_a_token_but_no_data_scope()
    {
        var record = await File.ReadAllTextAsync(CaseSeriesTests.ExampleRecordPath);
        using var anonymous = host.ClientWithToken(null);
        using var refused = await anonymous.PostAsync("/$convert-case-series", new StringContent(record, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        using var any = host.ClientWithScopes("system/Group.r");
        using var converted = await any.PostAsync("/$convert-case-series", new StringContent(record, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, converted.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_ehr_client_can_push_but_not_pull_and_a_registry_client_can_pull_but_not_push()
    {
        using var ehr = host.ClientWithScopes("system/*.cu");
        using var registry = host.ClientWithScopes("system/*.rs");
        var value = Guid.NewGuid().ToString("N");

        using (var pushed = await ehr.PostAsync("/Patient", SecuredServiceHost.Json(PatientJson.Replace("VALUE", value))))
            Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
        using (var pulled = await ehr.GetAsync($"/Patient?identifier=urn:test|{value}"))
            Assert.Equal(HttpStatusCode.Forbidden, pulled.StatusCode);
        using (var pulled = await registry.GetAsync($"/Patient?identifier=urn:test|{value}"))
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        using (var pushed = await registry.PostAsync("/Patient", SecuredServiceHost.Json(PatientJson.Replace("VALUE", value))))
            Assert.Equal(HttpStatusCode.Forbidden, pushed.StatusCode);
    }

    [Theory]
    [InlineData("/metadata")]
    [InlineData("/.well-known/smart-configuration")]
    [InlineData("/health/live")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/StructureDefinition?name=Fhir")]
    [InlineData("/OperationDefinition")]
    [InlineData("/schemas/case-series.schema.json")]
    [InlineData("/auth/jwks")]
    public async System.Threading.Tasks.Task Discovery_conformance_and_health_endpoints_are_public(string path)
    {
        using var anonymous = host.ClientWithToken(null);
        using var response = await anonymous.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string interaction, string scope)
    {
        var (method, path, body, contentType) = Request(interaction);
        using var client = host.ClientWithScopes(scope);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        return await client.SendAsync(request);
    }

    /// <summary>A Patient the client may create and an Observation it may not (for a client with system/Patient.c).</summary>
    private static string Bundle(string type, string value) => new JsonObject
    {
        ["resourceType"] = "Bundle",
        ["type"] = type,
        ["entry"] = new JsonArray(
            new JsonObject
            {
                ["fullUrl"] = "urn:uuid:" + Guid.NewGuid(),
                ["resource"] = JsonNode.Parse(PatientJson.Replace("VALUE", value)),
                ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Patient" },
            },
            new JsonObject
            {
                ["fullUrl"] = "urn:uuid:" + Guid.NewGuid(),
                ["resource"] = JsonNode.Parse(ObservationJson),
                ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Observation" },
            }),
    }.ToJsonString();
}

/// <summary>The secured service with Patient/seed (identifier urn:test|seed) stored.</summary>
public sealed class SeededSecuredServiceHost : SecuredServiceHost, IAsyncLifetime
{
    public new async System.Threading.Tasks.Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = ClientWithScopes("system/*.cruds");
        using var seeded = await admin.PutAsync("/Patient/seed", Json("""{"resourceType":"Patient","id":"seed","identifier":[{"system":"urn:test","value":"seed"}]}"""));
        if (!seeded.IsSuccessStatusCode)
            throw new InvalidOperationException($"Seeding answered {(int)seeded.StatusCode}: {await seeded.Content.ReadAsStringAsync()}");
    }

    /// <summary>How many resources a search matches, asked with a token that may search everything.</summary>
    public async Task<int> CountAsync(string search)
    {
        using var admin = ClientWithScopes("system/*.rs");
        using var response = await admin.GetAsync(search + "&_summary=count");
        var bundle = FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync())!;
        return bundle.Total ?? throw new InvalidOperationException($"No total in the answer to {search}.");
    }
}
