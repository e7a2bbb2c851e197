using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// The narrative's XHTML is judged as the HL7 reference validator judges it, the same for JSON, XML and SDK objects:
/// well-formed, a root div in the XHTML namespace, no block inside a paragraph (rule <c>xhtml</c>), txt-1 names, txt-2
/// content; not the attribute datatypes of the FHIR narrative schema (an id need not be an XML ID).
/// </summary>
public sealed class NarrativeXhtmlRuleTests
{
    private const string Xhtml = "http://www.w3.org/1999/xhtml";

    private static string JsonPatient(string div) => $$"""
        {
          "resourceType": "Patient",
          "text": {
            "status": "generated",
            "div": "{{div.Replace("\"", "\\\"", StringComparison.Ordinal)}}"
          },
          "active": true
        }
        """;

    private static string XmlPatient(string div) => $$"""
        <Patient xmlns="http://hl7.org/fhir">
          <text>
            <status value="generated"/>
            {{div}}
          </text>
          <active value="true"/>
        </Patient>
        """;

    private static Task<ValidationResult> ValidateAsync(string div, ResourceFormat format) =>
        EngineTestSupport.Validator.ValidateAsync(format == ResourceFormat.Json ? JsonPatient(div) : XmlPatient(div), format);

    private static List<ValidationIssue> Errors(ValidationResult result) =>
        result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal).ToList();

    [Theory]
    [InlineData(ResourceFormat.Json)]
    [InlineData(ResourceFormat.Xml)]
    public async Task Xhtml_id_that_is_not_an_xml_id_is_accepted(ResourceFormat format)
    {
        var result = await ValidateAsync($"<div xmlns=\"{Xhtml}\"><p id=\"x-urn:uuid:1\">Allergy</p><a href=\"#x-urn:uuid:1\">see</a></div>", format);

        EngineTestSupport.AssertNoErrors(result);
    }

    [Theory]
    [InlineData(ResourceFormat.Json)]
    [InlineData(ResourceFormat.Xml)]
    public async Task Attribute_values_outside_the_narrative_schema_datatypes_are_accepted_and_a_repeated_id_is_a_warning(ResourceFormat format)
    {
        // A repeated id, a colspan that is no number, a class that is no NMTOKENS list: the schema's datatypes, not the reference validator's rules.
        var result = await ValidateAsync(
            $"<div xmlns=\"{Xhtml}\"><p id=\"a\">one</p><p id=\"a\">two</p><table><tr><td colspan=\"all\" class=\"x,y\">three</td></tr></table></div>", format);

        EngineTestSupport.AssertNoErrors(result);
        var warning = EngineTestSupport.Single(result, "xhtml");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, warning.Severity);
        Assert.Equal("Patient.text.div", warning.Location.Expression);
        Assert.Contains("a (2x)", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anchor_whose_name_is_its_own_id_is_not_a_repeated_id()
    {
        var result = await ValidateAsync($"<div xmlns=\"{Xhtml}\"><p><a id=\"top\" name=\"top\">top</a></p></div>", ResourceFormat.Json);

        Assert.DoesNotContain(result.Issues, i => i.Rule == "xhtml");
    }

    [Fact]
    public async Task Json_div_that_is_not_well_formed_gives_one_error_at_the_div()
    {
        var result = await ValidateAsync($"<div xmlns=\"{Xhtml}\"><p>unclosed</div>", ResourceFormat.Json);

        var error = Assert.Single(Errors(result));
        Assert.Equal("xhtml", error.Rule);
        Assert.Equal("Patient.text.div", error.Location.Expression);
        Assert.Equal(5, error.Location.Line);
        Assert.Contains("not well-formed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_object_whose_div_is_not_well_formed_gives_one_error_at_the_div()
    {
        var patient = new Patient { Active = true, Text = new Narrative { Status = Narrative.NarrativeStatus.Generated, Div = $"<div xmlns=\"{Xhtml}\"><p>unclosed</div>" } };

        var result = await EngineTestSupport.ValidateAsync(patient);

        var error = Assert.Single(Errors(result));
        Assert.Equal("xhtml", error.Rule);
        Assert.Equal("Patient.text.div", error.Location.Expression);
    }

    [Theory]
    [InlineData(ResourceFormat.Json)]
    [InlineData(ResourceFormat.Xml)]
    public async Task Script_element_fails_txt_1_and_nothing_else(ResourceFormat format)
    {
        var result = await ValidateAsync($"<div xmlns=\"{Xhtml}\"><p>text</p><script>alert(1)</script></div>", format);

        var error = Assert.Single(Errors(result));
        Assert.Equal("txt-1", error.Rule);
        Assert.Equal("Patient.text.div", error.Location.Expression);
    }

    [Theory]
    [InlineData("<div><p>no namespace</p></div>")]
    [InlineData("<p xmlns=\"http://www.w3.org/1999/xhtml\">not a div</p>")]
    [InlineData("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a <ul><li>list</li></ul> in a paragraph</p></div>")]
    [InlineData("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>foreign <x:b xmlns:x=\"urn:example\">bold</x:b></p></div>")]
    public async Task Div_that_is_not_an_xhtml_div_or_nests_a_block_in_a_paragraph_breaks_the_xhtml_rule(string div)
    {
        var result = await ValidateAsync(div, ResourceFormat.Json);

        var error = Assert.Single(Errors(result));
        Assert.Equal("xhtml", error.Rule);
        Assert.Equal("Patient.text.div", error.Location.Expression);
    }
}
