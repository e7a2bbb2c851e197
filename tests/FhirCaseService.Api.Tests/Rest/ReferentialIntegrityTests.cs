using System.Net;
using FhirCaseService.Api.Tests.Import;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

/// <summary>
/// Validation:ReferentialIntegrity (on by default): a REST write whose literal reference to this server names no stored
/// resource is refused with 422 at the referring element, and nothing is written.
/// </summary>
public abstract class ReferentialIntegrityTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    private static string Missing() => "Patient/missing-" + Guid.NewGuid().ToString("N");

    private static string NewUrn() => "urn:uuid:" + Guid.NewGuid();

    private static Bundle.EntryComponent Post(Resource resource, string fullUrl) => new()
    {
        FullUrl = fullUrl,
        Resource = resource,
        Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = resource.TypeName },
    };

    private static void AssertRefusedAt(FhirResponse response, string expression)
    {
        Assert.True(response.Status == (HttpStatusCode)422, $"answered {response.Status}: {response.Body}");
        var issue = Assert.Single(response.Issues);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.NotFound, issue.Code);
        Assert.Equal(expression, Assert.Single(issue.Expression));
    }

    [Fact]
    public async Task Create_referring_to_a_missing_resource_is_refused_at_the_element_and_writes_nothing()
    {
        var before = await _client.LatestChangeAsync();

        var response = await _client.PostAsync("/Observation", TestData.NewObservation(Missing()));

        AssertRefusedAt(response, "Observation.subject");
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Create_referring_to_a_stored_resource_relatively_by_version_or_by_this_servers_url_is_stored()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());

        foreach (var reference in new[]
                 {
                     $"Patient/{patient.Id}", $"Patient/{patient.Id}/_history/1", new Uri(host.BaseAddress, $"Patient/{patient.Id}").ToString(),
                 })
        {
            var response = await _client.PostAsync("/Observation", TestData.NewObservation(reference));
            Assert.True(response.Status == HttpStatusCode.Created, $"{reference}: {response.Status} {response.Body}");
        }
    }

    [Fact]
    public async Task References_to_other_servers_to_types_this_server_does_not_store_and_to_contained_resources_are_not_looked_up()
    {
        var elsewhere = await _client.PostAsync("/Observation", TestData.NewObservation("https://elsewhere.test/fhir/Patient/p1"));
        var unservedType = TestData.NewObservation($"Patient/{(await _client.CreateAsync(TestData.NewPatient())).Id}");
        unservedType.Performer.Add(new ResourceReference("Practitioner/not-a-type-this-server-stores"));
        var contained = TestData.NewObservation("#p");
        var containedPatient = TestData.NewPatient();
        containedPatient.Id = "p";
        contained.Contained.Add(containedPatient);

        Assert.True(elsewhere.Status == HttpStatusCode.Created, elsewhere.Body);
        var unserved = await _client.PostAsync("/Observation", unservedType);
        Assert.True(unserved.Status == HttpStatusCode.Created, unserved.Body);
        var response = await _client.PostAsync("/Observation", contained);
        Assert.True(response.Status == HttpStatusCode.Created, response.Body);
    }

    [Fact]
    public async Task Update_referring_to_a_deleted_resource_is_refused()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        var observation = await _client.CreateAsync(TestData.NewObservation($"Patient/{patient.Id}"));
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/Patient/{patient.Id}")).Status);

        var response = await _client.PutAsync($"/Observation/{observation.Id}", observation);

        AssertRefusedAt(response, "Observation.subject");
        Assert.Equal("1", (await _client.GetAsync($"/Observation/{observation.Id}")).As<Observation>().Meta!.VersionId);
    }

    [Fact]
    public async Task Transaction_entries_may_refer_to_each_other_but_a_missing_target_refuses_the_whole_transaction()
    {
        var patientUrn = NewUrn();
        var fine = await _client.PostBundleAsync(new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [Post(TestData.NewObservation(patientUrn), NewUrn()), Post(TestData.NewPatient(), patientUrn)],
        });
        Assert.True(fine.Status == HttpStatusCode.OK, fine.Body);

        var before = await _client.LatestChangeAsync();
        var refused = await _client.PostBundleAsync(new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [Post(TestData.NewPatient(), NewUrn()), Post(TestData.NewObservation(Missing()), NewUrn())],
        });

        AssertRefusedAt(refused, "Bundle.entry[1].resource.subject");
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task In_a_batch_only_the_entry_with_a_missing_target_fails()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());

        var response = await _client.PostBundleAsync(new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry = [Post(TestData.NewObservation($"Patient/{patient.Id}"), NewUrn()), Post(TestData.NewObservation(Missing()), NewUrn())],
        });

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var entries = response.As<Bundle>().Entry;
        Assert.StartsWith("201", entries[0].Response!.Status, StringComparison.Ordinal);
        Assert.StartsWith("422", entries[1].Response!.Status, StringComparison.Ordinal);
        var issue = Assert.Single(Assert.IsType<OperationOutcome>(entries[1].Response!.Outcome).Issue);
        Assert.Equal(OperationOutcome.IssueType.NotFound, issue.Code);
        Assert.Equal("Bundle.entry[1].resource.subject", Assert.Single(issue.Expression));
    }

    [Fact]
    public async Task The_store_answers_which_ids_exist_in_chunks_leaving_out_deleted_unknown_and_invalid_ids()
    {
        var kept = await _client.CreateAsync(TestData.NewPatient());
        var deleted = await _client.CreateAsync(TestData.NewPatient());
        await _client.DeleteAsync($"/Patient/{deleted.Id}");
        var asked = Enumerable.Range(0, 1200).Select(i => $"unknown-{i}").Append(kept.Id!).Append(deleted.Id!).Append("not valid!").ToList();

        var existing = await host.Services.GetRequiredService<IResourceStore>().ExistingIdsAsync("Patient", asked);

        Assert.Equal(new[] { kept.Id! }, existing.ToArray());
        Assert.Empty(await host.Services.GetRequiredService<IResourceStore>().ExistingIdsAsync("Observation", new[] { kept.Id! }));
    }
}

