using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

public sealed partial class OpenApiTests(ServiceHost host) : IClassFixture<ServiceHost>
{
    private async Task<JsonDocument> DocumentAsync() => JsonDocument.Parse(await host.Client.GetStringAsync("/openapi/v1.json"));

    [Fact]
    public async Task The_OpenAPI_document_describes_search_everything_and_the_case_series_operations()
    {
        using var document = await DocumentAsync();
        var paths = document.RootElement.GetProperty("paths");

        Assert.Contains("FHIR R4", document.RootElement.GetProperty("info").GetProperty("title").GetString());
        foreach (var path in new[] { "/Patient", "/Observation/_search", "/Patient/{id}/$everything", "/$convert-case-series", "/$import-case-series", "/$case-series-summary", "/schemas/case-series.schema.json", "/OperationDefinition/{id}" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
    }

    [Theory]
    [InlineData("/$convert-case-series")]
    [InlineData("/$import-case-series")]
    public async Task The_case_series_record_body_refers_to_the_record_schema(string path)
    {
        using var document = await DocumentAsync();

        var body = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("requestBody");
        var schema = body.GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.Equal("#/components/schemas/CaseSeriesRecord", schema.GetProperty("$ref").GetString());
        var record = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("CaseSeriesRecord");
        Assert.True(record.GetProperty("properties").TryGetProperty("seriesId", out _));
        Assert.Equal("/schemas/case-series.schema.json", record.GetProperty("externalDocs").GetProperty("url").GetString());
        var patients = record.GetProperty("properties").GetProperty("patients").GetProperty("items");
        Assert.Equal("#/components/schemas/CaseSeriesPatient", patients.GetProperty("$ref").GetString());
    }

    [Fact]
    public async Task The_API_reference_page_loads_everything_from_the_service_itself()
    {
        using var response = await host.Client.GetAsync("/docs");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var sources = SourceAttribute().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.False(Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme.StartsWith("http", StringComparison.Ordinal), $"{s} is loaded from elsewhere"));
        foreach (var source in sources)
        {
            using var asset = await host.Client.GetAsync(new Uri(new Uri(host.BaseAddress, "/docs/"), source));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        }
    }

    [GeneratedRegex("(?:src|href)=\"([^\"]+)\"")]
    private static partial Regex SourceAttribute();
}
