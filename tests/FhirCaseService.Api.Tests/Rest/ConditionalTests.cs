using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

public abstract class ConditionalTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    private static string ByPseudonym(string value) => $"identifier={Uri.EscapeDataString($"{TestData.PseudonymSystem}|{value}")}";

    [Fact]
    public async Task Conditional_create_without_a_match_creates()
    {
        var patient = TestData.NewPatient();

        var response = await _client.PostAsync("/Patient", patient, h => h.Add("If-None-Exist", ByPseudonym(patient.Identifier[0].Value!)));

        Assert.Equal(HttpStatusCode.Created, response.Status);
    }

    [Fact]
    public async Task Conditional_create_with_one_match_answers_200_with_that_resource_and_creates_nothing()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());
        var before = await _client.LatestChangeAsync();

        var response = await _client.PostAsync("/Patient", TestData.NewPatient(existing.Identifier[0].Value!),
            h => h.Add("If-None-Exist", ByPseudonym(existing.Identifier[0].Value!)));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(existing.Id, response.As<Patient>().Id);
        Assert.EndsWith($"/Patient/{existing.Id}/_history/1", response.Location);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Conditional_create_with_several_matches_answers_412()
    {
        var pseudonym = "twin-" + Guid.NewGuid().ToString("N");
        await _client.CreateAsync(TestData.NewPatient(pseudonym));
        await _client.CreateAsync(TestData.NewPatient(pseudonym));

        var response = await _client.PostAsync("/Patient", TestData.NewPatient(pseudonym), h => h.Add("If-None-Exist", ByPseudonym(pseudonym)));

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.Status);
        Assert.Equal(OperationOutcome.IssueType.MultipleMatches, Assert.Single(response.Issues).Code);
    }

    [Fact]
    public async Task Conditional_criteria_the_server_does_not_understand_answer_400_instead_of_matching_everything()
    {
        var response = await _client.PostAsync("/Patient", TestData.NewPatient(), h => h.Add("If-None-Exist", "no-such-parameter=1"));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("no-such-parameter", Assert.Single(response.Issues).Diagnostics);
    }

    [Fact]
    public async Task Conditional_update_creates_without_a_match_then_updates_the_match()
    {
        var patient = TestData.NewPatient();
        var url = $"/Patient?{ByPseudonym(patient.Identifier[0].Value!)}";

        var first = await _client.PutAsync(url, patient);
        patient.Gender = AdministrativeGender.Female;
        var second = await _client.PutAsync(url, patient);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        var created = first.As<Patient>();
        var updated = second.As<Patient>();
        Assert.Equal(created.Id, updated.Id);
        Assert.Equal("2", updated.Meta!.VersionId);
        Assert.Equal(AdministrativeGender.Female, updated.Gender);
    }

    [Fact]
    public async Task Conditional_update_with_several_matches_answers_412()
    {
        var pseudonym = "twin-" + Guid.NewGuid().ToString("N");
        await _client.CreateAsync(TestData.NewPatient(pseudonym));
        await _client.CreateAsync(TestData.NewPatient(pseudonym));

        var response = await _client.PutAsync($"/Patient?{ByPseudonym(pseudonym)}", TestData.NewPatient(pseudonym));

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.Status);
    }

    [Fact]
    public async Task Conditional_delete_deletes_the_single_match()
    {
        var existing = await _client.CreateAsync(TestData.NewPatient());

        var response = await _client.DeleteAsync($"/Patient?{ByPseudonym(existing.Identifier[0].Value!)}");

        Assert.Equal(HttpStatusCode.NoContent, response.Status);
        Assert.Equal(HttpStatusCode.Gone, (await _client.GetAsync($"/Patient/{existing.Id}")).Status);
    }
}

public sealed class ConditionalTestsOnSqlite(SqliteServiceHost host) : ConditionalTests(host), IClassFixture<SqliteServiceHost>;

public sealed class ConditionalTestsOnPostgres(PostgresServiceHost host) : ConditionalTests(host), IClassFixture<PostgresServiceHost>;
