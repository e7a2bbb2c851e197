using System.Net;
using FhirCaseService.Api.Tests;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Interop.Tests;

/// <summary>
/// The Firely SDK's FhirClient, as EHR integrators and registries use it, against the real service on Kestrel: once
/// with the client's defaults, once with XML, gzip request bodies, compressed responses, strict parsing and strict
/// search parameter handling switched on. Every interaction a client library offers for what the service serves.
/// </summary>
public abstract class FhirClientInteropTests(ServiceHost host)
{
    protected abstract FhirClient NewClient(Uri baseAddress);

    private FhirClient Client() => NewClient(host.BaseAddress);

    private static Patient NewPatient(string? pseudonym = null) => TestData.NewPatient(pseudonym);

    private static SearchParams ByPseudonym(string pseudonym) =>
        new SearchParams().Where($"identifier={TestData.PseudonymSystem}|{pseudonym}");

    [Fact]
    public async Task The_capability_statement_is_read_and_declares_r4()
    {
        var statement = await Client().CapabilityStatementAsync();

        Assert.NotNull(statement);
        Assert.Equal(FHIRVersion.N4_0_1, statement!.FhirVersion);
        Assert.Contains(statement.Rest[0].Resource, r => r.Type == "Patient" && r.ConditionalCreate == true);
    }

    [Fact]
    public async Task Create_read_version_aware_update_and_delete_round_trip_with_etags()
    {
        var client = Client();
        var created = await client.CreateAsync(NewPatient());
        Assert.NotNull(created?.Id);
        Assert.Equal("1", created!.Meta!.VersionId);

        var read = await client.ReadAsync<Patient>($"Patient/{created.Id}");
        Assert.Equal("W/\"1\"", client.LastResult!.Etag);
        read!.Gender = AdministrativeGender.Female;
        var updated = await client.UpdateAsync(read, versionAware: true);
        Assert.Equal("2", updated!.Meta!.VersionId);

        // The version the client holds is stale now: a version-aware update of it is refused.
        read.Meta!.VersionId = "1";
        var stale = await Assert.ThrowsAsync<FhirOperationException>(() => client.UpdateAsync(read, versionAware: true));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);

        await client.DeleteAsync(updated);
        var gone = await Assert.ThrowsAsync<FhirOperationException>(() => client.ReadAsync<Patient>($"Patient/{created.Id}"));
        Assert.Equal(HttpStatusCode.Gone, gone.Status);
    }

    [Fact]
    public async Task Conditional_create_and_conditional_update_find_the_same_patient()
    {
        var client = Client();
        var pseudonym = "interop-" + Guid.NewGuid().ToString("N");

        var first = await client.ConditionalCreateAsync(NewPatient(pseudonym), ByPseudonym(pseudonym));
        var second = await client.ConditionalCreateAsync(NewPatient(pseudonym), ByPseudonym(pseudonym));
        Assert.Equal(first!.Id, second!.Id);

        var changed = NewPatient(pseudonym);
        changed.Gender = AdministrativeGender.Other;
        var updated = await client.ConditionalUpdateAsync(changed, ByPseudonym(pseudonym));
        Assert.Equal(first.Id, updated!.Id);
        Assert.Equal(AdministrativeGender.Other, updated.Gender);
    }

    [Fact]
    public async Task A_transaction_with_urn_uuid_references_is_written_with_server_ids()
    {
        var client = Client();
        var patientUrl = "urn:uuid:" + Guid.NewGuid();
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = patientUrl, Resource = NewPatient(),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:" + Guid.NewGuid(), Resource = TestData.NewObservation(patientUrl),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
        });

        var response = await client.TransactionAsync(bundle);

        Assert.Equal(Bundle.BundleType.TransactionResponse, response!.Type);
        var patientLocation = response.Entry[0].Response!.Location!;
        var observation = await client.ReadAsync<Observation>(response.Entry[1].Response!.Location!);
        Assert.StartsWith(observation!.Subject!.Reference + "/", patientLocation);
    }

    [Fact]
    public async Task Paging_follows_next_links_to_the_last_page()
    {
        var client = Client();
        var patient = await client.CreateAsync(NewPatient());
        for (var i = 0; i < 5; i++)
            await client.CreateAsync(TestData.NewObservation($"Patient/{patient!.Id}"));

        var page = await client.SearchAsync<Observation>(new SearchParams().Where($"subject=Patient/{patient!.Id}").LimitTo(2));
        var seen = new List<string>();
        Assert.Equal(5, page!.Total);
        while (page is not null)
        {
            seen.AddRange(page.Entry.Select(e => e.Resource!.Id!));
            page = await client.ContinueAsync(page);
        }

        Assert.Equal(5, seen.Distinct().Count());
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public async Task Everything_is_fetched_with_the_clients_operation_helper()
    {
        var client = Client();
        var patient = await client.CreateAsync(NewPatient());
        await client.CreateAsync(TestData.NewObservation($"Patient/{patient!.Id}"));

        var record = await client.FetchPatientRecordAsync(new Uri($"Patient/{patient.Id}", UriKind.Relative));

        Assert.Equal(["Observation", "Patient"], record!.Entry.Select(e => e.Resource!.TypeName).Order());
    }

    [Fact]
    public async Task Validate_reports_the_broken_rule_of_an_invalid_example()
    {
        var client = Client();
        var invalid = NewPatient();
        invalid.Gender = null;

        var outcome = await client.ValidateResourceAsync(invalid);

        Assert.Contains(outcome!.Issue, i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
        var valid = await client.ValidateResourceAsync(NewPatient());
        Assert.DoesNotContain(valid!.Issue, i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
    }

    [Fact]
    public async Task History_lists_every_version_of_a_patient()
    {
        var client = Client();
        var patient = await client.CreateAsync(NewPatient());
        patient!.Gender = AdministrativeGender.Female;
        await client.UpdateAsync(patient);

        var history = await client.HistoryAsync($"Patient/{patient.Id}");

        Assert.Equal(["2", "1"], history!.Entry.Select(e => e.Resource!.Meta!.VersionId));
    }
}

/// <summary>FhirClient exactly as a library user gets it.</summary>
public sealed class FhirClientDefaultsTests(SqliteServiceHost host) : FhirClientInteropTests(host), IClassFixture<SqliteServiceHost>
{
    protected override FhirClient NewClient(Uri baseAddress) => new(baseAddress);
}

/// <summary>FhirClient with XML, gzip request bodies, compressed responses, strict parsing and strict search handling.</summary>
public sealed class FhirClientXmlCompressedStrictTests(SqliteServiceHost host) : FhirClientInteropTests(host), IClassFixture<SqliteServiceHost>
{
    protected override FhirClient NewClient(Uri baseAddress)
    {
        var client = new FhirClient(baseAddress, new FhirClientSettings
        {
            PreferredFormat = ResourceFormat.Xml,
            RequestBodyCompressionMethod = DecompressionMethods.GZip,
            PreferCompressedResponses = true,
            PreferredParameterHandling = SearchParameterHandling.Strict,
            VerifyFhirVersion = true,
        });
        client.WithStrictSerializer();
        return client;
    }
}
