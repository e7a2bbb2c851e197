using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests;

public sealed class OperationOutcomeBoundaryTests
{
    private static ValidationIssue Issue(string expression, int? line = null, int? column = null) =>
        new(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant, "MRD percent must be within 0..100.",
            new IssueLocation(expression, line, column), "fhircase-mrd-1");

    [Fact]
    public void Each_issue_keeps_severity_code_message_expression_and_position()
    {
        var outcome = new ValidationResult([Issue("Observation.value.ofType(Quantity)", 12, 7)]).ToOperationOutcome();

        var issue = Assert.Single(outcome.Issue);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.Invariant, issue.Code);
        Assert.Equal("MRD percent must be within 0..100.", issue.Diagnostics);
        Assert.Equal(["Observation.value.ofType(Quantity)"], issue.Expression);
        Assert.Equal(12, Assert.IsType<Integer>(issue.GetExtension(ValidationResult.IssueLineExtension)?.Value).Value);
        Assert.Equal(7, Assert.IsType<Integer>(issue.GetExtension(ValidationResult.IssueColumnExtension)?.Value).Value);
    }

    [Fact]
    public void An_issue_without_a_location_has_no_expression_rather_than_an_empty_one()
    {
        var outcome = new ValidationResult([Issue("")]).ToOperationOutcome();

        Assert.Empty(Assert.Single(outcome.Issue).Expression);
    }

    [Fact]
    public void A_clean_result_still_answers_with_one_informational_issue()
    {
        var issue = Assert.Single(ValidationResult.Success.ToOperationOutcome().Issue);

        Assert.Equal(OperationOutcome.IssueSeverity.Information, issue.Severity);
    }
}
