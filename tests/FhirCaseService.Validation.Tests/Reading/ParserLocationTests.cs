using Hl7.Fhir.Model;
using FhirCaseService.Validation.Tests.Engine;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// Where the parser's findings are located (issue 13), as the HL7 reference validator's parsers locate them: an element
/// the parser could not record (an empty array) is named itself, not by its parent; XML the SDK cannot map is reported
/// element by element instead of as one fatal; under <see cref="ValidationOptions.Reference"/> an unknown element sits on
/// the element holding it and XML shape findings carry the element's XML path.
/// </summary>
public sealed class ParserLocationTests
{
    private static ValidationIssue SingleError(ValidationResult result) =>
        Assert.Single(result.Issues, i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    private static IEnumerable<ValidationIssue> Errors(ValidationResult result) =>
        result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    private static Task<ValidationResult> ValidateXmlAsync(string xml, ValidationOptions options) =>
        EngineTestSupport.Validator.ValidateAsync(xml, ResourceFormat.Xml, options);

    [Theory]
    // The dev-set case empty-array, and the same rule on other elements and depths.
    [InlineData("""{ "resourceType": "DocumentReference", "status": "current", "category": [ { "coding": [] } ], "content": [ { "attachment": { "contentType": "text/plain" } } ] }""", "DocumentReference.category[0].coding")]
    [InlineData("""{ "resourceType": "Patient", "name": [] }""", "Patient.name")]
    [InlineData("""{ "resourceType": "Patient", "name": [ { "family": "x" }, { "given": [] } ] }""", "Patient.name[1].given")]
    [InlineData("""{ "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "component": [ { "code": { "coding": [] } } ] }""", "Observation.component[0].code.coding")]
    public async Task An_empty_array_is_reported_at_the_array_itself(string json, string expression)
    {
        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await EngineTestSupport.ValidateJsonAsync(json, options);

            var error = SingleError(result);
            Assert.Equal(expression, error.Location.Expression);
        }
    }

    [Fact]
    public async Task Two_empty_arrays_are_two_findings()
    {
        var result = await EngineTestSupport.ValidateJsonAsync("""{ "resourceType": "Patient", "name": [ { "given": [], "prefix": [], "family": "x" } ] }""", ValidationOptions.Reference);

        Assert.Equal(["Patient.name[0].given", "Patient.name[0].prefix"], Errors(result).Select(i => i.Location.Expression).Order());
    }

    [Fact]
    public async Task An_empty_array_does_not_hide_the_checks_of_the_element_holding_it()
    {
        // The array's owner here is the resource itself: its invariants (obs-6) still run beside the array's finding.
        var result = await EngineTestSupport.ValidateJsonAsync(
            """{ "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "category": [], "valueString": "a", "dataAbsentReason": { "text": "b" } }""",
            ValidationOptions.Reference);

        Assert.Equal(["Observation", "Observation.category"], Errors(result).Select(i => i.Location.Expression).Order());
        Assert.Contains(Errors(result), i => i.Rule == "obs-6");
    }

    /// <summary>The dev-set case Observation-ex-pain.xml: five located errors, as the reference validator reports them.</summary>
    [Fact]
    public async Task Xml_with_a_value_element_inside_a_primitive_is_read_and_each_problem_located()
    {
        const string xml = """
            <Observation xmlns="http://hl7.org/fhir">
              <id value="ex-pain"/>
              <status id="this" something="that" value="final"/>
              <valueInteger>
                <value value="0"/>
              </valueInteger>
            </Observation>
            """;

        var result = await ValidateXmlAsync(xml, ValidationOptions.Reference);

        Assert.False(result.IsFatal, EngineTestSupport.Describe(result));
        Assert.Equal(
            ["/f:Observation/f:status", "/f:Observation/f:valueInteger", "Observation", "Observation.value.ofType(integer)", "Observation.value.ofType(integer)"],
            Errors(result).Select(i => i.Location.Expression).Order(StringComparer.Ordinal));
        var unread = Assert.Single(result.Issues, i => i.Location.Expression == "/f:Observation/f:valueInteger");
        Assert.Equal((5, 5), (unread.Location.Line, unread.Location.Column));
        Assert.Contains(result.Issues, i => i.Rule == "ele-1");
        Assert.Contains(result.Issues, i => i.Rule == "primitive-value");
    }

