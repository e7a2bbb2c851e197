using System.Net;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

public abstract class BatchTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    [Fact]
    public async Task Batch_entries_succeed_or_fail_on_their_own_each_with_its_outcome()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());
        var invalid = FhirSerialization.StrictJson.Deserialize<Patient>(File.ReadAllText(TestData.ExamplePath("invalid", "patient-gender-missing.json")));
        invalid.Id = null;
        var good = TestData.NewPatient();
        var batch = new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry =
            [
                new() { FullUrl = "urn:uuid:0e7c1a52-3333-4c1d-9b7a-000000000001", Resource = invalid, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new() { Resource = good, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new() { Resource = existing, Request = new() { Method = Bundle.HTTPVerb.PUT, Url = $"Patient/{existing.Id}", IfMatch = "W/\"9\"" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = "Patient/not-there" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = $"Patient/{existing.Id}" } },
            ],
        };

        var response = await _client.PostBundleAsync(batch);

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var result = response.As<Bundle>();
        Assert.Equal(Bundle.BundleType.BatchResponse, result.Type);
        Assert.Equal(["422 Unprocessable Entity", "201 Created", "412 Precondition Failed", "404 Not Found", "200 OK"], result.Entry.Select(e => e.Response!.Status));
        var issue = Assert.Single(Assert.IsType<OperationOutcome>(result.Entry[0].Response!.Outcome).Issue, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Bundle.entry[0].resource", Assert.Single(issue.Expression));
        Assert.Contains("urn:uuid:0e7c1a52-3333-4c1d-9b7a-000000000001", issue.Diagnostics);
        var created = result.Entry[1].Response!.Location;
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/" + created)).Status);
        Assert.Equal(existing.Id, Assert.IsType<Patient>(result.Entry[4].Resource).Id);
    }

    [Fact]
    public async Task Batch_resolves_conditional_references_per_entry()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        var batch = new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry =
            [
                new()
                {
                    Resource = TestData.NewObservation($"Patient?identifier={TestData.PseudonymSystem}|{patient.Identifier[0].Value}"),
                    Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
                },
                new()
                {
                    Resource = TestData.NewObservation($"Patient?identifier={TestData.PseudonymSystem}|nobody"),
                    Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
                },
            ],
        };

        var result = (await _client.PostBundleAsync(batch)).As<Bundle>();

        Assert.Equal("201 Created", result.Entry[0].Response!.Status);
        Assert.Equal($"Patient/{patient.Id}", Assert.IsType<Observation>(result.Entry[0].Resource).Subject!.Reference);
        Assert.Equal("412 Precondition Failed", result.Entry[1].Response!.Status);
    }
}

public sealed class BatchTestsOnSqlite(SqliteServiceHost host) : BatchTests(host), IClassFixture<SqliteServiceHost>;

public sealed class BatchTestsOnPostgres(PostgresServiceHost host) : BatchTests(host), IClassFixture<PostgresServiceHost>;
