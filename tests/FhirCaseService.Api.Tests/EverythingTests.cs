using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

/// <summary><c>Patient/[id]/$everything</c> over HTTP, on SQLite and PostgreSQL.</summary>
public abstract class EverythingTests(ServiceHost host)
{
    private readonly SearchTestClient _client = new(host);

    private async Task<(Patient Patient, List<string> Compartment)> CreatePatientWithRecordsAsync()
    {
        var system = SearchTestClient.NewSystem();
        var patient = await _client.CreatePatientAsync(system, "p1");
        var compartment = new List<string> { $"Patient/{patient.Id}" };
        for (var i = 0; i < 3; i++)
            compartment.Add($"Observation/{(await _client.CreateObservationAsync(system, $"o{i}", patient, "51124-6")).Id}");
        compartment.Add($"Condition/{(await _client.CreateConditionAsync(system, "c1", patient)).Id}");
        var stranger = await _client.CreatePatientAsync(system, "p2");
        await _client.CreateObservationAsync(system, "o-other", stranger, "51124-6");
        return (patient, compartment);
    }

    [Fact]
    public async Task Everything_answers_the_patient_first_and_its_whole_compartment_only()
    {
        var (patient, compartment) = await CreatePatientWithRecordsAsync();

        var (status, bundle) = await _client.GetAsync<Bundle>($"/Patient/{patient.Id}/$everything");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        Assert.Equal(compartment.Count, bundle.Total);
        var keys = SearchTestClient.MatchKeys(bundle);
        Assert.Equal($"Patient/{patient.Id}", keys[0]);
        Assert.Equal(compartment.Order(), keys.Order());
    }

    [Fact]
    public async Task Everything_pages_with_count_and_next_links_without_repeats()
    {
        var (patient, compartment) = await CreatePatientWithRecordsAsync();

        var pages = await _client.AllPagesAsync($"/Patient/{patient.Id}/$everything?_count=2");

        Assert.Equal([2, 2, 1], pages.Select(p => p.Entry.Count));
        Assert.Equal(compartment.Order(), pages.SelectMany(SearchTestClient.MatchKeys).Order());
        Assert.All(pages.Skip(1), p => Assert.Contains("/$everything?", SearchTestClient.LinkOf(p, "self") ?? ""));
    }

    [Fact]
    public async Task Everything_with_type_keeps_only_those_resource_types()
    {
        var (patient, compartment) = await CreatePatientWithRecordsAsync();

        var (_, bundle) = await _client.GetAsync<Bundle>($"/Patient/{patient.Id}/$everything?_type=Condition,Patient");

        Assert.Equal(compartment.Where(k => !k.StartsWith("Observation/", StringComparison.Ordinal)).Order(), SearchTestClient.MatchKeys(bundle).Order());
    }

    [Fact]
    public async Task Everything_since_an_instant_keeps_only_what_changed_after_it()
    {
        var (patient, _) = await CreatePatientWithRecordsAsync();
        var (_, before) = await _client.GetAsync<Bundle>($"/Patient/{patient.Id}/$everything");
        var since = before.Entry.Max(e => e.Resource!.Meta!.LastUpdated)!.Value.AddMilliseconds(1);
        var later = await _client.CreateObservationAsync(SearchTestClient.NewSystem(), "late", patient, "8117-4");

        var (_, bundle) = await _client.GetAsync<Bundle>($"/Patient/{patient.Id}/$everything?_since={Uri.EscapeDataString(since.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz"))}");

        Assert.Equal([$"Observation/{later.Id}"], SearchTestClient.MatchKeys(bundle));
    }

    [Fact]
    public async Task Everything_of_an_unknown_patient_answers_404_and_a_bad_since_answers_400()
    {
        var (missing, outcome) = await _client.GetAsync<OperationOutcome>($"/Patient/{Guid.NewGuid():N}/$everything");
        var (bad, badOutcome) = await _client.GetAsync<OperationOutcome>("/Patient/any/$everything?_since=yesterday");

        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(OperationOutcome.IssueType.NotFound, Assert.Single(outcome.Issue).Code);
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Contains("_since", Assert.Single(badOutcome.Issue).Diagnostics ?? "");
    }
}

public sealed class SqliteEverythingTests(SqliteServiceHost host) : EverythingTests(host), IClassFixture<SqliteServiceHost>;

public sealed class PostgresEverythingTests(PostgresServiceHost host) : EverythingTests(host), IClassFixture<PostgresServiceHost>;
