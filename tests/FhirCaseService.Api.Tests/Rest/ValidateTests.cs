using System.Net;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

public abstract class ValidateTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    private static IEnumerable<OperationOutcome.IssueComponent> Errors(FhirResponse response) =>
        response.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    [Fact]
    public async Task Validate_a_conformant_resource_answers_200_without_errors_and_stores_nothing()
    {
        var before = await _client.LatestChangeAsync();

        var response = await _client.PostAsync("/Patient/$validate", TestData.NewPatient());

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Empty(Errors(response));
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Validate_reports_the_broken_rule_with_its_location_and_line()
    {
        var invalid = File.ReadAllText(TestData.ExamplePath("invalid", "mrd-percent-over-100.json"));

        var response = await _client.SendAsync(HttpMethod.Post, "/Observation/$validate", invalid);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var issue = Assert.Single(Errors(response));
        Assert.Equal("Observation", Assert.Single(issue.Expression));
        Assert.Contains(issue.Extension, e => e.Url!.EndsWith("operationoutcome-issue-line", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Validate_a_transaction_Bundle_checks_every_entry_names_the_broken_one_and_stores_nothing()
    {
        var before = await _client.LatestChangeAsync();
        var valid = File.ReadAllText(TestData.ExamplePath("bundles", "aertgeerts-2025-ino-bridge.json"));
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:0b8f6f5e-2f4e-4a53-9b1a-3c3c4f6f6a01",
            Resource = TestData.NewPatient(),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:0b8f6f5e-2f4e-4a53-9b1a-3c3c4f6f6a02",
            Resource = FhirSerialization.StrictJson.DeserializeResource(File.ReadAllText(TestData.ExamplePath("invalid", "mrd-percent-over-100.json"))),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
        });

        var clean = await _client.SendAsync(HttpMethod.Post, "/Bundle/$validate", valid);
        var broken = await _client.PostAsync("/Bundle/$validate", bundle);

        Assert.Equal(HttpStatusCode.OK, clean.Status);
        Assert.Empty(Errors(clean));
        Assert.Equal(HttpStatusCode.OK, broken.Status);
        var issue = Assert.Single(Errors(broken));
        Assert.StartsWith("Bundle.entry[1].resource", Assert.Single(issue.Expression), StringComparison.Ordinal);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Validate_takes_resource_and_profile_from_a_Parameters_body()
    {
        var plain = new Patient { Gender = AdministrativeGender.Male };
        var parameters = new Parameters();
        parameters.Add("resource", plain);
        parameters.Add("profile", new FhirUri(TestData.PatientProfile));

        var withProfile = await _client.PostAsync("/Patient/$validate", parameters);
        var withoutProfile = await _client.PostAsync("/Patient/$validate", plain);

        Assert.Equal(HttpStatusCode.OK, withProfile.Status);
        Assert.Contains(Errors(withProfile), i => i.Expression.Contains("Patient") && (i.Diagnostics ?? "").Contains("Patient.identifier", StringComparison.Ordinal));
        Assert.Empty(Errors(withoutProfile));
    }

    [Fact]
    public async Task Validate_takes_the_profile_from_the_query_too()
    {
        var response = await _client.PostAsync($"/Patient/$validate?profile={Uri.EscapeDataString(TestData.PatientProfile)}", new Patient());

        Assert.Contains(Errors(response), i => i.Expression.Contains("Patient") && (i.Diagnostics ?? "").Contains("Patient.gender", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Validate_in_update_mode_requires_the_instance_id()
    {
        var stored = await _client.CreateAsync(TestData.NewPatient());
        var other = TestData.NewPatient();
        other.Id = "another-id";

        var mismatched = await _client.PostAsync($"/Patient/{stored.Id}/$validate?mode=update", other);
        var matching = await _client.PostAsync($"/Patient/{stored.Id}/$validate?mode=update", stored);
        var typeLevel = await _client.PostAsync("/Patient/$validate?mode=update", stored);

        Assert.Contains(Errors(mismatched), i => i.Expression.Contains("Patient.id"));
        Assert.Empty(Errors(matching));
        Assert.Equal(HttpStatusCode.BadRequest, typeLevel.Status);
    }

    [Fact]
    public async Task Validate_in_delete_mode_answers_for_the_stored_instance()
    {
        var stored = await _client.CreateAsync(TestData.NewPatient());

        var existing = await _client.SendAsync(HttpMethod.Post, $"/Patient/{stored.Id}/$validate?mode=delete", null);
        var unknown = await _client.SendAsync(HttpMethod.Post, "/Patient/not-there/$validate?mode=delete", null);

        Assert.Equal(HttpStatusCode.OK, existing.Status);
        Assert.Empty(Errors(existing));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient/{stored.Id}")).Status);
    }

    [Fact]
    public async Task Validate_without_a_body_checks_the_stored_instance_against_the_profile_asked()
    {
        var stored = await _client.CreateAsync(new Patient { Gender = AdministrativeGender.Female });

        var response = await _client.GetAsync($"/Patient/{stored.Id}/$validate?profile={Uri.EscapeDataString(TestData.PatientProfile)}");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Contains(Errors(response), i => i.Expression.Contains("Patient") && (i.Diagnostics ?? "").Contains("Patient.identifier", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Validate_with_an_unknown_mode_answers_400()
    {
        var response = await _client.PostAsync("/Patient/$validate?mode=sometimes", TestData.NewPatient());

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("mode", Assert.Single(Assert.Single(response.Issues).Expression));
    }

    [Fact]
    public async Task Validate_reports_a_resource_of_another_type_than_the_URL()
    {
        var response = await _client.SendAsync(HttpMethod.Post, "/Observation/$validate", FhirSerialization.ToJson(TestData.NewPatient()));

        Assert.Contains(Errors(response), i => i.Diagnostics!.Contains("Observation/$validate", StringComparison.Ordinal));
    }
}

public sealed class ValidateTestsOnSqlite(SqliteServiceHost host) : ValidateTests(host), IClassFixture<SqliteServiceHost>;

public sealed class ValidateTestsOnPostgres(PostgresServiceHost host) : ValidateTests(host), IClassFixture<PostgresServiceHost>;