    [Theory]
    // Any primitive, at any depth, inside a datatype or a backbone element, and a primitive inside a primitive.
    [InlineData("<birthDate><value value=\"2000\"/></birthDate>", "Patient", "/f:Patient/f:birthDate", "Patient.birthDate")]
    [InlineData("<active>\n    <value value=\"true\"></value>\n  </active>", "Patient", "/f:Patient/f:active", "Patient.active")]
    [InlineData("<name><family value=\"x\"/><given><value value=\"y\"/></given></name>", "Patient", "/f:Patient/f:name/f:given", "Patient.name[0].given[0]")]
    [InlineData("<contact><name><family value=\"x\"/></name><gender><value value=\"male\"/></gender></contact>", "Patient", "/f:Patient/f:contact/f:gender", "Patient.contact[0].gender")]
    public async Task A_value_element_inside_a_primitive_is_one_located_error_and_the_primitive_is_judged_empty(string content, string type, string xmlPath, string fhirPath)
    {
        var xml = $"<{type} xmlns=\"http://hl7.org/fhir\">\n  {content}\n</{type}>";

        var reference = await ValidateXmlAsync(xml, ValidationOptions.Reference);
        var server = await ValidateXmlAsync(xml, ValidationOptions.Default);

        Assert.False(reference.IsFatal, EngineTestSupport.Describe(reference));
        Assert.Equal([xmlPath, fhirPath, fhirPath], Errors(reference).Select(i => i.Location.Expression).Order(StringComparer.Ordinal));
        // The server names the unread element itself by FHIRPath; the verdict is the same.
        Assert.Equal([fhirPath, fhirPath, fhirPath + ".value"], Errors(server).Select(i => i.Location.Expression).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_value_element_inside_a_primitive_with_extensions_leaves_a_valid_primitive()
    {
        const string xml = """
            <Patient xmlns="http://hl7.org/fhir">
              <multipleBirthInteger><value value="2"/><extension url="http://example.org/x"><valueString value="a"/></extension></multipleBirthInteger>
            </Patient>
            """;

        var result = await ValidateXmlAsync(xml, ValidationOptions.Reference);

        Assert.Equal("/f:Patient/f:multipleBirthInteger", SingleError(result).Location.Expression);
    }

    [Fact]
    public async Task Blanking_the_unread_element_keeps_every_other_position()
    {
        const string xml = """
            <Patient xmlns="http://hl7.org/fhir">
              <birthDate><value value="2000"/></birthDate><gender value="nonsense"/>
            </Patient>
            """;

        var result = await ValidateXmlAsync(xml, ValidationOptions.Reference);

        var gender = Assert.Single(result.Issues, i => i.Location.Expression == "Patient.gender" && i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal((2, 47), (gender.Location.Line, gender.Location.Column));
    }

    [Theory]
    // Unknown element: on the element holding it. Unknown attribute: on the element carrying it. Text: on its element.
    [InlineData("<name><family value=\"x\"><given value=\"y\"/></family></name>", "/f:Patient/f:name/f:family", "Patient.name[0].family.given")]
    [InlineData("<name><family value=\"x\" bar=\"1\"/></name>", "/f:Patient/f:name/f:family", "Patient.name[0].family")]
    [InlineData("<active value=\"true\"><foo value=\"1\"/></active>", "/f:Patient/f:active", "Patient.active.foo")]
    [InlineData("<managingOrganization>text<reference value=\"Organization/1\"/></managingOrganization>", "/f:Patient/f:managingOrganization", "Patient.managingOrganization")]
    public async Task Xml_shape_findings_carry_the_xml_path_under_the_reference_options(string content, string xmlPath, string serverPath)
    {
        var xml = $"<Patient xmlns=\"http://hl7.org/fhir\">\n  {content}\n</Patient>";

        var reference = await ValidateXmlAsync(xml, ValidationOptions.Reference);
        var server = await ValidateXmlAsync(xml, ValidationOptions.Default);

        Assert.Equal(xmlPath, SingleError(reference).Location.Expression);
        Assert.Equal(serverPath, SingleError(server).Location.Expression);
    }

    [Fact]
    public async Task Xml_paths_name_the_resource_wrappers_inside_a_bundle()
    {
        const string xml = """
            <Bundle xmlns="http://hl7.org/fhir">
              <type value="collection"/>
              <entry>
                <fullUrl value="http://example.org/fhir/Patient/1"/>
                <resource><Patient><id value="1"/><active value="true" bar="1"/></Patient></resource>
              </entry>
            </Bundle>
            """;

        var result = await ValidateXmlAsync(xml, ValidationOptions.Reference);

        var error = SingleError(result);
        Assert.Equal("/f:Bundle/f:entry/f:resource/f:Patient/f:active", error.Location.Expression);
        Assert.Equal(0, error.Location.Entry);
    }

    [Theory]
    [InlineData("""{ "resourceType": "Patient", "foo": 1 }""", "Patient", "Patient.foo")]
    [InlineData("""{ "resourceType": "Patient", "name": [ { "family": "x" }, { "family": "y", "bar": true } ] }""", "Patient.name[1]", "Patient.name[1].bar")]
    public async Task An_unknown_json_property_sits_on_the_object_holding_it_under_the_reference_options(string json, string referencePath, string serverPath)
    {
        var reference = await EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);
        var server = await EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Default);

        Assert.Equal(referencePath, SingleError(reference).Location.Expression);
        Assert.Equal(serverPath, SingleError(server).Location.Expression);
    }

    [Fact]
    public async Task A_primitive_without_value_or_extensions_is_an_error_beside_ele_1()
    {
        var patient = new Patient { BirthDateElement = new Date() };

        var result = await EngineTestSupport.ValidateAsync(patient, ValidationOptions.Reference);

        Assert.Equal(["ele-1", "primitive-value"], Errors(result).Select(i => i.Rule).Order());
        Assert.All(Errors(result), i => Assert.Equal("Patient.birthDate", i.Location.Expression));
    }

    [Fact]
    public async Task A_primitive_with_only_an_id_fails_ele_1_alone()
    {
        // The dev-set case patient-id-only: <implicitRules id="i1"/>.
        var patient = new Patient { ImplicitRulesElement = new FhirUri { ElementId = "i1" } };

        var result = await EngineTestSupport.ValidateAsync(patient, ValidationOptions.Reference);

        Assert.Equal("ele-1", SingleError(result).Rule);
    }

    [Theory]
    [InlineData("""{ "resourceType": "Patient", "_birthDate": { "extension": { "url": "http://example.org/x", "valueString": "x" } } }""")]
    [InlineData("""{ "resourceType": "Patient", "_birthDate": { "id": ["i1"] } }""")]
    public async Task A_primitive_whose_children_have_the_wrong_shape_is_reported_not_thrown(string json)
    {
        // The SDK keeps the wrong-shaped child in the partial POCO and its typed getter throws on it; a line of an
        // $import with such a primitive stopped the strict judgement instead of being refused with its reason.
        foreach (var options in new[] { ValidationOptions.Default, ValidationOptions.Reference })
        {
            var result = await EngineTestSupport.ValidateJsonAsync(json, options);

            Assert.Contains(Errors(result), i => i.Location.Expression?.StartsWith("Patient.birthDate", StringComparison.Ordinal) == true);
        }
    }

    private const string EntryUrl = "urn:uuid:7e3a3c2e-1c1b-4f4e-9a9a-111111111111";

    private static Task<ValidationResult> ValidateAsync(string content, ValidationOptions options) =>
        EngineTestSupport.Validator.ValidateAsync(content, content.TrimStart().StartsWith('<') ? ResourceFormat.Xml : ResourceFormat.Json, options);

    private static string[] Located(ValidationResult result) =>
        Errors(result).Select(i => $"{i.Rule}@{i.Location.Expression}").Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string, string> ParserFindingsInNestedResources() => new()
    {
        // Wrong JSON type for a primitive, an invalid literal the parser and the primitive check both judge, and the same
        // in XML: always from the root resource, through the contained resource, the Bundle entry or the parameter.
        { """{ "resourceType": "Patient", "contained": [ { "resourceType": "Organization", "id": "o", "name": "n", "active": "yes" } ] }""", "primitive-format@Patient.contained[0].active" },
        { """<Patient xmlns="http://hl7.org/fhir"><contained><Organization><id value="o"/><active value="yes"/><name value="n"/></Organization></contained></Patient>""", "primitive-format@Patient.contained[0].active" },
        { $$"""{ "resourceType": "Bundle", "type": "collection", "entry": [ { "fullUrl": "{{EntryUrl}}", "resource": { "resourceType": "Patient", "active": "yes" } } ] }""", "primitive-format@Bundle.entry[0].resource.active" },
        { $$"""{ "resourceType": "Bundle", "type": "collection", "entry": [ { "fullUrl": "{{EntryUrl}}", "resource": { "resourceType": "Patient", "birthDate": "2020-13-45" } } ] }""", "primitive-format@Bundle.entry[0].resource.birthDate" },
        { $$"""<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><fullUrl value="{{EntryUrl}}"/><resource><Patient><birthDate value="2020-13-45"/></Patient></resource></entry></Bundle>""", "primitive-format@Bundle.entry[0].resource.birthDate" },
        { """{ "resourceType": "Parameters", "parameter": [ { "name": "a", "resource": { "resourceType": "Patient", "birthDate": "2020-13-45" } } ] }""", "primitive-format@Parameters.parameter[0].resource.birthDate" },
        // resourceType written last: the parser still knows the resource type for the path.
        { """{ "resourceType": "Patient", "contained": [ { "id": "o", "name": "n", "active": "yes", "resourceType": "Organization" } ] }""", "primitive-format@Patient.contained[0].active" },
    };

    [Theory]
    [MemberData(nameof(ParserFindingsInNestedResources))]
    public async Task A_parser_finding_inside_a_nested_resource_is_located_from_the_root_resource_once(string content, string expected)
    {
        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await ValidateAsync(content, options);

            Assert.Equal([expected], Located(result));
        }
    }

