using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>XML the reference validator's parser rejects (undeclared entities, a DOCTYPE) is one fatal issue on the document.</summary>
public sealed class XmlWellFormednessTests
{
    private static string PatientWithNarrative(string divContent, string prolog = "") => $$"""
        <?xml version="1.0" encoding="UTF-8"?>{{prolog}}
        <Patient xmlns="http://hl7.org/fhir">
          <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>{{divContent}}</p></div></text>
          <active value="true"/>
        </Patient>
        """;

    [Theory]
    [InlineData("Registered&reg; trade mark", "")]
    [InlineData("No&nbsp;break", "")]
    [InlineData("Declared &ent;", "\n<!DOCTYPE Patient [ <!ENTITY ent \"entity\"> ]>")]
    public async Task Xml_that_is_not_well_formed_without_a_doctype_is_fatal(string divContent, string prolog)
    {
        var result = await EngineTestSupport.Validator.ValidateAsync(PatientWithNarrative(divContent, prolog), ResourceFormat.Xml);

        var fatal = Assert.Single(result.Issues, i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
        Assert.Equal(OperationOutcome.IssueSeverity.Fatal, fatal.Severity);
        Assert.Equal("(document)", fatal.Location.Expression);
    }

    [Theory]
    [InlineData("Registered&#174; trade mark")]
    [InlineData("Fish &amp; chips &lt;3 &gt; &quot;quoted&quot; &apos;")]
    public async Task Character_references_and_the_five_xml_entities_are_fine(string divContent)
    {
        var result = await EngineTestSupport.Validator.ValidateAsync(PatientWithNarrative(divContent), ResourceFormat.Xml);

        EngineTestSupport.AssertNoErrors(result);
    }
}
