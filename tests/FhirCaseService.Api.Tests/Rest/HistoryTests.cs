using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

public abstract class HistoryTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    [Fact]
    public async Task Instance_history_lists_every_version_newest_first_with_the_deletion()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        created.Gender = AdministrativeGender.Female;
        await _client.PutAsync($"/Patient/{created.Id}", created);
        await _client.DeleteAsync($"/Patient/{created.Id}");

        var response = await _client.GetAsync($"/Patient/{created.Id}/_history");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var history = response.As<Bundle>();
        Assert.Equal(Bundle.BundleType.History, history.Type);
        Assert.Equal(["W/\"3\"", "W/\"2\"", "W/\"1\""], history.Entry.Select(e => e.Response!.Etag));
        Assert.Equal([Bundle.HTTPVerb.DELETE, Bundle.HTTPVerb.PUT, Bundle.HTTPVerb.PUT], history.Entry.Select(e => e.Request!.Method!.Value));
        Assert.Null(history.Entry[0].Resource);
        Assert.Equal(AdministrativeGender.Female, Assert.IsType<Patient>(history.Entry[1].Resource).Gender);
        Assert.All(history.Entry, e => Assert.EndsWith($"/Patient/{created.Id}", e.FullUrl));
    }

    [Fact]
    public async Task History_of_an_unknown_resource_answers_404()
    {
        var response = await _client.GetAsync("/Patient/never-there/_history");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
    }

    [Fact]
    public async Task Type_history_pages_with_next_links_that_stay_correct_while_others_write()
    {
        var subject = $"Patient/{(await _client.CreateAsync(TestData.NewPatient())).Id}";
        var created = new List<Observation>();
        for (var i = 0; i < 5; i++)
            created.Add(await _client.CreateAsync(TestData.NewObservation(subject)));
        var ids = created.Select(o => o.Id).ToList();
        var since = Uri.EscapeDataString(created[0].Meta!.LastUpdated!.Value.ToString("o"));

        var first = (await _client.GetAsync($"/Observation/_history?_count=2&_since={since}")).As<Bundle>();
        await _client.CreateAsync(TestData.NewObservation(subject));
        var seen = first.Entry.Select(e => e.Resource!.Id).ToList();
        var next = first.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
        while (next is not null)
        {
            var page = (await _client.GetAsync(next)).As<Bundle>();
            seen.AddRange(page.Entry.Select(e => e.Resource!.Id));
            next = page.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
        }

        Assert.Equal(2, first.Entry.Count);
        Assert.All(first.Entry, e => Assert.IsType<Observation>(e.Resource));
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task System_history_holds_every_type_and_since_leaves_out_older_versions()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        await Task.Delay(20);
        var since = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        await Task.Delay(20);
        var observation = await _client.CreateAsync(TestData.NewObservation($"Patient/{patient.Id}"));

        var all = (await _client.GetAsync("/_history?_count=50")).As<Bundle>();
        var recent = (await _client.GetAsync($"/_history?_since={Uri.EscapeDataString(since)}")).As<Bundle>();

        Assert.Contains(all.Entry, e => e.FullUrl!.EndsWith($"/Patient/{patient.Id}", StringComparison.Ordinal));
        Assert.Contains(all.Entry, e => e.FullUrl!.EndsWith($"/Observation/{observation.Id}", StringComparison.Ordinal));
        Assert.Contains(recent.Entry, e => e.FullUrl!.EndsWith($"/Observation/{observation.Id}", StringComparison.Ordinal));
        Assert.DoesNotContain(recent.Entry, e => e.FullUrl!.EndsWith($"/Patient/{patient.Id}", StringComparison.Ordinal));
    }
}

public sealed class HistoryTestsOnSqlite(SqliteServiceHost host) : HistoryTests(host), IClassFixture<SqliteServiceHost>;

public sealed class HistoryTestsOnPostgres(PostgresServiceHost host) : HistoryTests(host), IClassFixture<PostgresServiceHost>;