    [Theory]
    [InlineData("""{ "resourceType": "Patient", "name": [ { "period": { "start": "2020", "foo": 1 } } ] }""", "Patient.name[0].period")]
    [InlineData("""{ "resourceType": "Patient", "contained": [ { "resourceType": "Organization", "id": "o", "name": "n", "contact": [ { "name": { "family": "x", "foo": 1 } } ] } ] }""", "Patient.contained[0].contact[0].name")]
    [InlineData($$"""{ "resourceType": "Bundle", "type": "collection", "entry": [ { "fullUrl": "{{EntryUrl}}", "resource": { "resourceType": "Patient", "name": [ { "period": { "foo": 1 } } ] } } ] }""", "Bundle.entry[0].resource.name[0].period")]
    public async Task An_unknown_property_two_levels_deep_is_located_with_its_full_path(string json, string holder)
    {
        Assert.Equal([$"unknown-element@{holder}"], Located(await ValidateAsync(json, ValidationOptions.Reference)));
        Assert.Equal([$"unknown-element@{holder}.foo"], Located(await ValidateAsync(json, ValidationOptions.Default)));
    }

    [Theory]
    // A choice type the element does not allow, and a resource type the model lacks: the parser and the walk both see it.
    [InlineData($$"""{ "resourceType": "Bundle", "type": "collection", "entry": [ { "fullUrl": "{{EntryUrl}}", "resource": { "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "component": [ { "code": { "text": "y" }, "valueBar": "z" } ] } } ] }""",
        "Bundle.entry[0].resource.component[0].value.ofType(Bar)")]
    [InlineData("""{ "resourceType": "Patient", "contained": [ { "resourceType": "Foo", "id": "o" } ] }""", "Patient.contained[0]")]
    public async Task A_type_both_the_parser_and_the_walk_reject_is_reported_once_in_the_walks_words(string json, string expression)
    {
        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await ValidateAsync(json, options);

            var error = SingleError(result);
            Assert.Equal(expression, error.Location.Expression);
            Assert.Contains("is not allowed for", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Two_problems_of_one_element_are_both_reported()
    {
        // Out of order and an invalid literal on the same element of a contained resource: two problems, two findings.
        const string xml = """<Patient xmlns="http://hl7.org/fhir"><contained><Organization><id value="o"/><name value="n"/><contact><name><family value="x"/></name></contact><active value="maybe"/></Organization></contained></Patient>""";

        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await ValidateXmlAsync(xml, options);

            Assert.Equal(["primitive-format@Patient.contained[0].active", "structure@Patient.contained[0].active"], Located(result));
        }
    }

    [Fact]
    public async Task A_single_value_written_as_an_array_is_located_at_its_element_and_each_one_reported()
    {
        const string json = """{ "resourceType": "Patient", "contained": [ { "resourceType": "Organization", "id": "o", "name": ["a"], "active": [true] } ] }""";

        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await EngineTestSupport.ValidateJsonAsync(json, options);

            Assert.Equal(["structure@Patient.contained[0].active", "structure@Patient.contained[0].name"], Located(result));
        }
    }

