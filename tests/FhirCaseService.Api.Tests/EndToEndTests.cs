using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FhirCaseService.Api.App;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

/// <summary>
/// The issue's "done when", on SQLite and on PostgreSQL: the four patients' records go in through $import-case-series
/// and as their transaction Bundle, come back by search and paging, and every invalid example inside a transaction
/// answers 422 at the right location and writes nothing.
/// </summary>
public abstract partial class EndToEndTests(ServiceHost host)
{
    private const string GroupId = "aertgeerts-2025-ino-bridge";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly RestTestClient _rest = new(host);
    private readonly SearchTestClient _search = new(host);

    private static Bundle ExampleBundle() =>
        FhirSerialization.StrictJson.Deserialize<Bundle>(File.ReadAllText(TestData.ExamplePath("bundles", $"{GroupId}.json")));

    private Task<FhirResponse> ImportAsync() =>
        _rest.SendAsync(HttpMethod.Post, "/$import-case-series", File.ReadAllText(CaseSeriesTests.ExampleRecordPath), contentType: "application/json");

    [Fact]
    public async Task The_four_patients_imported_and_posted_as_a_transaction_are_stored_once_and_read_back_by_search_and_paging()
    {
        var expected = ExampleBundle();
        var keys = expected.Entry.Select(e => e.Request!.Url!).ToList();

        var imported = await ImportAsync();
        Assert.True(imported.Status == HttpStatusCode.OK, imported.Body);
        var response = imported.As<Bundle>();
        Assert.Equal(Bundle.BundleType.TransactionResponse, response.Type);
        Assert.Equal(keys.Count, response.Entry.Count);
        // 201 on the first import of this host's database (another test of the class may have imported already: then 200).
        Assert.All(response.Entry, e => Assert.Matches("^20[01]", e.Response!.Status));
        var afterImport = await _rest.LatestChangeAsync();

        var again = await ImportAsync();
        var posted = await _rest.PostBundleAsync(expected);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.All(again.As<Bundle>().Entry, e => Assert.StartsWith("200", e.Response!.Status));
        Assert.Equal(HttpStatusCode.OK, posted.Status);
        Assert.All(posted.As<Bundle>().Entry, e => Assert.StartsWith("200", e.Response!.Status));
        Assert.Equal(afterImport, await _rest.LatestChangeAsync());

        foreach (var type in keys.GroupBy(k => k.Split('/')[0]))
        {
            var ids = string.Join(",", type.Select(k => k.Split('/')[1]));
            var (_, found) = await _search.GetAsync<Bundle>($"/{type.Key}?_id={ids}&_count=100&_summary=count");
            Assert.Equal(type.Count(), found.Total);
        }

        var observationIds = keys.Where(k => k.StartsWith("Observation/", StringComparison.Ordinal)).Select(k => k.Split('/')[1]).ToList();
        var pages = await _search.AllPagesAsync($"/Observation?_id={string.Join(",", observationIds)}&_count=10&_sort=-date");
        Assert.Equal((observationIds.Count + 9) / 10, pages.Count);
        Assert.Equal(observationIds.Order(), pages.SelectMany(SearchTestClient.Matches).Select(r => r.Id!).Order());

        var patient = expected.Entry.Select(e => e.Resource).OfType<Patient>().First();
        var pseudonym = patient.Identifier.Single(i => i.System == TestData.PseudonymSystem).Value;
        var fullUrl = expected.Entry.Single(e => e.Resource == patient).FullUrl;
        var ofPatient = expected.Entry.Where(e => e.Resource is Observation o && o.Subject?.Reference == fullUrl).Select(e => e.Resource!.Id).ToList();
        var (_, chained) = await _search.GetAsync<Bundle>(
            $"/Observation?subject:Patient.identifier={Uri.EscapeDataString($"{TestData.PseudonymSystem}|{pseudonym}")}&_count=100");
        Assert.Equal(ofPatient.Order(), SearchTestClient.Matches(chained).Select(r => r.Id).Order());

        var (_, everything) = await _search.GetAsync<Bundle>($"/Patient/{patient.Id}/$everything?_count=200");
        Assert.Equal($"Patient/{patient.Id}", SearchTestClient.MatchKeys(everything)[0]);
        Assert.Superset(ofPatient.Select(id => $"Observation/{id}").ToHashSet(), SearchTestClient.MatchKeys(everything).ToHashSet());
    }

