using FhirCaseService.Cli.Output;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateFormatJsonTests
{
    [Fact]
    public void Single_file_renders_its_operation_outcome_as_in_the_golden_file() =>
        ValidateGoldenFiles.AssertMatches("validate-single.json",
            new JsonReportFormatter().Format(new ValidationReport([ValidateSampleReports.InvalidMrd], FailThreshold.Error)));

    [Fact]
    public void Several_files_render_a_batch_response_bundle_as_in_the_golden_file() =>
        ValidateGoldenFiles.AssertMatches("validate-several.json", new JsonReportFormatter().Format(ValidateSampleReports.Mixed()));

    [Fact]
    public void Single_file_output_is_an_operation_outcome_with_expression_line_and_column()
    {
        var json = new JsonReportFormatter().Format(new ValidationReport([ValidateSampleReports.InvalidMrd], FailThreshold.Error));

        var outcome = Assert.IsType<OperationOutcome>(FhirSerialization.StrictJson.DeserializeResource(json));
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(["Observation.value.ofType(Quantity)"], issue.Expression);
        Assert.Equal(22, Assert.IsType<Integer>(issue.GetExtension(ValidationResult.IssueLineExtension)?.Value).Value);
        Assert.Equal(5, Assert.IsType<Integer>(issue.GetExtension(ValidationResult.IssueColumnExtension)?.Value).Value);
    }

    [Fact]
    public void Each_bundle_entry_names_its_file_and_a_status_that_follows_the_threshold()
    {
        var json = new JsonReportFormatter().Format(ValidateSampleReports.Mixed(FailThreshold.Warning));

        var bundle = Assert.IsType<Bundle>(FhirSerialization.StrictJson.DeserializeResource(json));
        Assert.Equal(Bundle.BundleType.BatchResponse, bundle.Type);
        Assert.All(bundle.Entry, e => Assert.NotNull(e.Response));
        Assert.Equal(
            [
                ("examples/bundles/case-01.json", "422 Unprocessable Entity"),
                ("examples/invalid/mrd-percent-out-of-range.json", "422 Unprocessable Entity"),
                ("profiles/Patient-example.xml", "422 Unprocessable Entity"),
                ("export/Patient.ndjson", "200 OK"),
                ("broken dir/bad.json", "400 Bad Request"),
            ],
            bundle.Entry.Select(e => (e.Response!.Location, e.Response.Status)));
        Assert.All(bundle.Entry, e => Assert.IsType<OperationOutcome>(e.Response!.Outcome));
    }

    [Fact]
    public void A_clean_file_still_gets_an_outcome_saying_no_issues_were_found()
    {
        var json = new JsonReportFormatter().Format(new ValidationReport([ValidateSampleReports.Clean], FailThreshold.Error));

        var outcome = Assert.IsType<OperationOutcome>(FhirSerialization.StrictJson.DeserializeResource(json));
        Assert.Equal(OperationOutcome.IssueSeverity.Information, Assert.Single(outcome.Issue).Severity);
    }
}
