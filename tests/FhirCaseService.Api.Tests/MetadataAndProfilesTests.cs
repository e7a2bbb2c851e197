using System.Net;
using System.Xml.Linq;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

public sealed class MetadataAndProfilesTests(ServiceHost host) : IClassFixture<ServiceHost>
{
    private const string MrdProfile = "https://fhircase.example.org/fhir/StructureDefinition/fhircase-mrd";

    private async Task<(HttpResponseMessage Response, T Resource)> GetAsync<T>(string path) where T : Resource
    {
        var response = await host.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        return (response, FhirSerialization.StrictJson.Deserialize<T>(body));
    }

    [Fact]
    public async Task Metadata_is_a_CapabilityStatement_for_R4_that_lists_the_served_profile_types()
    {
        var (response, statement) = await GetAsync<CapabilityStatement>("/metadata");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FHIRVersion.N4_0_1, statement.FhirVersion);
        var served = statement.Rest.Single().Resource.Select(r => r.Type ?? "").ToArray();
        Assert.Superset(new HashSet<string> { "CodeSystem", "StructureDefinition", "ValueSet", "Patient", "Observation" }, served.ToHashSet());
        Assert.Equal(served.Length, served.Distinct().Count());
        Assert.All(statement.Rest.Single().Resource, r => Assert.Contains(r.Interaction, i => i.Code == CapabilityStatement.TypeRestfulInteraction.Read));
    }

    [Theory]
    [InlineData("/metadata?_format=xml", null)]
    [InlineData("/metadata", "application/fhir+xml")]
    public async Task Metadata_is_served_as_XML_when_format_or_Accept_asks_for_it(string path, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);

        var response = await host.Client.SendAsync(request);

        Assert.Equal("application/fhir+xml", response.Content.Headers.ContentType?.MediaType);
        var root = XDocument.Parse(await response.Content.ReadAsStringAsync()).Root;
        Assert.NotNull(root);
        Assert.Equal("{http://hl7.org/fhir}CapabilityStatement", root.Name.ToString());
    }

    [Fact]
    public async Task Pretty_output_is_indented_only_when_asked()
    {
        var compact = await host.Client.GetStringAsync("/metadata");
        var pretty = await host.Client.GetStringAsync("/metadata?_pretty=true");

        Assert.DoesNotContain('\n', compact);
        Assert.Contains('\n', pretty);
    }

    [Fact]
    public async Task A_profile_is_read_by_id_with_its_generated_snapshot()
    {
        var (response, profile) = await GetAsync<StructureDefinition>("/StructureDefinition/fhircase-mrd");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MrdProfile, profile.Url);
        Assert.NotNull(profile.Snapshot);
        Assert.Contains(profile.Snapshot.Element, e => e.Path == "Observation.value[x]");
    }

    [Fact]
    public async Task Profiles_are_searchable_by_canonical_url()
    {
        var (_, bundle) = await GetAsync<Bundle>($"/StructureDefinition?url={Uri.EscapeDataString(MrdProfile)}");

        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        var entry = Assert.Single(bundle.Entry);
        Assert.Equal(MrdProfile, Assert.IsType<StructureDefinition>(entry.Resource).Url);
        Assert.EndsWith("/StructureDefinition/fhircase-mrd", entry.FullUrl);
    }

    [Fact]
    public async Task Searching_without_parameters_lists_every_profile_of_the_package()
    {
        var (_, bundle) = await GetAsync<Bundle>("/StructureDefinition");

        var urls = bundle.Entry.Select(e => Assert.IsType<StructureDefinition>(e.Resource).Url).ToArray();
        Assert.Contains(MrdProfile, urls);
        Assert.Contains("https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient", urls);
        Assert.Equal(bundle.Total, urls.Length);
    }

    [Fact]
    public async Task An_unknown_profile_answers_404_with_an_OperationOutcome()
    {
        var (response, outcome) = await GetAsync<OperationOutcome>("/StructureDefinition/no-such-profile");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal(OperationOutcome.IssueType.NotFound, issue.Code);
        Assert.Contains("no-such-profile", issue.Diagnostics ?? "");
    }

    [Fact]
    public async Task An_unknown_route_answers_with_an_OperationOutcome_not_an_empty_body()
    {
        var (response, outcome) = await GetAsync<OperationOutcome>("/NoSuchType/1/_nothing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(OperationOutcome.IssueType.NotSupported, Assert.Single(outcome.Issue).Code);
    }

    [Fact]
    public async Task Liveness_and_readiness_endpoints_answer_healthy()
    {
        Assert.Equal("Healthy", await host.Client.GetStringAsync("/health/live"));
        Assert.Equal("Healthy", await host.Client.GetStringAsync("/health/ready"));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_metadata_endpoint()
    {
        var document = await host.Client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/metadata\"", document);
    }
}
