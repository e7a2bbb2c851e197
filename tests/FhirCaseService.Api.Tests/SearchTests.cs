using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

/// <summary>Type-level search over HTTP; run against SQLite and PostgreSQL by the two subclasses at the end.</summary>
public abstract class SearchTests(ServiceHost host)
{
    private const string Cd22 = "51124-6";
    private const string Cd19 = "8117-4";
    private readonly SearchTestClient _client = new(host);

    [Fact]
    public async Task Search_by_identifier_system_answers_a_searchset_with_the_matches_fullUrls_and_total()
    {
        var system = SearchTestClient.NewSystem();
        var first = await _client.CreatePatientAsync(system, "p1");
        var second = await _client.CreatePatientAsync(system, "p2");
        await _client.CreatePatientAsync(SearchTestClient.NewSystem(), "p1");

        var (status, bundle) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        Assert.Equal(2, bundle.Total);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), SearchTestClient.Matches(bundle).Select(r => r.Id).Order());
        Assert.All(bundle.Entry, e => Assert.Equal($"{host.BaseAddress.ToString().TrimEnd('/')}/Patient/{e.Resource!.Id}", e.FullUrl));
        Assert.StartsWith($"{host.BaseAddress.ToString().TrimEnd('/')}/Patient?identifier=", SearchTestClient.LinkOf(bundle, "self"));
    }

    [Fact]
    public async Task Paging_with_next_links_visits_every_match_once_and_previous_leads_back()
    {
        var system = SearchTestClient.NewSystem();
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
            created.Add((await _client.CreatePatientAsync(system, $"p{i}")).Id!);

        var pages = await _client.AllPagesAsync($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_count=3&_total=accurate");

        Assert.Equal([3, 3, 1], pages.Select(p => p.Entry.Count));
        Assert.All(pages, p => Assert.Equal(7, p.Total));
        var seen = pages.SelectMany(SearchTestClient.Matches).Select(r => r.Id!).ToList();
        Assert.Equal(created.Order(), seen.Order());
        Assert.Null(SearchTestClient.LinkOf(pages[0], "previous"));
        var (_, back) = await _client.GetAsync<Bundle>(SearchTestClient.LinkOf(pages[1], "previous")!);
        Assert.Equal(SearchTestClient.Matches(pages[0]).Select(r => r.Id), SearchTestClient.Matches(back).Select(r => r.Id));
        var (_, again) = await _client.GetAsync<Bundle>(SearchTestClient.LinkOf(pages[1], "self")!);
        Assert.Equal(SearchTestClient.Matches(pages[1]).Select(r => r.Id), SearchTestClient.Matches(again).Select(r => r.Id));
    }

    [Fact]
    public async Task Next_links_stay_correct_while_others_write_matching_resources()
    {
        var system = SearchTestClient.NewSystem();
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var created = new List<string>();
        for (var i = 1; i <= 4; i++)
            created.Add((await _client.CreatePatientAsync(system, $"p{i}", id: $"{prefix}-{i}")).Id!);

        var (_, first) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_count=2");
        // Written after the first page, sorting before everything: an offset over live data would repeat a match.
        await _client.CreatePatientAsync(system, "p0", id: $"{prefix}-0");
        await _client.Store.DeleteAsync("Patient", $"{prefix}-4");
        var (_, second) = await _client.GetAsync<Bundle>(SearchTestClient.LinkOf(first, "next")!);

        var seen = SearchTestClient.Matches(first).Concat(SearchTestClient.Matches(second)).Select(r => r.Id!).ToList();
        Assert.Equal(created, seen);
        Assert.Null(SearchTestClient.LinkOf(second, "next"));
    }

    [Fact]
    public async Task An_unknown_parameter_is_ignored_reported_as_outcome_and_left_out_of_the_self_link()
    {
        var system = SearchTestClient.NewSystem();
        await _client.CreatePatientAsync(system, "p1");

        var (status, bundle) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&shoe-size=42");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(SearchTestClient.Matches(bundle));
        var outcome = Assert.Single(bundle.Entry, e => e.Search?.Mode == Bundle.SearchEntryMode.Outcome);
        var issue = Assert.Single(Assert.IsType<OperationOutcome>(outcome.Resource).Issue);
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Contains("shoe-size", issue.Diagnostics ?? "");
        Assert.DoesNotContain("shoe-size", SearchTestClient.LinkOf(bundle, "self") ?? "");
        Assert.Contains("identifier=", SearchTestClient.LinkOf(bundle, "self") ?? "");
    }

    [Fact]
    public async Task An_unknown_parameter_under_strict_handling_answers_400_naming_it()
    {
        var (status, outcome) = await _client.GetAsync<OperationOutcome>("/Patient?shoe-size=42", prefer: "handling=strict");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("shoe-size", Assert.Single(outcome.Issue).Diagnostics ?? "");
    }

    [Fact]
    public async Task A_malformed_value_answers_400_with_an_OperationOutcome()
    {
        var (status, outcome) = await _client.GetAsync<OperationOutcome>("/Patient?birthdate=not-a-date");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(outcome.Issue, i => i.Diagnostics?.Contains("not-a-date") == true);
    }

    [Fact]
    public async Task Summary_count_answers_the_total_without_entries()
    {
        var system = SearchTestClient.NewSystem();
        for (var i = 0; i < 3; i++)
            await _client.CreatePatientAsync(system, $"p{i}");

        var (_, bundle) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_summary=count");

        Assert.Equal(3, bundle.Total);
        Assert.Empty(bundle.Entry);
    }

    [Fact]
    public async Task Summary_true_drops_non_summary_elements_and_tags_the_resource_subsetted()
    {
        var system = SearchTestClient.NewSystem();
        await _client.CreatePatientAsync(system, "p1");

        var (_, bundle) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_summary=true");

        var patient = Assert.IsType<Patient>(Assert.Single(bundle.Entry).Resource);
        Assert.Null(patient.Text);
        Assert.Equal(AdministrativeGender.Female, patient.Gender);
        Assert.Contains(patient.Meta!.Tag, t => t.Code == "SUBSETTED");
    }

    [Fact]
    public async Task Elements_keeps_only_the_named_top_level_elements()
    {
        var system = SearchTestClient.NewSystem();
        var created = await _client.CreatePatientAsync(system, "p1");

        var (_, bundle) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_elements=identifier");

        var patient = Assert.IsType<Patient>(Assert.Single(bundle.Entry).Resource);
        Assert.Equal(created.Id, patient.Id);
        Assert.Single(patient.Identifier);
        Assert.Null(patient.Gender);
        Assert.Null(patient.BirthDate);
        Assert.Contains(patient.Meta!.Tag, t => t.Code == "SUBSETTED");
    }

    [Fact]
    public async Task Include_and_revinclude_add_the_referenced_and_referencing_resources_as_include_entries()
    {
        var system = SearchTestClient.NewSystem();
        var patient = await _client.CreatePatientAsync(system, "p1");
        var observation = await _client.CreateObservationAsync(system, "o1", patient, Cd22);
        var condition = await _client.CreateConditionAsync(system, "c1", patient);

        var (_, forward) = await _client.GetAsync<Bundle>($"/Observation?identifier={Uri.EscapeDataString(system + "|")}&_include=Observation:subject");
        var (_, reverse) = await _client.GetAsync<Bundle>($"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_revinclude=Observation:subject");
        var (_, iterated) = await _client.GetAsync<Bundle>(
            $"/Observation?identifier={Uri.EscapeDataString(system + "|")}&_include=Observation:subject&_revinclude:iterate=Condition:subject");

        Assert.Equal(observation.Id, Assert.Single(SearchTestClient.Matches(forward)).Id);
        Assert.Equal($"Patient/{patient.Id}", Included(forward).Single());
        Assert.Equal($"Observation/{observation.Id}", Included(reverse).Single());
        Assert.Equal(new[] { $"Condition/{condition.Id}", $"Patient/{patient.Id}" }, Included(iterated).Order());
    }

    [Fact]
    public async Task Post_search_with_a_form_body_finds_what_get_finds()
    {
        var system = SearchTestClient.NewSystem();
        var patient = await _client.CreatePatientAsync(system, "p1");
        await _client.CreatePatientAsync(system, "p2", AdministrativeGender.Male);

        var (status, bundle) = await _client.PostFormAsync<Bundle>("/Patient/_search", $"identifier={Uri.EscapeDataString(system + "|")}&gender=female");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(patient.Id, Assert.Single(SearchTestClient.Matches(bundle)).Id);
    }

    [Fact]
    public async Task A_form_search_longer_than_kestrels_default_url_limit_pages_through_its_own_next_links()
    {
        // A registry asks for a list of ids too long for a GET; the next links the server writes then carry the same
        // list, and Kestrel's default 8 KiB request line refused them (414 with no body) before Limits:MaxUrlBytes.
        var system = SearchTestClient.NewSystem();
        var first = await _client.CreatePatientAsync(system, "p1");
        var second = await _client.CreatePatientAsync(system, "p2");
        var ids = new[] { first.Id, second.Id }.Concat(Enumerable.Range(0, 1500).Select(i => $"absent{i}"));

        var (status, page1) = await _client.PostFormAsync<Bundle>("/Patient/_search", $"_id={string.Join(",", ids)}&_count=1");
        var next = SearchTestClient.LinkOf(page1, "next");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(next);
        Assert.True(new Uri(next).PathAndQuery.Length > 8 * 1024, "the next link should be longer than Kestrel's default limit");
        var (nextStatus, page2) = await _client.GetAsync<Bundle>(next);

        Assert.Equal(HttpStatusCode.OK, nextStatus);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), SearchTestClient.Matches(page1).Concat(SearchTestClient.Matches(page2)).Select(r => r.Id).Order());
    }

    [Fact]
    public async Task Chained_and_has_searches_cross_references()
    {
        var system = SearchTestClient.NewSystem();
        var withCd22 = await _client.CreatePatientAsync(system, "p1");
        var withCd19 = await _client.CreatePatientAsync(system, "p2");
        var cd22 = await _client.CreateObservationAsync(system, "o1", withCd22, Cd22);
        await _client.CreateObservationAsync(system, "o2", withCd19, Cd19);

        var (_, chained) = await _client.GetAsync<Bundle>($"/Observation?subject:Patient.identifier={Uri.EscapeDataString(system + "|p1")}");
        var (_, has) = await _client.GetAsync<Bundle>(
            $"/Patient?identifier={Uri.EscapeDataString(system + "|")}&_has:Observation:patient:code={Uri.EscapeDataString("http://loinc.org|" + Cd22)}");

        Assert.Equal(cd22.Id, Assert.Single(SearchTestClient.Matches(chained)).Id);
        Assert.Equal(withCd22.Id, Assert.Single(SearchTestClient.Matches(has)).Id);
    }

    [Fact]
    public async Task Sort_descending_orders_matches_by_date_newest_first()
    {
        var system = SearchTestClient.NewSystem();
        var patient = await _client.CreatePatientAsync(system, "p1");
        var early = await _client.CreateObservationAsync(system, "o1", patient, Cd22, "2024-01-10");
        var late = await _client.CreateObservationAsync(system, "o2", patient, Cd22, "2024-06-10");
        var middle = await _client.CreateObservationAsync(system, "o3", patient, Cd22, "2024-03-10");

        var (_, bundle) = await _client.GetAsync<Bundle>($"/Observation?identifier={Uri.EscapeDataString(system + "|")}&date=ge2024-02&_sort=-date");

        Assert.Equal(new[] { late.Id, middle.Id }, SearchTestClient.Matches(bundle).Select(r => r.Id));
        Assert.DoesNotContain(early.Id, bundle.Entry.Select(e => e.Resource!.Id));
    }

    private static IEnumerable<string> Included(Bundle bundle) =>
        bundle.Entry.Where(e => e.Search?.Mode == Bundle.SearchEntryMode.Include).Select(e => $"{e.Resource!.TypeName}/{e.Resource.Id}");
}

public sealed class SqliteSearchTests(SqliteServiceHost host) : SearchTests(host), IClassFixture<SqliteServiceHost>;

public sealed class PostgresSearchTests(PostgresServiceHost host) : SearchTests(host), IClassFixture<PostgresServiceHost>;