public sealed class ReferentialIntegrityTestsOnSqlite(SqliteServiceHost host) : ReferentialIntegrityTests(host), IClassFixture<SqliteServiceHost>;

public sealed class ReferentialIntegrityTestsOnPostgres(PostgresServiceHost host) : ReferentialIntegrityTests(host), IClassFixture<PostgresServiceHost>;

/// <summary>The service with Validation:ReferentialIntegrity off: references are stored as sent.</summary>
public sealed class ReferentialIntegrityOffHost() : ServiceHost(new SqliteTestDatabase(), new Dictionary<string, string?> { ["Validation:ReferentialIntegrity"] = "false" });

/// <summary>Where references are not checked: with the option off, and in a bulk $import (a bulk load arrives in any order).</summary>
public sealed class ReferentialIntegrityExemptionTests(ReferentialIntegrityOffHost off, SqliteImportHost import)
    : IClassFixture<ReferentialIntegrityOffHost>, IClassFixture<SqliteImportHost>
{
    [Fact]
    public async Task Switched_off_a_reference_to_a_missing_resource_is_stored_as_sent()
    {
        var response = await new RestTestClient(off).PostAsync("/Observation", TestData.NewObservation("Patient/nobody-here"));

        Assert.True(response.Status == HttpStatusCode.Created, response.Body);
        Assert.Equal("Patient/nobody-here", response.As<Observation>().Subject!.Reference);
    }

    [Fact]
    public async Task Bulk_import_stores_an_observation_whose_patient_is_not_stored()
    {
        var client = new ImportTestClient(import);

        var kickOff = await client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Observation(null, "absent-" + Guid.NewGuid().ToString("N"))]));
        var manifest = await client.WaitForManifestAsync(kickOff.StatusUrl!);

        Assert.Equal((1L, 1L, 0L, 0L), manifest.Output("Observation"));
        Assert.Empty(manifest.Errors);
    }
}
