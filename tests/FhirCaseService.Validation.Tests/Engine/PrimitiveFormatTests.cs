using FhirCaseService.Validation.Primitives;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class PrimitiveFormatTests
{
    public static TheoryData<string, string> ValidLiterals() => new()
    {
        { "boolean", "true" }, { "boolean", "false" },
        { "integer", "0" }, { "integer", "-42" }, { "integer", "2147483647" },
        { "unsignedInt", "0" }, { "positiveInt", "1" }, { "positiveInt", "+7" },
        { "decimal", "0" }, { "decimal", "-1.50" }, { "decimal", "1e-3" }, { "decimal", "1.0E+10" },
        { "date", "2012" }, { "date", "2012-03" }, { "date", "2012-03-14" }, { "date", "2024-02-29" },
        { "dateTime", "2012" }, { "dateTime", "2012-03-14T10:20:30Z" }, { "dateTime", "2012-03-14T10:20:30.123+14:00" },
        { "instant", "2015-02-07T13:28:17.239+02:00" }, { "instant", "2015-02-07T13:28:17Z" },
        { "time", "23:59:59" }, { "time", "00:00:00.5" },
        { "id", "a-B.1" }, { "id", new string('x', 64) },
        { "code", "final" }, { "code", "mg/m2" }, { "code", "in full" },
        { "uri", "http://example.org/x" }, { "uri", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520#section" }, { "url", "https://a.b" }, { "canonical", "http://a|1.0" },
        { "oid", "urn:oid:1.2.840.10008" },
        { "uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520" },
        { "string", "anything at all" }, { "markdown", "# title" },
        { "base64Binary", "aGVsbG8=" },
    };

    public static TheoryData<string, string> InvalidLiterals() => new()
    {
        { "boolean", "True" }, { "boolean", "1" },
        { "integer", "1.5" }, { "integer", "01" }, { "integer", "2147483648" },
        { "unsignedInt", "-1" }, { "positiveInt", "0" }, { "positiveInt", "-3" },
        { "decimal", "1." }, { "decimal", ".5" }, { "decimal", "01" }, { "decimal", "x" },
        { "date", "2012-13" }, { "date", "2012-03-32" }, { "date", "2021-02-29" }, { "date", "12-03-14" }, { "date", "2012-03-14T10:00:00Z" },
        { "dateTime", "2021-13-45" }, { "dateTime", "2012-03-14T10:20Z" }, { "dateTime", "2012-03-14T10:20:30" }, { "dateTime", "2012-03-14T25:00:00Z" },
        { "instant", "2015-02-07" }, { "instant", "2015-02-07T13:28:17" },
        { "time", "24:00:00" }, { "time", "10:61:00" }, { "time", "10:00" },
        { "id", "has space" }, { "id", "under_score" }, { "id", new string('x', 65) },
        { "code", " leading" }, { "code", "trailing " }, { "code", "double  space" },
        { "uri", "has space" }, { "uri", "urn:uuid:1" }, { "uri", "oid:1.2.3.4.5" },
        { "oid", "1.2.3" }, { "uuid", "urn:uuid:C757873D-EC9A-4326-A141-556F43239520" },
        { "string", "" }, { "code", "" },
    };

    [Theory]
    [MemberData(nameof(ValidLiterals))]
    public void Valid_literal_is_accepted(string type, string literal) => Assert.Null(PrimitiveFormats.Check(type, literal));

    [Theory]
    [MemberData(nameof(InvalidLiterals))]
    public void Invalid_literal_is_rejected_with_a_reason(string type, string literal)
    {
        var problem = PrimitiveFormats.Check(type, literal);

        Assert.NotNull(problem);
        Assert.Contains(type, problem);
    }

    [Fact]
    public async Task Invalid_date_in_an_sdk_object_is_reported_at_its_choice_path()
    {
        var observation = new Hl7.Fhir.Model.Observation
        {
            Status = Hl7.Fhir.Model.ObservationStatus.Final,
            Code = new Hl7.Fhir.Model.CodeableConcept("http://loinc.org", "8277-6"),
            Effective = new Hl7.Fhir.Model.FhirDateTime("2021-02-30"),
        };

        var result = await EngineTestSupport.ValidateAsync(observation);

        var issue = EngineTestSupport.Single(result, "primitive-format");
        Assert.Equal("Observation.effective.ofType(dateTime)", issue.Location.Expression);
        Assert.Null(issue.Location.Line);
    }

    [Fact]
    public async Task Invalid_date_in_json_is_reported_once_with_line_and_column()
    {
        var json = EngineTestSupport.Observation("""

              "effectiveDateTime": "2021-13-45",
            """);

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        var issue = EngineTestSupport.Single(result, "primitive-format");
        Assert.Equal("Observation.effective.ofType(dateTime)", issue.Location.Expression);
        Assert.Equal((5, 3), (issue.Location.Line, issue.Location.Column));
    }
}
