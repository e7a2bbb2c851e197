using System.Text.Json.Nodes;
using FhirCaseService.Cli.Output;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateFormatSarifTests
{
    private static JsonNode Render(ValidationReport report) =>
        JsonNode.Parse(new SarifReportFormatter("1.2.3").Format(report))!;

    [Fact]
    public void Mixed_report_renders_as_in_the_golden_file() =>
        ValidateGoldenFiles.AssertMatches("validate-sarif.json", new SarifReportFormatter("1.2.3").Format(ValidateSampleReports.Mixed()));

    [Fact]
    public void Log_declares_sarif_2_1_0_and_its_schema()
    {
        var log = Render(ValidateSampleReports.Mixed());

        Assert.Equal("2.1.0", (string?)log["version"]);
        Assert.Equal(SarifReportFormatter.SchemaUri, (string?)log["$schema"]);
        Assert.Single(log["runs"]!.AsArray());
    }

    [Fact]
    public void Driver_lists_each_rule_once_and_every_result_points_at_its_rule()
    {
        var run = Render(ValidateSampleReports.Mixed())["runs"]![0]!;

        var driver = run["tool"]!["driver"]!;
        Assert.Equal("fhircase", (string?)driver["name"]);
        var ruleIds = driver["rules"]!.AsArray().Select(r => (string?)r!["id"]).ToList();
        Assert.Equal(["binding", "cardinality", "extension-unknown", "fhircase-mrd-1", "input", "must-support"], ruleIds);
        var results = run["results"]!.AsArray();
        Assert.Equal(6, results.Count);
        Assert.All(results, r => Assert.Equal((string?)r!["ruleId"], ruleIds[(int)r["ruleIndex"]!]));
    }

    [Fact]
    public void Result_carries_level_message_file_region_and_fhirpath()
    {
        var results = Render(ValidateSampleReports.Mixed())["runs"]![0]!["results"]!.AsArray();

        var mrd = results.Single(r => (string?)r!["ruleId"] == "fhircase-mrd-1")!;
        Assert.Equal("error", (string?)mrd["level"]);
        Assert.StartsWith("Constraint fhircase-mrd-1 failed", (string?)mrd["message"]!["text"]);
        var location = mrd["locations"]![0]!;
        Assert.Equal("examples/invalid/mrd-percent-out-of-range.json", (string?)location["physicalLocation"]!["artifactLocation"]!["uri"]);
        Assert.Equal(22, (int)location["physicalLocation"]!["region"]!["startLine"]!);
        Assert.Equal(5, (int)location["physicalLocation"]!["region"]!["startColumn"]!);
        Assert.Equal("Observation.value.ofType(Quantity)", (string?)location["logicalLocations"]![0]!["fullyQualifiedName"]);
    }

    [Fact]
    public void Severities_map_to_sarif_levels_and_positionless_issues_have_no_region()
    {
        var results = Render(new ValidationReport([ValidateSampleReports.BundleWithIssues], FailThreshold.Error))["runs"]![0]!["results"]!.AsArray();

        Assert.Equal(["error", "warning", "note"], results.Select(r => (string?)r!["level"]));
        Assert.Null(results[2]!["locations"]![0]!["physicalLocation"]!["region"]);
    }

    [Theory]
    [InlineData("examples/a.json", "examples/a.json")]
    [InlineData("broken dir/bad.json", "broken%20dir/bad.json")]
    [InlineData(@"sub\file.xml", "sub/file.xml")]
    [InlineData("/data/x y.json", "file:///data/x%20y.json")]
    public void Artifact_uris_stay_relative_and_are_percent_encoded(string path, string uri) =>
        Assert.Equal(uri, SarifReportFormatter.ArtifactUri(path));
}