    [Fact]
    public async Task The_summary_of_the_stored_group_equals_the_summary_of_the_converted_Bundle()
    {
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync()).Status);
        var expected = JsonSerializer.Serialize(CohortSummaryCalculator.Compute(ResourceSet.FromBundle(ExampleBundle())), Web);

        var json = await host.Client.GetStringAsync($"/$case-series-summary?group={GroupId}");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/$case-series-summary?group={GroupId}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        using var fhir = await host.Client.SendAsync(request);
        var parameters = await SearchTestClient.ReadAsync<Parameters>(fhir);
        var (missing, _) = await _search.GetAsync<OperationOutcome>("/$case-series-summary?group=no-such-group");

        Assert.Equal(expected, json);
        Assert.Equal(4, JsonDocument.Parse(json).RootElement.GetProperty("patients").GetInt32());
        Assert.Equal(4, ((Integer)parameters.GetSingleValue<Integer>("patients")!).Value);
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task The_stored_groups_summary_and_timeline_read_a_few_patients_at_a_time_equal_the_converted_Bundles(int patientsPerPage)
    {
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync()).Status);
        var expected = CaseSeriesTimeline.Compute(ResourceSet.FromBundle(ExampleBundle()));
        var (status, group) = await _search.GetAsync<Hl7.Fhir.Model.Group>($"/Group/{GroupId}");
        Assert.Equal(HttpStatusCode.OK, status);
        var cohort = new CohortAccumulator(keepEvents: true);

        await new StoredCohortReader(_search.Store, patientsPerPage).AccumulateAsync(cohort, group, CancellationToken.None);
        var read = CaseSeriesTimeline.From(cohort);

        Assert.Equal(JsonSerializer.Serialize(expected.Summary, Web), JsonSerializer.Serialize(read.Summary, Web));
        Assert.Equal(JsonSerializer.Serialize(expected.Patients, Web), JsonSerializer.Serialize(read.Patients, Web));
    }

    [Fact]
    public async Task A_record_that_breaks_the_input_rules_imports_nothing()
    {
        var before = await _rest.LatestChangeAsync();
        var record = File.ReadAllText(CaseSeriesTests.ExampleRecordPath).Replace("\"seriesId\": \"aertgeerts-2025-ino-bridge\"", "\"seriesId\": \"Bad Id\"");

        var response = await _rest.SendAsync(HttpMethod.Post, "/$import-case-series", record, contentType: "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains(response.Issues, i => i.Expression.Contains("seriesId"));
        Assert.Equal(before, await _rest.LatestChangeAsync());
    }

    public static TheoryData<string> InvalidExamples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestData.ExamplePath("invalid"), "*.json").Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal)).Order())
            data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public async Task An_invalid_example_inside_a_transaction_answers_422_at_its_entry_and_writes_nothing(string name)
    {
        var expectation = JsonNode.Parse(File.ReadAllText(TestData.ExamplePath("invalid", name + ".expected.json")))!;
        var (bundle, index) = TransactionWithInvalidExample(name);
        var before = await _rest.LatestChangeAsync();

        var response = await _rest.SendAsync(HttpMethod.Post, "/", bundle);

        if ((string?)expectation["severity"] == "warning")
        {
            // An extensible binding is a warning: the transaction goes through.
            Assert.True(response.Status == HttpStatusCode.OK, response.Body);
            return;
        }
        Assert.True(response.Status == HttpStatusCode.UnprocessableEntity, $"{response.Status}: {response.Body}");
        var expression = (string)expectation["expression"]!;
        var dot = expression.IndexOf('.');
        var location = $"Bundle.entry[{index}].resource{(dot < 0 ? "" : expression[dot..])}";
        Assert.Contains(response.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Expression.Contains(location));
        Assert.Equal(before, await _rest.LatestChangeAsync());
    }

    /// <summary>
    /// Every valid example resource as a POST entry with a urn:uuid fullUrl (references rewritten to them), then the
    /// invalid example as the last entry, kept as text: some invalid examples cannot even be parsed into objects.
    /// </summary>
    private static (string Bundle, int Index) TransactionWithInvalidExample(string name)
    {
        var resources = Directory.GetFiles(TestData.ExamplePath("resources"), "*.json").Order()
            .Select(File.ReadAllText)
            .Append(File.ReadAllText(TestData.ExamplePath("invalid", name + ".json")))
            .Select(text => (Key: KeyOf(JsonNode.Parse(text)!), Text: text))
            .ToList();
        var urns = resources.ToDictionary(r => r.Key, _ => $"urn:uuid:{Guid.NewGuid()}");
        var entries = new JsonArray();
        foreach (var (key, text) in resources)
        {
            var rewritten = ReferenceProperty().Replace(text,
                m => urns.TryGetValue(m.Groups[2].Value, out var urn) ? $"{m.Groups[1].Value}\"{urn}\"" : m.Value);
            var resource = JsonNode.Parse(rewritten)!.AsObject();
            resource.Remove("id");
            entries.Add(new JsonObject
            {
                ["fullUrl"] = urns[key],
                ["resource"] = resource,
                ["request"] = new JsonObject { ["method"] = "POST", ["url"] = key.Split('/')[0] },
            });
        }
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = "transaction", ["entry"] = entries };
        return (bundle.ToJsonString(), entries.Count - 1);
    }

    private static string KeyOf(JsonNode resource) => $"{resource["resourceType"]}/{resource["id"]}";

    [GeneratedRegex("(\"reference\"\\s*:\\s*)\"([A-Za-z]+/[A-Za-z0-9\\-.]+)\"")]
    private static partial Regex ReferenceProperty();
}

public sealed class SqliteEndToEndTests(SqliteServiceHost host) : EndToEndTests(host), IClassFixture<SqliteServiceHost>;

public sealed class PostgresEndToEndTests(PostgresServiceHost host) : EndToEndTests(host), IClassFixture<PostgresServiceHost>;
