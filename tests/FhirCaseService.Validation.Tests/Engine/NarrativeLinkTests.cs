using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>Narrative hyperlinks as the reference validator checks them: internal links resolve in the resource or its Bundle; no script or unfollowable schemes.</summary>
public sealed class NarrativeLinkTests
{
    private static string Patient(string div, string id = "p1") => $$"""
        { "resourceType": "Patient", "id": "{{id}}",
          "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">{{div}}</div>" },
          "name": [ { "id": "main-name", "family": "Chalmers" } ] }
        """;

    [Theory]
    [InlineData("<a name=\\\"top\\\">Top</a><p><a href=\\\"#top\\\">back to top</a></p>")]
    [InlineData("<p id=\\\"para\\\">x</p><a href=\\\"#para\\\">the paragraph</a>")]
    [InlineData("<p><a href=\\\"#main-name\\\">the name element</a></p>")]
    [InlineData("<p><a href=\\\"#p1\\\">this patient</a></p>")]
    [InlineData("<p><a href=\\\"https://example.org/page.html\\\">elsewhere</a> <a href=\\\"Patient-other.html\\\">a page</a> <a href=\\\"#\\\">top</a></p>")]
    public async Task Links_that_resolve_or_cannot_be_judged_are_fine(string div)
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Patient(div));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Theory]
    [InlineData("<p><a href=\\\"#nowhere\\\">missing</a></p>")]
    [InlineData("<p><a href=\\\"\\\">empty</a></p>")]
    [InlineData("<p><a href=\\\"javascript:alert(1)\\\">script</a></p>")]
    [InlineData("<p><a href=\\\"urn:uuid:5f1c8a4e-8a53-4a8e-9d6a-0b7a2c1e3f40\\\">an entry</a></p>")]
    public async Task Links_that_go_nowhere_run_script_or_cannot_be_followed_are_errors(string div)
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Patient(div));

        Assert.Equal("Patient.text.div", EngineTestSupport.Single(result, "narrative-link").Location.Expression);
    }

    [Fact]
    public async Task An_internal_link_may_point_at_another_entry_of_its_Bundle()
    {
        static string Entry(string id, string div) => $$"""
            { "fullUrl": "http://example.org/fhir/Patient/{{id}}", "resource": {{Patient(div, id)}} }
            """;
        var bundle = $$"""
            { "resourceType": "Bundle", "type": "collection", "entry": [
              {{Entry("a", "<p><a name=\\\"Patient_a\\\"> </a>Patient a, see <a href=\\\"#Patient_b\\\">b</a></p>")}},
              {{Entry("b", "<p><a name=\\\"Patient_b\\\"> </a>Patient b, see <a href=\\\"#Patient_c\\\">c</a></p>")}} ] }
            """;

        var result = await EngineTestSupport.ValidateJsonAsync(bundle);

        var error = EngineTestSupport.Single(result, "narrative-link");
        Assert.Equal("Bundle.entry[1].resource.text.div", error.Location.Expression);
        Assert.Contains("#Patient_c", error.Message, StringComparison.Ordinal);
    }
}
