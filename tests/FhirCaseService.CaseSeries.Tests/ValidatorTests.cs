using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.CaseSeries.Tests.Support;
using FhirCaseService.Conformance;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>Generated bundles pass the project's validator (core R4 + profiles/) without errors.</summary>
public sealed class ValidatorTests
{
    private static readonly Lazy<FhirValidator> Validator = new(() => new FhirValidator(ConformanceContext.CreateDefault()));

    public static TheoryData<string> Inputs => new()
    {
        "examples/case-series/aertgeerts-2025-ino-bridge.json",
        "test record",
        "test record with unreported values",
        "test record in relapse at follow-up, with flow cytometry values",
    };

    private static string Input(string name) => name switch
    {
        "test record" => TestRecords.Valid,
        "test record with unreported values" => TestRecords.With(root =>
        {
            var patient = TestRecords.Patient(root);
            patient["sex"] = "not-reported";
            patient["birthYear"] = "not-reported";
            patient["diagnosis"]!["date"] = "not-reported";
            patient["relapses"]![0]!["sites"] = "not-reported";
            patient["responseAssessments"]![0]!["response"] = "not-reported";
            patient["responseAssessments"]![0]!["mrd"]!["method"] = "not-reported";
            patient["responseAssessments"]![0]!["mrd"]!["limitOfDetectionPercent"] = "not-reported";
            patient["inotuzumabCycles"]![0]!["doses"]![1]!["doseMgPerM2"] = "not-reported";
            patient["hsct"]!["date"] = "not-reported";
            patient["radiotherapy"]![0]!["intent"] = "not-reported";
            patient["radiotherapy"]![0]!["startDate"] = "not-reported";
            patient["followUp"]!["diseaseStatus"] = "not-reported";
        }),
        "test record in relapse at follow-up, with flow cytometry values" => TestRecords.With(root =>
        {
            var patient = TestRecords.Patient(root);
            patient["followUp"]!["diseaseStatus"] = "relapse";
            patient["relapses"]![1]!["cd19PercentOfBlasts"] = 2.5;
            patient["relapses"]![1]!["cd22PercentOfBlasts"] = 91;
            patient["relapses"]![1]!["cd22AntigenDensity"] = 4200;
        }),
        _ => File.ReadAllText(Path.Combine(RepositoryPaths.Root, name)),
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public async System.Threading.Tasks.Task Generated_bundle_has_no_validation_errors(string name)
    {
        var json = CaseSeriesJson.Serialize(TestRecords.Convert(Input(name)));

        var result = await Validator.Value.ValidateAsync(json, ResourceFormat.Json);

        var errors = result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
        Assert.True(!result.HasErrors, string.Join("\n", errors.Select(e => $"{e.Location.Expression} ({e.Location.Line}): {e.Message} [{e.Rule}]")));
    }

    [Fact]
    public async System.Threading.Tasks.Task Validator_rejects_a_generated_resource_broken_on_purpose()
    {
        var bundle = TestRecords.Convert(TestRecords.Valid);
        var dose = TestRecords.Single<MedicationAdministration>(bundle, "-ino-c1-d1");
        ((Quantity)dose.Dosage.Dose).Value = 1.8m;

        var result = await Validator.Value.ValidateAsync(CaseSeriesJson.Serialize(bundle), ResourceFormat.Json);

        Assert.Contains(result.Issues, i => i.Rule == "fhircase-ino-2");
    }
}
