using System.Xml.Linq;
using FhirCaseService.Cli.Output;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateFormatJUnitTests
{
    [Fact]
    public void Mixed_report_renders_as_in_the_golden_file() =>
        ValidateGoldenFiles.AssertMatches("validate-junit.xml", new JUnitReportFormatter().Format(ValidateSampleReports.Mixed()));

    [Fact]
    public void Report_has_one_testsuite_with_one_testcase_per_file_and_matching_counts()
    {
        var document = XDocument.Parse(new JUnitReportFormatter().Format(ValidateSampleReports.Mixed()));

        var root = document.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        var suite = Assert.Single(root.Elements("testsuite"));
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(5, cases.Count);
        Assert.Equal("5", (string?)suite.Attribute("tests"));
        Assert.Equal("2", (string?)suite.Attribute("failures"));
        Assert.Equal("1", (string?)suite.Attribute("errors"));
        Assert.Equal(
            ["examples/bundles/case-01.json", "examples/invalid/mrd-percent-out-of-range.json", "profiles/Patient-example.xml", "export/Patient.ndjson", "broken dir/bad.json"],
            cases.Select(c => (string?)c.Attribute("name")));
        Assert.Equal("examples/bundles", (string?)cases[0].Attribute("classname"));
    }

    [Fact]
    public void Failing_file_has_a_failure_unreadable_file_an_error_and_passing_files_neither()
    {
        var cases = XDocument.Parse(new JUnitReportFormatter().Format(ValidateSampleReports.Mixed())).Descendants("testcase").ToList();

        Assert.Equal("1 error", (string?)cases[0].Element("failure")!.Attribute("message"));
        Assert.NotNull(cases[1].Element("failure"));
        Assert.Null(cases[2].Element("failure"));
        Assert.Contains("binding", cases[2].Element("system-out")!.Value);
        Assert.Empty(cases[3].Elements());
        Assert.Null(cases[4].Element("failure"));
        Assert.Contains("broken dir/bad.json:3:14 fatal", cases[4].Element("error")!.Value);
    }

    [Fact]
    public void Fail_on_warning_turns_a_warning_into_a_failure()
    {
        var report = new ValidationReport([ValidateSampleReports.WarningsOnly], FailThreshold.Warning);

        var testCase = XDocument.Parse(new JUnitReportFormatter().Format(report)).Descendants("testcase").Single();

        Assert.Equal("warning", (string?)testCase.Element("failure")!.Attribute("type"));
    }
}
