using FhirCaseService.Cli.Output;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Tests;

/// <summary>Hand-made validation results covering what formatters must render: every severity, issues with and without positions, a clean file and an unreadable one.</summary>
internal static class ValidateSampleReports
{
    public static ValidatedFile BundleWithIssues { get; } = new(
        "examples/bundles/case-01.json",
        new ValidationResult(
        [
            new ValidationIssue(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Extension,
                "Extension 'https://example.org/unknown' is not known; it was not checked.",
                new IssueLocation("Bundle.entry[3].resource.extension[0]", 88, 13), "extension-unknown"),
            new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Required,
                "Observation.status is required (minimum 1) but is missing.",
                new IssueLocation("Bundle.entry[2].resource.status", 41, 9), "cardinality"),
            new ValidationIssue(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
                "mustSupport element 'Patient.deceased[x]' is absent.",
                new IssueLocation("Bundle.entry[0].resource"), "must-support"),
        ]));

    public static ValidatedFile InvalidMrd { get; } = new(
        "examples/invalid/mrd-percent-out-of-range.json",
        new ValidationResult(
        [
            new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant,
                "Constraint fhircase-mrd-1 failed: a percent value must lie within 0..100 and use UCUM '%' (value 140 \"%\" <here>).",
                new IssueLocation("Observation.value.ofType(Quantity)", 22, 5), "fhircase-mrd-1"),
        ]));

    public static ValidatedFile WarningsOnly { get; } = new(
        "profiles/Patient-example.xml",
        new ValidationResult(
        [
            new ValidationIssue(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.CodeInvalid,
                "Code 'xx' is not in the extensible value set.\nConsider a code from it.",
                new IssueLocation("Patient.maritalStatus.coding[0]", 12, 7), "binding"),
        ]));

    public static ValidatedFile Clean { get; } = new("export/Patient.ndjson", ValidationResult.Success);

    public static ValidatedFile Unreadable { get; } =
        ValidatedFile.UnreadableInput("broken dir/bad.json", "not valid JSON: '}' is invalid after a property name.", 3, 14);

    public static ValidationReport Mixed(FailThreshold failOn = FailThreshold.Error) =>
        new([BundleWithIssues, InvalidMrd, WarningsOnly, Clean, Unreadable], failOn);
}
