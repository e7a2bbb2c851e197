using System.Net;
using FhirCaseService.Api.Rest;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

public abstract class TransactionTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    private static Bundle.EntryComponent Post(Resource resource, string fullUrl, string? ifNoneExist = null) => new()
    {
        FullUrl = fullUrl,
        Resource = resource,
        Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = resource.TypeName, IfNoneExist = ifNoneExist },
    };

    private static Bundle.EntryComponent Put(Resource resource, string url, string? ifMatch = null) => new()
    {
        FullUrl = "urn:uuid:" + Guid.NewGuid(),
        Resource = resource,
        Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = url, IfMatch = ifMatch },
    };

    private static Bundle.EntryComponent Request(Bundle.HTTPVerb method, string url) => new()
    {
        Request = new Bundle.RequestComponent { Method = method, Url = url },
    };

    private static Bundle Transaction(params Bundle.EntryComponent[] entries) => new() { Type = Bundle.BundleType.Transaction, Entry = [.. entries] };

    private static string NewUrn() => "urn:uuid:" + Guid.NewGuid();

    [Fact]
    public async Task Transaction_replaces_urn_uuid_references_with_server_ids_everywhere_including_extensions()
    {
        var patientUrn = NewUrn();
        var observation = TestData.NewObservation(patientUrn);
        observation.Extension.Add(new Extension("https://example.org/fhir/StructureDefinition/test-about", new ResourceReference(patientUrn)));
        observation.Performer.Add(new ResourceReference(patientUrn) { Extension = [new Extension("https://example.org/fhir/StructureDefinition/test-nested", new ResourceReference(patientUrn))] });

        var response = await _client.PostBundleAsync(Transaction(Post(observation, NewUrn()), Post(TestData.NewPatient(), patientUrn)));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var result = response.As<Bundle>();
        Assert.Equal(Bundle.BundleType.TransactionResponse, result.Type);
        var patientId = Assert.IsType<Patient>(result.Entry[1].Resource).Id;
        var stored = (await _client.GetAsync("/" + result.Entry[0].Response!.Location)).As<Observation>();
        Assert.Equal($"Patient/{patientId}", stored.Subject!.Reference);
        Assert.Equal($"Patient/{patientId}", Assert.IsType<ResourceReference>(stored.Extension.Single().Value).Reference);
        Assert.Equal($"Patient/{patientId}", stored.Performer.Single().Reference);
        Assert.Equal($"Patient/{patientId}", Assert.IsType<ResourceReference>(stored.Performer.Single().Extension.Single().Value).Reference);
    }

    [Fact]
    public async Task Transaction_response_reports_status_location_etag_and_lastModified_per_entry_in_request_order()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());
        existing.Gender = AdministrativeGender.Female;

        var response = await _client.PostBundleAsync(Transaction(
            Put(existing, $"Patient/{existing.Id}"),
            Post(TestData.NewPatient(), NewUrn()),
            Request(Bundle.HTTPVerb.GET, $"Patient/{existing.Id}")));

        var entries = response.As<Bundle>().Entry;
        Assert.Equal(["200 OK", "201 Created", "200 OK"], entries.Select(e => e.Response!.Status));
        Assert.Equal($"Patient/{existing.Id}/_history/2", entries[0].Response!.Location);
        Assert.Equal("W/\"2\"", entries[0].Response!.Etag);
        Assert.Matches(@"^Patient/[0-9a-f]{32}/_history/1$", entries[1].Response!.Location);
        Assert.Equal("W/\"1\"", entries[1].Response!.Etag);
        Assert.All(entries, e => Assert.NotNull(e.Response!.LastModified));
        Assert.Equal(AdministrativeGender.Female, Assert.IsType<Patient>(entries[2].Resource).Gender);
    }

    [Fact]
    public async Task A_transaction_large_enough_to_be_prepared_on_every_core_stores_each_entry_under_its_own_id_with_its_own_references()
    {
        var pairs = Enumerable.Range(0, (WritePipeline.ParallelPreparationFrom / 2) + 8).Select(_ => NewUrn()).ToList();
        var entries = pairs.SelectMany(urn => new[] { Post(TestData.NewObservation(urn), NewUrn()), Post(TestData.NewPatient(), urn) }).ToArray();

        var response = await _client.PostBundleAsync(Transaction(entries));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var result = response.As<Bundle>().Entry;
        Assert.Equal(entries.Length, result.Count);
        Assert.All(result, e => Assert.Equal("201 Created", e.Response!.Status));
        foreach (var pair in new[] { 0, pairs.Count / 2, pairs.Count - 1 })
        {
            var patientId = Assert.IsType<Patient>(result[(2 * pair) + 1].Resource).Id;
            var stored = (await _client.GetAsync("/" + result[2 * pair].Response!.Location)).As<Observation>();
            Assert.Equal($"Patient/{patientId}", stored.Subject!.Reference);
        }
    }

    [Fact]
    public async Task Transaction_runs_DELETE_then_POST_then_PUT_then_GET_whatever_the_entry_order()
    {
        var doomed = await _client.CreateAsync(TestData.NewPatient());
        var pseudonym = doomed.Identifier[0].Value;
        var replacementUrn = NewUrn();
        var putId = "order-" + Guid.NewGuid().ToString("N")[..12];
        var observation = TestData.NewObservation(replacementUrn);
        observation.Id = putId;

        var response = await _client.PostBundleAsync(Transaction(
            // GET first in the Bundle, yet it sees the PUT that comes later in it.
            Request(Bundle.HTTPVerb.GET, $"Observation/{putId}"),
            Put(observation, $"Observation/{putId}"),
            // Runs after the DELETE below: the deleted twin no longer matches, so a new Patient is created.
            Post(TestData.NewPatient(pseudonym), replacementUrn, ifNoneExist: $"identifier={TestData.PseudonymSystem}|{pseudonym}"),
            Request(Bundle.HTTPVerb.DELETE, $"Patient/{doomed.Id}")));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var entries = response.As<Bundle>().Entry;
        Assert.Equal(["200 OK", "201 Created", "201 Created", "204 No Content"], entries.Select(e => e.Response!.Status));
        var created = Assert.IsType<Patient>(entries[2].Resource);
        Assert.NotEqual(doomed.Id, created.Id);
        Assert.Equal($"Patient/{created.Id}", Assert.IsType<Observation>(entries[0].Resource).Subject!.Reference);
    }

    [Fact]
    public async Task Transaction_resolves_a_conditional_reference_to_the_single_match()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        var observation = TestData.NewObservation($"Patient?identifier={TestData.PseudonymSystem}|{patient.Identifier[0].Value}");

        var response = await _client.PostBundleAsync(Transaction(Post(observation, NewUrn())));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        Assert.Equal($"Patient/{patient.Id}", Assert.IsType<Observation>(response.As<Bundle>().Entry[0].Resource).Subject!.Reference);
    }

    [Fact]
    public async Task Transaction_whose_conditional_reference_matches_nothing_answers_412_and_writes_nothing()
    {
        var before = await _client.LatestChangeAsync();
        var observation = TestData.NewObservation($"Patient?identifier={TestData.PseudonymSystem}|nobody-{Guid.NewGuid():N}");
        var patientUrn = NewUrn();

        var response = await _client.PostBundleAsync(Transaction(Post(TestData.NewPatient(), patientUrn), Post(observation, "urn:uuid:7d3c3a6e-1111-4a2b-9c1d-000000000001")));

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.Status);
        var issue = Assert.Single(response.Issues);
        Assert.StartsWith("Bundle.entry[1]", Assert.Single(issue.Expression));
        Assert.Contains("urn:uuid:7d3c3a6e-1111-4a2b-9c1d-000000000001", issue.Diagnostics);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Transaction_with_a_stale_ifMatch_rolls_back_the_entries_already_written()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());
        var before = await _client.LatestChangeAsync();

        var response = await _client.PostBundleAsync(Transaction(
            Post(TestData.NewPatient(), NewUrn()),
            Put(existing, $"Patient/{existing.Id}", ifMatch: "W/\"5\"")));

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.Status);
        Assert.Equal("Bundle.entry[1]", Assert.Single(Assert.Single(response.Issues).Expression));
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Transaction_with_ifNoneExist_matching_a_stored_resource_points_references_at_it()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());
        var patientUrn = NewUrn();

        var response = await _client.PostBundleAsync(Transaction(
            Post(TestData.NewPatient(existing.Identifier[0].Value!), patientUrn, ifNoneExist: $"identifier={TestData.PseudonymSystem}|{existing.Identifier[0].Value}"),
            Post(TestData.NewObservation(patientUrn), NewUrn())));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var entries = response.As<Bundle>().Entry;
        Assert.Equal("200 OK", entries[0].Response!.Status);
        Assert.Equal($"Patient/{existing.Id}/_history/1", entries[0].Response!.Location);
        Assert.Equal($"Patient/{existing.Id}", Assert.IsType<Observation>(entries[1].Resource).Subject!.Reference);
    }

    [Fact]
    public async Task Transaction_that_changes_one_resource_twice_answers_400()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());

        var response = await _client.PostBundleAsync(Transaction(
            Put(existing, $"Patient/{existing.Id}"),
            Request(Bundle.HTTPVerb.DELETE, $"Patient/{existing.Id}")));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Bundle.entry[1].request.url", Assert.Single(Assert.Single(response.Issues).Expression));
    }

    [Fact]
    public async Task Transaction_entry_whose_url_is_on_another_server_answers_400_naming_the_url()
    {
        var patient = TestData.NewPatient();
        patient.Id = "elsewhere-" + Guid.NewGuid().ToString("N")[..8];

        var response = await _client.PostBundleAsync(Transaction(
            Post(TestData.NewPatient(), NewUrn()),
            Put(patient, $"http://other.example.org/fhir/Patient/{patient.Id}")));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var issue = Assert.Single(response.Issues);
        Assert.Equal("Bundle.entry[1].request.url", Assert.Single(issue.Expression));
        Assert.Contains("http://other.example.org/fhir/Patient/", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains("is not on this server", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/Patient/{patient.Id}")).Status);
    }

    [Fact]
    public async Task Transaction_entry_whose_url_is_absolute_under_this_servers_base_is_executed()
    {
        var patient = TestData.NewPatient();
        patient.Id = "here-" + Guid.NewGuid().ToString("N")[..8];
        var baseUrl = host.BaseAddress.ToString().TrimEnd('/');

        var response = await _client.PostBundleAsync(Transaction(Put(patient, $"{baseUrl}/Patient/{patient.Id}")));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient/{patient.Id}")).Status);
    }

    [Fact]
    public async Task Transaction_with_an_invalid_entry_answers_422_locating_each_issue_at_its_entry_and_writes_nothing()
    {
        var before = await _client.LatestChangeAsync();
        var invalid = FhirSerialization.StrictJson.Deserialize<Patient>(File.ReadAllText(TestData.ExamplePath("invalid", "patient-gender-missing.json")));

        var response = await _client.PostBundleAsync(Transaction(
            Post(TestData.NewPatient(), NewUrn()),
            Post(TestData.NewObservation("Patient/anyone"), NewUrn()),
            Post(invalid, "urn:uuid:5b0c3c1e-2222-4f9a-8e55-000000000003")));

        Assert.Equal((HttpStatusCode)422, response.Status);
        var issue = Assert.Single(response.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Bundle.entry[2].resource", Assert.Single(issue.Expression));
        Assert.Contains("Patient.gender", issue.Diagnostics, StringComparison.Ordinal);
        Assert.StartsWith("Bundle.entry[2] (urn:uuid:5b0c3c1e-2222-4f9a-8e55-000000000003): ", issue.Diagnostics);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task The_examples_transaction_Bundle_is_stored_and_sending_it_again_changes_nothing()
    {
        var json = File.ReadAllText(TestData.ExamplePath("bundles", "aertgeerts-2025-ino-bridge.json"));

        var first = await _client.SendAsync(HttpMethod.Post, "/", json);
        var latest = await _client.LatestChangeAsync();
        var second = await _client.SendAsync(HttpMethod.Post, "/", json);

        Assert.True(first.Status == HttpStatusCode.OK, first.Body);
        var entries = first.As<Bundle>().Entry;
        Assert.Equal(83, entries.Count);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.All(second.As<Bundle>().Entry, e => Assert.Equal("W/\"1\"", e.Response!.Etag));
        Assert.Equal(latest, await _client.LatestChangeAsync());
        var member = (await _client.GetAsync("/Group/aertgeerts-2025-ino-bridge")).As<Group>().Member.First();
        Assert.Matches("^Patient/[^/]+$", member.Entity.Reference);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/" + member.Entity.Reference)).Status);
    }

    [Fact]
    public async Task Transaction_with_a_GET_search_it_cannot_run_answers_400_before_writing_anything()
    {
        var before = await _client.LatestChangeAsync();

        var response = await _client.PostBundleAsync(Transaction(
            Post(TestData.NewPatient(), NewUrn()),
            Request(Bundle.HTTPVerb.GET, "Patient?_count=many")));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Bundle.entry[1]", Assert.Single(Assert.Single(response.Issues).Expression));
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task A_Bundle_that_is_neither_transaction_nor_batch_answers_400()
    {
        var response = await _client.PostBundleAsync(new Bundle { Type = Bundle.BundleType.Collection });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Bundle.type", Assert.Single(Assert.Single(response.Issues).Expression));
    }
}

public sealed class TransactionTestsOnSqlite(SqliteServiceHost host) : TransactionTests(host), IClassFixture<SqliteServiceHost>;

public sealed class TransactionTestsOnPostgres(PostgresServiceHost host) : TransactionTests(host), IClassFixture<PostgresServiceHost>;
