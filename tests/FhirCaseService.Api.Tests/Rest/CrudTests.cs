using System.Net;
using System.Net.Http.Headers;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

public abstract class CrudTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    [Fact]
    public async Task Create_assigns_a_server_id_and_answers_201_with_Location_ETag_and_Last_Modified()
    {
        var patient = TestData.NewPatient();
        patient.Id = "chosen-by-client";

        var response = await _client.PostAsync("/Patient", patient);

        Assert.Equal(HttpStatusCode.Created, response.Status);
        var created = response.As<Patient>();
        Assert.NotEqual("chosen-by-client", created.Id);
        Assert.Equal("1", created.Meta!.VersionId);
        Assert.Equal("W/\"1\"", response.ETag);
        Assert.EndsWith($"/Patient/{created.Id}/_history/1", response.Location);
        Assert.StartsWith(host.BaseAddress.ToString().TrimEnd('/'), response.Location);
        Assert.NotNull(response.LastModified);
        Assert.Equal(created.Meta!.LastUpdated!.Value.ToUnixTimeSeconds(), response.LastModified!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Read_returns_the_current_version_with_its_ETag_and_404_for_an_unknown_id()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());

        var read = await _client.GetAsync($"/Patient/{created.Id}");
        var unknown = await _client.GetAsync("/Patient/no-such-patient");

        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal(created.Identifier[0].Value, read.As<Patient>().Identifier[0].Value!);
        Assert.Equal("W/\"1\"", read.ETag);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(OperationOutcome.IssueType.NotFound, Assert.Single(unknown.Issues).Code);
    }

    [Fact]
    public async Task Read_with_If_None_Match_on_the_current_version_answers_304()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());

        var response = await _client.GetAsync($"/Patient/{created.Id}", h => h.IfNoneMatch.Add(new EntityTagHeaderValue("\"1\"", isWeak: true)));

        Assert.Equal(HttpStatusCode.NotModified, response.Status);
        Assert.Equal("", response.Body);
    }

    [Fact]
    public async Task Update_adds_a_version_and_vread_returns_each_version()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        created.Gender = AdministrativeGender.Female;

        var update = await _client.PutAsync($"/Patient/{created.Id}", created);
        var first = await _client.GetAsync($"/Patient/{created.Id}/_history/1");
        var second = await _client.GetAsync($"/Patient/{created.Id}/_history/2");
        var third = await _client.GetAsync($"/Patient/{created.Id}/_history/3");

        Assert.Equal(HttpStatusCode.OK, update.Status);
        Assert.Equal("W/\"2\"", update.ETag);
        Assert.EndsWith($"/Patient/{created.Id}/_history/2", update.Location);
        Assert.Equal(AdministrativeGender.Male, first.As<Patient>().Gender);
        Assert.Equal(AdministrativeGender.Female, second.As<Patient>().Gender);
        Assert.Equal("W/\"2\"", second.ETag);
        Assert.Equal(HttpStatusCode.NotFound, third.Status);
    }

    [Fact]
    public async Task Update_with_an_id_the_server_does_not_know_creates_the_resource_with_that_id()
    {
        var id = "client-" + Guid.NewGuid().ToString("N")[..12];
        var patient = TestData.NewPatient();
        patient.Id = id;

        var response = await _client.PutAsync($"/Patient/{id}", patient);

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal(id, response.As<Patient>().Id);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient/{id}")).Status);
    }

    [Fact]
    public async Task Update_with_a_stale_If_Match_answers_412_and_writes_nothing()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        created.Gender = AdministrativeGender.Female;
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync($"/Patient/{created.Id}", created)).Status);
        created.Gender = AdministrativeGender.Other;

        var stale = await _client.PutAsync($"/Patient/{created.Id}", created, h => h.IfMatch.Add(new EntityTagHeaderValue("\"1\"", isWeak: true)));
        var current = await _client.PutAsync($"/Patient/{created.Id}", created, h => h.IfMatch.Add(new EntityTagHeaderValue("\"2\"", isWeak: true)));

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal(OperationOutcome.IssueType.Conflict, Assert.Single(stale.Issues).Code);
        Assert.Equal(HttpStatusCode.OK, current.Status);
        Assert.Equal("3", current.As<Patient>().Meta!.VersionId);
    }

    [Fact]
    public async Task Update_with_the_content_already_stored_creates_no_new_version()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());

        var again = await _client.PutAsync($"/Patient/{created.Id}", created);

        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("W/\"1\"", again.ETag);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/Patient/{created.Id}/_history/2")).Status);
    }

    [Fact]
    public async Task Update_whose_body_id_differs_from_the_URL_answers_400()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());

        var response = await _client.PutAsync("/Patient/some-other-id", created);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Patient.id", Assert.Single(Assert.Single(response.Issues).Expression));
    }

    [Fact]
    public async Task Delete_makes_read_answer_410_while_vread_still_finds_the_old_version()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());

        var delete = await _client.DeleteAsync($"/Patient/{created.Id}");
        var read = await _client.GetAsync($"/Patient/{created.Id}");
        var firstVersion = await _client.GetAsync($"/Patient/{created.Id}/_history/1");
        var deleteUnknown = await _client.DeleteAsync("/Patient/never-existed");

        Assert.Equal(HttpStatusCode.NoContent, delete.Status);
        Assert.Equal("W/\"2\"", delete.ETag);
        Assert.Equal(HttpStatusCode.Gone, read.Status);
        Assert.Equal(OperationOutcome.IssueType.Deleted, Assert.Single(read.Issues).Code);
        Assert.Equal(HttpStatusCode.OK, firstVersion.Status);
        Assert.Equal(HttpStatusCode.NoContent, deleteUnknown.Status);
    }

    [Fact]
    public async Task Delete_with_a_stale_If_Match_answers_412_and_keeps_the_resource()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());

        var response = await _client.DeleteAsync($"/Patient/{created.Id}", h => h.IfMatch.Add(new EntityTagHeaderValue("\"7\"", isWeak: true)));

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient/{created.Id}")).Status);
    }

    [Theory]
    [InlineData("return=minimal", "")]
    [InlineData("return=representation", "Patient")]
    [InlineData("return=OperationOutcome", "OperationOutcome")]
    public async Task Prefer_return_chooses_the_body_of_a_write(string prefer, string expectedResourceType)
    {
        var response = await _client.PostAsync("/Patient", TestData.NewPatient(), h => h.Add("Prefer", prefer));

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.NotNull(response.Location);
        if (expectedResourceType.Length == 0)
            Assert.Equal("", response.Body);
        else
            Assert.Equal(expectedResourceType, FhirSerialization.StrictJson.DeserializeResource(response.Body).TypeName);
    }

    [Fact]
    public async Task An_XML_body_is_accepted_and_XML_is_answered_when_asked()
    {
        var xml = FhirSerialization.ToXml(TestData.NewPatient());

        var response = await _client.SendAsync(HttpMethod.Post, "/Patient?_format=xml", xml, contentType: "application/fhir+xml");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal("application/fhir+xml", response.ContentHeaders?.ContentType?.MediaType);
        Assert.Equal("Patient", FhirSerialization.StrictXml.DeserializeResource(response.Body).TypeName);
    }

    [Fact]
    public async Task A_body_of_another_type_answers_400()
    {
        var response = await _client.PostAsync("/Observation", TestData.NewPatient());

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("Patient", Assert.Single(response.Issues).Diagnostics);
    }

    [Fact]
    public async Task A_body_that_is_not_FHIR_answers_400_and_a_non_FHIR_media_type_415()
    {
        var garbage = await _client.SendAsync(HttpMethod.Post, "/Patient", "{ not json");
        var text = await _client.SendAsync(HttpMethod.Post, "/Patient", "hello", contentType: "text/plain");

        Assert.Equal(HttpStatusCode.BadRequest, garbage.Status);
        Assert.NotEmpty(garbage.Issues);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.Status);
        Assert.Equal(OperationOutcome.IssueType.NotSupported, Assert.Single(text.Issues).Code);
    }

    [Fact]
    public async Task A_resource_that_breaks_its_profile_answers_422_with_the_rule_location_and_is_not_stored()
    {
        var invalid = File.ReadAllText(TestData.ExamplePath("invalid", "patient-gender-missing.json"));
        var before = await _client.LatestChangeAsync();

        var response = await _client.SendAsync(HttpMethod.Post, "/Patient", invalid);

        Assert.Equal((HttpStatusCode)422, response.Status);
        var issue = Assert.Single(response.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Patient", Assert.Single(issue.Expression));
        Assert.Contains("Patient.gender", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains(issue.Extension, e => e.Url!.EndsWith("operationoutcome-issue-line", StringComparison.Ordinal));
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Metadata_lists_the_interactions_served_for_each_stored_type()
    {
        var statement = (await _client.GetAsync("/metadata")).As<CapabilityStatement>();

        var rest = statement.Rest.Single();
        var patient = rest.Resource.Single(r => r.Type == "Patient");
        var codes = patient.Interaction.Select(i => i.Code).ToHashSet();
        Assert.Superset(new HashSet<CapabilityStatement.TypeRestfulInteraction?>
        {
            CapabilityStatement.TypeRestfulInteraction.Create, CapabilityStatement.TypeRestfulInteraction.Read,
            CapabilityStatement.TypeRestfulInteraction.Vread, CapabilityStatement.TypeRestfulInteraction.Update,
            CapabilityStatement.TypeRestfulInteraction.Delete, CapabilityStatement.TypeRestfulInteraction.HistoryInstance,
            CapabilityStatement.TypeRestfulInteraction.HistoryType,
        }, codes);
        var system = rest.Interaction.Select(i => i.Code).ToHashSet();
        Assert.Contains(CapabilityStatement.SystemRestfulInteraction.Transaction, system);
        Assert.Contains(CapabilityStatement.SystemRestfulInteraction.Batch, system);
        Assert.Contains(CapabilityStatement.SystemRestfulInteraction.HistorySystem, system);
        Assert.Contains(rest.Operation, o => o.Name == "validate");
    }

    [Fact]
    public async Task Metadata_names_our_profiles_as_supported_for_the_types_they_constrain()
    {
        var resources = (await _client.GetAsync("/metadata")).As<CapabilityStatement>().Rest.Single().Resource;

        Assert.Contains(TestData.PatientProfile, resources.Single(r => r.Type == "Patient").SupportedProfile);
        var observation = resources.Single(r => r.Type == "Observation").SupportedProfile;
        Assert.Contains("https://fhircase.example.org/fhir/StructureDefinition/fhircase-mrd", observation);
        Assert.DoesNotContain(TestData.PatientProfile, observation);
    }
}

public sealed class CrudTestsOnSqlite(SqliteServiceHost host) : CrudTests(host), IClassFixture<SqliteServiceHost>;

public sealed class CrudTestsOnPostgres(PostgresServiceHost host) : CrudTests(host), IClassFixture<PostgresServiceHost>;
