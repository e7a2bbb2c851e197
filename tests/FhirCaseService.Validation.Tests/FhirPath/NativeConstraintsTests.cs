using FhirCaseService.Validation.FhirPath;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests.FhirPath;

/// <summary>
/// Every native constraint evaluation must give the SDK FHIRPath engine's verdict, or none: each expression with a native
/// form is evaluated both ways over a grid of instances (values present, absent, of another type, out of range and on
/// the bounds; codings matching in system only, in code only, both; primitives with an extension and no value; lists
/// with several items), and the native form must decide most of them (else the test would pass by deciding nothing).
/// </summary>
public sealed class NativeConstraintsTests
{
    private const string Ucum = "http://unitsofmeasure.org";
    private const string Interpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
    private const string LimitOfDetection = "https://fhircase.example.org/fhir/StructureDefinition/mrd-limit-of-detection";
    private const string DataAbsent = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    private const string VerificationStatus = "http://terminology.hl7.org/CodeSystem/condition-ver-status";

    /// <summary>The expressions of the package's profiles and of core R4 that have a native form (the profiles' text, verbatim).</summary>
    public static TheoryData<string> Expressions() =>
    [
        "value.ofType(Quantity).all(system = 'http://unitsofmeasure.org' and code = '%' and value.exists() and value >= 0 and value <= 100)",
        "value.ofType(CodeableConcept).coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation' and code = 'ND').empty() or extension.where(url = 'https://fhircase.example.org/fhir/StructureDefinition/mrd-limit-of-detection').exists()",
        "value.ofType(CodeableConcept).coding.where(system = 'http://snomed.info/sct' and code = '263855007').empty() or extension.where(url = 'https://fhircase.example.org/fhir/StructureDefinition/relapse-site').exists()",
        "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
        "dosage.dose.all(system = 'http://unitsofmeasure.org' and code = 'mg/m2')",
        "dosage.dose.where(system = 'http://unitsofmeasure.org' and code = 'mg/m2').all(iif(value.exists(), value <= 0.8, extension('http://hl7.org/fhir/StructureDefinition/data-absent-reason').exists()))",
        "value.exists() or dataAbsentReason.exists()",
    ];

