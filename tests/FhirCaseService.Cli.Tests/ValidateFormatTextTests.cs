using FhirCaseService.Cli.Output;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateFormatTextTests
{
    [Fact]
    public void Mixed_report_renders_issues_grouped_by_file_as_in_the_golden_file() =>
        ValidateGoldenFiles.AssertMatches("validate-text.txt", new TextReportFormatter(quiet: false).Format(ValidateSampleReports.Mixed()));

    [Fact]
    public void Quiet_mode_prints_only_issue_lines_at_or_above_the_threshold() =>
        ValidateGoldenFiles.AssertMatches("validate-text-quiet.txt", new TextReportFormatter(quiet: true).Format(ValidateSampleReports.Mixed()));

    [Fact]
    public void Quiet_mode_prints_nothing_when_no_issue_reaches_the_threshold()
    {
        var report = new ValidationReport([ValidateSampleReports.WarningsOnly, ValidateSampleReports.Clean], FailThreshold.Error);

        Assert.Equal(string.Empty, new TextReportFormatter(quiet: true).Format(report));
    }

    [Fact]
    public void Fail_on_warning_marks_a_file_with_only_warnings_as_failed()
    {
        var report = new ValidationReport([ValidateSampleReports.WarningsOnly], FailThreshold.Warning);

        var text = new TextReportFormatter(quiet: false).Format(report);

        Assert.StartsWith("profiles/Patient-example.xml: failed (1 warning)\n", text);
        Assert.EndsWith("1 file checked, 1 failed (fail-on warning): 1 warning\n", text);
    }

    [Fact]
    public void Issue_line_has_file_line_column_severity_expression_message_and_rule_on_one_line()
    {
        var issue = ValidateSampleReports.WarningsOnly.Result.Issues[0];

        var line = TextReportFormatter.IssueLine("a.xml", issue);

        Assert.Equal("a.xml:12:7 warning Patient.maritalStatus.coding[0] Code 'xx' is not in the extensible value set. Consider a code from it. [binding]", line);
    }

    [Fact]
    public void Issue_without_position_omits_line_and_column()
    {
        var issue = ValidateSampleReports.BundleWithIssues.Result.Issues[2];

        Assert.StartsWith("b.json information Bundle.entry[0].resource ", TextReportFormatter.IssueLine("b.json", issue));
    }
}
