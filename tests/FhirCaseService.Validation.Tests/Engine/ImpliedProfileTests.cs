using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// The R4 vital signs profiles apply to an Observation whose code names a vital sign, declared or not (the
/// specification's "SHALL conform"; the reference validator's implied profiles), and the R4 blood pressure profile's
/// component slices are told apart through their mandatory coding slices.
/// </summary>
public sealed class ImpliedProfileTests
{
    private static string VitalSign(string coding, string extra = "") => $$"""
        {
          "resourceType": "Observation",
          "status": "final",
          "category": [ { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs" } ] } ],
          "code": { "coding": [ {{coding}} ] },
          "subject": { "reference": "Patient/p1" },
          "effectiveDateTime": "2024-05-01T10:00:00Z"{{extra}}
        }
        """;

    private const string Celsius = """, "valueQuantity": { "value": 36.6, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel" }""";

    [Fact]
    public async Task Body_temperature_coded_only_in_SNOMED_CT_misses_the_LOINC_code_the_profile_requires()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(VitalSign("""{ "system": "http://snomed.info/sct", "code": "276885007" }""", Celsius));

        var signpost = EngineTestSupport.Single(result, "profile-implied");
        Assert.Equal(OperationOutcome.IssueSeverity.Information, signpost.Severity);
        Assert.Contains("http://hl7.org/fhir/StructureDefinition/bodytemp", signpost.Message, StringComparison.Ordinal);
        Assert.Contains("SNOMED CT code 276885007", signpost.Message, StringComparison.Ordinal);
        var missing = Assert.Single(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("slice-cardinality", missing.Rule);
        Assert.Equal("Observation.code", missing.Location.Expression);
        Assert.Contains("BodyTempCode", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_temperature_with_its_LOINC_code_meets_the_implied_profile()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(VitalSign("""{ "system": "http://loinc.org", "code": "8310-5" }""", Celsius));

        EngineTestSupport.Single(result, "profile-implied");
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Vital_sign_without_the_vital_signs_category_breaks_the_implied_profile()
    {
        var json = VitalSign("""{ "system": "http://loinc.org", "code": "8310-5" }""", Celsius)
            .Replace("vital-signs", "laboratory", StringComparison.Ordinal);

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.Contains(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Message.Contains("VSCat", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Observation_that_is_not_a_vital_sign_implies_no_profile()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation());

        Assert.DoesNotContain(result.Issues, i => i.Rule == "profile-implied");
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Declaring_the_vital_sign_profile_applies_it_once_without_a_signpost()
    {
        var json = VitalSign("""{ "system": "http://snomed.info/sct", "code": "276885007" }""", Celsius)
            .Replace("\"status\"", "\"meta\": { \"profile\": [ \"http://hl7.org/fhir/StructureDefinition/bodytemp\" ] },\n  \"status\"", StringComparison.Ordinal);

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.DoesNotContain(result.Issues, i => i.Rule == "profile-implied");
        Assert.Single(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
    }

    private static string BloodPressure(params string[] components) => VitalSign(
        """{ "system": "http://loinc.org", "code": "85354-9" }""",
        ", \"component\": [ " + string.Join(", ", components) + " ]");

    private static string Component(string loinc, int value) => $$"""
        { "code": { "coding": [ { "system": "http://loinc.org", "code": "{{loinc}}" } ] },
          "valueQuantity": { "value": {{value}}, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]" } }
        """;

    [Fact]
    public async Task Blood_pressure_components_match_their_slices_through_the_mandatory_coding_slice()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(BloodPressure(Component("8480-6", 120), Component("8462-4", 80)));

        Assert.Contains("bp", EngineTestSupport.Single(result, "profile-implied").Message, StringComparison.Ordinal);
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Blood_pressure_without_a_diastolic_component_misses_only_that_slice()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(BloodPressure(Component("8480-6", 120), Component("8480-6", 121)));

        var errors = result.Issues.Where(i => i.Severity == OperationOutcome.IssueSeverity.Error).ToList();
        Assert.Contains(errors, i => i.Message.Contains("DiastolicBP", StringComparison.Ordinal) && i.Rule == "slice-cardinality");
        Assert.DoesNotContain(errors, i => i.Message.Contains("SystolicBP is required", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Vital_signs_inside_a_Bundle_get_their_implied_profile()
    {
        var observation = VitalSign("""{ "system": "http://snomed.info/sct", "code": "276885007" }""", Celsius);
        var bundle = $$"""
            { "resourceType": "Bundle", "type": "collection",
              "entry": [ { "fullUrl": "urn:uuid:8d1f7c52-5a5e-4a43-9a55-52b0f0e1c001", "resource": {{observation}} } ] }
            """;

        var result = await EngineTestSupport.ValidateJsonAsync(bundle);

        Assert.Equal("Bundle.entry[0].resource", EngineTestSupport.Single(result, "profile-implied").Location.Expression);
        Assert.Contains(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Message.Contains("BodyTempCode", StringComparison.Ordinal));
    }
}
