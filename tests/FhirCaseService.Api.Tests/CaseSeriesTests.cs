using System.Net;
using System.Text;
using System.Text.Json;
using FhirCaseService.CaseSeries;
using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.CaseSeries.Schema;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

/// <summary>
/// The case-series operations that store nothing, the record's JSON Schema and the OperationDefinitions. Import and
/// the summary over stored data run on both backends in <see cref="EndToEndTests"/>.
/// </summary>
public sealed class CaseSeriesTests(ServiceHost host) : IClassFixture<ServiceHost>
{
    public static string ExampleRecordPath => TestData.ExamplePath("case-series", "aertgeerts-2025-ino-bridge.json");

    private async Task<HttpResponseMessage> PostRecordAsync(string path, string record)
    {
        using var content = new StringContent(record, Encoding.UTF8, "application/json");
        return await host.Client.PostAsync(path, content);
    }

    [Fact]
    public async Task Convert_answers_the_same_transaction_Bundle_as_the_converter_and_stores_nothing()
    {
        var record = await File.ReadAllTextAsync(ExampleRecordPath);

        using var response = await PostRecordAsync("/$convert-case-series", record);
        var bundle = await SearchTestClient.ReadAsync<Bundle>(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Bundle.BundleType.Transaction, bundle.Type);
        Assert.Equal(CaseSeriesJson.Serialize(CaseSeriesConverter.Convert(record).Bundle!), CaseSeriesJson.Serialize(bundle));
        var (_, stored) = await new SearchTestClient(host).GetAsync<Bundle>("/Group?_summary=count");
        Assert.Equal(0, stored.Total);
    }

    [Fact]
    public async Task Convert_of_a_bad_record_answers_400_naming_each_field_rule_and_line()
    {
        var record = """
            {
              "seriesId": "Not Valid",
              "title": "t",
              "citation": "c",
              "publicationDate": "2025",
              "compiledBy": "me",
              "timeline": { "anchorDate": "2020", "explanation": "x" },
              "patients": []
            }
            """;

        using var response = await PostRecordAsync("/$convert-case-series", record);
        var outcome = await SearchTestClient.ReadAsync<OperationOutcome>(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var seriesId = Assert.Single(outcome.Issue, i => i.Expression.Contains("seriesId"));
        Assert.Equal(OperationOutcome.IssueType.Value, seriesId.Code);
        Assert.Equal("invalid-value", seriesId.Details?.Text);
        Assert.Equal(2, seriesId.GetIntegerExtension("http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"));
        Assert.Contains(outcome.Issue, i => i.Expression.Contains("patients"));
    }

    [Fact]
    public async Task Convert_of_text_that_is_not_JSON_answers_400_not_500()
    {
        using var response = await PostRecordAsync("/$convert-case-series", "{ not json");
        var outcome = await SearchTestClient.ReadAsync<OperationOutcome>(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(OperationOutcome.IssueType.Structure, Assert.Single(outcome.Issue).Code);
    }

    [Fact]
    public async Task The_record_JSON_Schema_is_served_as_embedded_at_a_stable_url()
    {
        using var response = await host.Client.GetAsync("/schemas/case-series.schema.json");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/schema+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(CaseSeriesSchema.ReadText(), body);
        using var schema = JsonDocument.Parse(body);
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.RootElement.GetProperty("$schema").GetString());
    }

    [Theory]
    [InlineData("convert-case-series", "convert-case-series", true)]
    [InlineData("import-case-series", "import-case-series", true)]
    [InlineData("case-series-summary", "case-series-summary", true)]
    [InlineData("patient-everything", "everything", false)]
    public async Task Each_operation_has_an_OperationDefinition_listed_in_the_CapabilityStatement(string id, string code, bool system)
    {
        var client = new SearchTestClient(host);
        var (status, definition) = await client.GetAsync<OperationDefinition>($"/OperationDefinition/{id}");
        var (_, statement) = await client.GetAsync<CapabilityStatement>("/metadata");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(code, definition.Code);
        Assert.Equal(system, definition.System);
        Assert.Contains(statement.Rest.Single().Operation, o => o.Name == code && o.Definition == definition.Url);
    }

    [Fact]
    public async Task An_unknown_OperationDefinition_answers_404()
    {
        var (status, _) = await new SearchTestClient(host).GetAsync<OperationOutcome>("/OperationDefinition/no-such-operation");

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task The_CapabilityStatement_lists_search_for_every_case_series_type()
    {
        var (_, statement) = await new SearchTestClient(host).GetAsync<CapabilityStatement>("/metadata");

        foreach (var type in new[] { "Patient", "Condition", "MedicationAdministration", "Procedure", "Observation", "Provenance", "Group" })
        {
            var resource = Assert.Single(statement.Rest.Single().Resource, r => r.Type == type);
            Assert.Contains(resource.Interaction, i => i.Code == CapabilityStatement.TypeRestfulInteraction.SearchType);
            Assert.Contains(resource.SearchParam, p => p.Name == "_id");
        }
        var observation = statement.Rest.Single().Resource.Single(r => r.Type == "Observation");
        Assert.Contains(observation.SearchParam, p => p.Name == "value-quantity" && p.Type == SearchParamType.Quantity);
    }
}

internal static class OperationOutcomeIssueExtensions
{
    public static int? GetIntegerExtension(this OperationOutcome.IssueComponent issue, string url) =>
        (issue.Extension.FirstOrDefault(e => e.Url == url)?.Value as Integer)?.Value;
}