    [Fact]
    public async Task A_json_null_is_one_finding_not_also_an_empty_element()
    {
        const string json = """{ "resourceType": "Patient", "contained": [ { "resourceType": "Patient", "id": "p", "birthDate": null } ] }""";

        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await EngineTestSupport.ValidateJsonAsync(json, options);

            Assert.Equal(["structure@Patient.contained[0].birthDate"], Located(result));
        }
    }

    [Fact]
    public async Task A_json_primitive_where_a_resource_belongs_is_the_parsers_finding_alone()
    {
        // The walk would see an unnamed resource type there, and the parser says "no resourceType" on the document as
        // well: the parser's "json primitive" finding at the element says what is wrong.
        const string json = $$"""{ "resourceType": "Bundle", "type": "collection", "entry": [ { "fullUrl": "{{EntryUrl}}", "resource": { "resourceType": "Patient", "contained": [ 5 ] } } ] }""";

        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await EngineTestSupport.ValidateJsonAsync(json, options);

            var error = SingleError(result);
            Assert.Equal("Bundle.entry[0].resource.contained[0]", error.Location.Expression);
            Assert.Contains("json primitive", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{ "resourceType": "Patient", "contained": [ { "id": "x" } ], "active": true }""", "Patient.contained[0]")]
    [InlineData($$"""{ "resourceType": "Bundle", "type": "collection", "entry": [ { "fullUrl": "{{EntryUrl}}", "resource": { "id": "x" } } ] }""", "Bundle.entry[0].resource")]
    public async Task A_nested_resource_without_resource_type_is_one_finding_at_its_element(string json, string expression)
    {
        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await EngineTestSupport.ValidateJsonAsync(json, options);

            var error = SingleError(result);
            Assert.Equal(expression, error.Location.Expression);
            Assert.Contains("resourceType", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("$this.active", "Patient.active")]
    [InlineData("$this", "Patient")]
    [InlineData("$this.name[0].given[1]", "Patient.name[0].given[1]")]
    public async Task A_parser_finding_the_sdk_roots_at_this_is_rooted_at_the_resource_type(string parserPath, string expression)
    {
        // The SDK names the resource "$this" until it knows its type; where neither the source map nor the walk gives the
        // element, that root used to reach the result.
        var parsed = FhirCaseService.Validation.Instance.InstanceReader.Read("""{ "resourceType": "Patient", "active": "yes" }""", ResourceFormat.Json);
        var issue = Assert.Single(parsed.Issues);
        var unplaced = issue with { SourceKey = null, Issue = issue.Issue with { Location = issue.Issue.Location with { Expression = parserPath } } };

        foreach (var options in new[] { ValidationOptions.Reference, ValidationOptions.Default })
        {
            var result = await EngineTestSupport.Validator.ValidateAsync(parsed with { Issues = [unplaced] }, options);

            Assert.Equal(expression, Assert.Single(result.Issues, i => i.Message == issue.Issue.Message).Location.Expression);
        }
    }
}
