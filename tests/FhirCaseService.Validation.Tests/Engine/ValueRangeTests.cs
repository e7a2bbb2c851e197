using FhirCaseService.Conformance;
using FhirCaseService.Validation.Schema.Validators;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// minValue/maxValue given as a Quantity, as the reference validator reads them: on a Quantity in the limit's unit
/// (UCUM units converted), on a date as a span of time counted from today.
/// </summary>
public sealed class ValueRangeTests
{
    private const string AgeProfile = "http://example.org/fhir/StructureDefinition/recent-birth-patient";
    private const string DoseProfile = "http://example.org/fhir/StructureDefinition/dose-observation";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-value-range-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-recent-birth-patient.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{AgeProfile}}", "name": "RecentBirthPatient", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" },
                { "id": "Patient.birthDate", "path": "Patient.birthDate",
                  "minValueQuantity": { "value": 120, "system": "http://unitsofmeasure.org", "code": "a" },
                  "maxValueQuantity": { "value": 0, "system": "http://unitsofmeasure.org", "code": "d" } } ] }
            }
            """);
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-dose-observation.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{DoseProfile}}", "name": "DoseObservation", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Observation",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
              "differential": { "element": [ { "id": "Observation", "path": "Observation" },
                { "id": "Observation.value[x]", "path": "Observation.value[x]", "type": [ { "code": "Quantity" } ],
                  "minValueQuantity": { "value": 1, "system": "http://unitsofmeasure.org", "code": "g" },
                  "maxValueQuantity": { "value": 5, "system": "http://unitsofmeasure.org", "code": "g" } } ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static Task<ValidationResult> PatientBornAsync(string birthDate) => SharedValidator.Value.ValidateAsync(
        $$"""{ "resourceType": "Patient", "birthDate": "{{birthDate}}" }""", ResourceFormat.Json, new ValidationOptions { Profiles = [AgeProfile] });

    private static Task<ValidationResult> DoseAsync(decimal value, string code) => SharedValidator.Value.ValidateAsync($$"""
        { "resourceType": "Observation", "status": "final", "code": { "text": "dose" },
          "valueQuantity": { "value": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "system": "http://unitsofmeasure.org", "code": "{{code}}" } }
        """, ResourceFormat.Json, new ValidationOptions { Profiles = [DoseProfile] });

    [Fact]
    public async Task A_duration_minimum_on_a_date_counts_back_from_today()
    {
        var tooOld = await PatientBornAsync("1850-01-01");
        var recent = await PatientBornAsync(DateTime.UtcNow.AddYears(-30).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        var yearOnly = await PatientBornAsync("1990");

        Assert.Equal("Patient.birthDate", EngineTestSupport.Single(tooOld, "minValue").Location.Expression);
        EngineTestSupport.AssertNoErrors(recent);
        EngineTestSupport.AssertNoErrors(yearOnly);
    }

    [Fact]
    public async Task A_duration_maximum_on_a_date_counts_forward_from_today()
    {
        var future = await PatientBornAsync(DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("Patient.birthDate", EngineTestSupport.Single(future, "maxValue").Location.Expression);
    }

    [Theory]
    [InlineData(2, "g", null)]
    [InlineData(500, "mg", "minValue")]
    [InlineData(1500, "mg", null)]
    [InlineData(0.006, "kg", "maxValue")]
    [InlineData(7, "g", "maxValue")]
    [InlineData(3, "mL", "minValue")]
    public async Task A_quantity_limit_compares_in_its_own_ucum_unit(decimal value, string code, string? rule)
    {
        var result = await DoseAsync(value, code);

        if (rule is null)
            EngineTestSupport.AssertNoErrors(result);
        else
            Assert.Equal("Observation.value.ofType(Quantity)", EngineTestSupport.Single(result, rule).Location.Expression);
    }

    [Theory]
    [InlineData(1, "g", "mg", 1000)]
    [InlineData(250, "mg/dL", "g/L", 2.5)]
    [InlineData(90, "min", "h", 1.5)]
    [InlineData(5, "mmol/L", "umol/mL", 5)]
    [InlineData(30, "/min", "/s", 0.5)]
    public void Ucum_units_of_one_dimension_convert(decimal amount, string from, string to, decimal expected) =>
        Assert.Equal(expected, QuantityRange.Convert(amount, from, to).Value);

    [Theory]
    [InlineData("mg", "mL", true)]
    [InlineData("mg", "{tablet}", true)]
    [InlineData("mg", "[arb'U]", false)]
    [InlineData("Cel", "K", false)]
    public void Units_that_measure_different_things_or_are_unknown_do_not_convert(string from, string to, bool incommensurable)
    {
        var conversion = QuantityRange.Convert(1, from, to);

        Assert.Null(conversion.Value);
        Assert.Equal(incommensurable, conversion.IsIncommensurable);
    }

    [Fact]
    public void A_time_span_from_now_uses_calendar_years_and_exact_days()
    {
        var now = new DateTimeOffset(2024, 2, 29, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2023, 2, 28, 12, 0, 0, TimeSpan.Zero), QuantityRange.RelativeToNow(now, 1, "a", subtract: true));
        Assert.Equal(now.AddDays(14), QuantityRange.RelativeToNow(now, 2, "wk", subtract: false));
        Assert.Null(QuantityRange.RelativeToNow(now, 1.5m, "a", subtract: true));
        Assert.Null(QuantityRange.RelativeToNow(now, 1, "kg", subtract: true));
    }
}