    [Theory]
    [MemberData(nameof(Expressions))]
    public void Native_verdict_is_the_engines_verdict(string expression)
    {
        var native = NativeConstraints.For(expression);
        Assert.NotNull(native);
        var compiled = FhirPathCache.Get(expression);
        Assert.NotNull(compiled.Compiled);
        Assert.Same(native.GetType(), compiled.Native?.GetType());
        var decided = 0;
        var failed = 0;
        var instances = Instances().ToList();
        var mismatches = new List<string>();
        foreach (var (description, resource) in instances)
        {
            var verdict = native(resource);
            if (verdict is not { } nativeHolds)
                continue;
            decided++;
            failed += nativeHolds ? 0 : 1;
            string engine;
            try
            {
                engine = EngineHolds(expression, compiled, resource) ? "holds" : "fails";
            }
            catch (Exception e)
            {
                engine = "throws " + e.GetType().Name;
            }
            if (engine != (nativeHolds ? "holds" : "fails"))
                mismatches.Add($"{description}: native {(nativeHolds ? "holds" : "fails")}, engine {engine}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(20)));
        Assert.True(decided >= instances.Count * 3 / 4, $"native form decided only {decided} of {instances.Count} instances");
        Assert.True(failed > 0 && failed < decided, $"the grid must hold instances that fail ({failed}) and that hold ({decided - failed})");
    }

    [Fact]
    public void Other_expressions_have_no_native_form()
    {
        Assert.Null(NativeConstraints.For("value.ofType(Quantity).all(system = 'http://unitsofmeasure.org' and code = '%')"));
        Assert.Null(NativeConstraints.For("start.hasValue().not() or end.hasValue().not() or (start <= end)"));
        Assert.Null(FhirPathCache.Get("name.exists() or telecom.exists() or address.exists() or organization.exists()").Native);
    }

    /// <summary>The verdict the invariant validator takes from the engine: empty is "holds" unless the expression orders values.</summary>
    private static bool EngineHolds(string expression, CompiledFhirPath compiled, Resource resource)
    {
        var node = resource.ToPocoNode(ModelInfo.ModelInspector);
        var result = compiled.Compiled!([node], new FhirEvaluationContext { Resource = node, RootResource = node }).ToList();
        return result.Count switch
        {
            0 => !expression.Contains('<', StringComparison.Ordinal) && !expression.Contains('>', StringComparison.Ordinal),
            1 => result[0].Poco is not PrimitiveType { JsonValue: bool value } || value,
            _ => true,
        };
    }

    private static IEnumerable<(string, Resource)> Instances()
    {
        var quantities = Quantities().ToList();
        var concepts = Concepts().ToList();
        foreach (var (extensionName, extensions) in ResourceExtensions())
        {
            yield return ($"Observation without value, {extensionName}", new Observation { Extension = extensions() });
            yield return ($"Observation with dataAbsentReason, {extensionName}", new Observation { Extension = extensions(), DataAbsentReason = new CodeableConcept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown") });
            yield return ($"Observation valueString, {extensionName}", new Observation { Extension = extensions(), Value = new FhirString("x") });
            yield return ($"Observation valueString without value, {extensionName}", new Observation { Extension = extensions(), Value = new FhirString(null) { Extension = [new Extension(DataAbsent, new Code("unknown"))] } });
            yield return ($"Observation valueAge, {extensionName}", new Observation { Extension = extensions(), Value = new Age { Value = 5, System = Ucum, Code = "%" } });
            foreach (var (name, quantity) in quantities)
                yield return ($"Observation value {name}, {extensionName}", new Observation { Extension = extensions(), Value = quantity() });
            foreach (var (name, concept) in concepts)
                yield return ($"Observation value {name}, {extensionName}", new Observation { Extension = extensions(), Value = concept() });
        }
        foreach (var (verificationName, verification) in concepts.Prepend(("absent", () => null!)))
        {
            yield return ($"Condition verification {verificationName}, no clinicalStatus", new Condition { VerificationStatus = verification() });
            yield return ($"Condition verification {verificationName}, clinicalStatus", new Condition { VerificationStatus = verification(), ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active") });
        }
        yield return ("MedicationAdministration without dosage", new MedicationAdministration());
        yield return ("MedicationAdministration dosage without dose", new MedicationAdministration { Dosage = new MedicationAdministration.DosageComponent { Text = "x" } });
        foreach (var (name, quantity) in quantities)
            yield return ($"MedicationAdministration dose {name}", new MedicationAdministration { Dosage = new MedicationAdministration.DosageComponent { Dose = quantity() } });
    }

    private static IEnumerable<(string, Func<List<Extension>>)> ResourceExtensions() =>
    [
        ("no extension", () => []),
        ("limit-of-detection extension", () => [new Extension(LimitOfDetection, new Quantity(0.01m, "%"))]),
        ("relapse-site extension", () => [new Extension("https://fhircase.example.org/fhir/StructureDefinition/relapse-site", new CodeableConcept("http://snomed.info/sct", "14016003"))]),
        ("other and limit-of-detection extensions", () => [new Extension("http://example.org/other", new FhirString("x")), new Extension(LimitOfDetection, new FhirString("y"))]),
    ];

    private static IEnumerable<(string, Func<Quantity>)> Quantities()
    {
        string?[] systems = [null, Ucum, "http://example.org/units"];
        string?[] codes = [null, "%", "mg/m2", "mg"];
        decimal?[] values = [null, -1m, 0m, 0.5m, 0.8m, 0.80m, 0.8001m, 50m, 100m, 100.0m, 100.5m];
        foreach (var system in systems)
        {
            foreach (var code in codes)
            {
                foreach (var value in values)
                {
                    yield return ($"Quantity {value} {system}|{code}", () => new Quantity { Value = value, System = system, Code = code });
                    if (value is null)
                        yield return ($"Quantity (data-absent) {system}|{code}", () => new Quantity { System = system, Code = code, Extension = [new Extension(DataAbsent, new Code("unknown"))] });
                }
                yield return ($"Quantity value extension only {system}|{code}", () => new Quantity { ValueElement = new FhirDecimal(null) { Extension = [new Extension(DataAbsent, new Code("unknown"))] }, System = system, Code = code });
            }
        }
        yield return ("Quantity system extension only", () => new Quantity { Value = 1, SystemElement = new FhirUri((string?)null) { Extension = [new Extension(DataAbsent, new Code("unknown"))] }, Code = "%" });
    }

    private static IEnumerable<(string, Func<CodeableConcept>)> Concepts() =>
    [
        ("no coding", () => new CodeableConcept { Text = "x" }),
        ("ND", () => new CodeableConcept(Interpretation, "ND")),
        ("other interpretation", () => new CodeableConcept(Interpretation, "POS")),
        ("ND system only", () => new CodeableConcept { Coding = [new Coding { System = Interpretation }] }),
        ("ND code only", () => new CodeableConcept { Coding = [new Coding { Code = "ND" }] }),
        ("other then ND", () => new CodeableConcept { Coding = [new Coding("http://snomed.info/sct", "260415000"), new Coding(Interpretation, "ND")] }),
        ("snomed relapse", () => new CodeableConcept("http://snomed.info/sct", "263855007")),
        ("snomed relapse code with other system", () => new CodeableConcept("http://example.org", "263855007")),
        ("entered-in-error", () => new CodeableConcept(VerificationStatus, "entered-in-error")),
        ("confirmed", () => new CodeableConcept(VerificationStatus, "confirmed")),
        ("entered-in-error code without system", () => new CodeableConcept { Coding = [new Coding { Code = "entered-in-error" }] }),
        ("coding code without value", () => new CodeableConcept { Coding = [new Coding { System = VerificationStatus, CodeElement = new Code(null) { Extension = [new Extension(DataAbsent, new Code("unknown"))] } }] }),
    ];
}
