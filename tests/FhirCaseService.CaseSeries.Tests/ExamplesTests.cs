using System.Text.Json.Nodes;
using FhirCaseService.CaseSeries.Input;
using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.CaseSeries.Schema;
using FhirCaseService.CaseSeries.Tests.Support;
using Json.Schema;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>The checked-in examples: inputs conform to the published schema, and bundles are exactly what the converter makes.</summary>
public sealed class ExamplesTests
{
    public static TheoryData<string> CaseSeriesFiles => new(Directory
        .EnumerateFiles(RepositoryPaths.Examples("case-series"), "*.json")
        .Select(Path.GetFileName)
        .Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(CaseSeriesFiles))]
    public void Checked_in_bundle_is_exactly_what_the_converter_makes(string fileName)
    {
        var input = File.ReadAllBytes(RepositoryPaths.Examples("case-series", fileName));
        var expected = File.ReadAllText(RepositoryPaths.Examples("bundles", fileName));

        var conversion = CaseSeriesConverter.Convert(input);

        Assert.True(conversion.Succeeded, string.Join("\n", conversion.Errors));
        // On a mismatch regenerate with: dotnet run --project src/FhirCaseService.Cli -- convert examples/case-series/X.json -o examples/bundles/X.json
        Assert.Equal(expected, CaseSeriesJson.Serialize(conversion.Bundle!));
    }

    [Theory]
    [MemberData(nameof(CaseSeriesFiles))]
    public void Example_input_conforms_to_the_json_schema(string fileName)
    {
        var schema = JsonSchema.FromText(CaseSeriesSchema.ReadText());
        var input = JsonNode.Parse(File.ReadAllText(RepositoryPaths.Examples("case-series", fileName)));

        var result = schema.Evaluate(input, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join("\n", result.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void Schema_rejects_what_the_reader_rejects()
    {
        var schema = JsonSchema.FromText(CaseSeriesSchema.ReadText());
        var bad = JsonNode.Parse(TestRecords.With(root =>
        {
            TestRecords.Patient(root)["sex"] = "unknown";
            TestRecords.Patient(root)["diagnosys"] = "typo";
        }));

        Assert.False(schema.Evaluate(bad).IsValid);
        Assert.True(schema.Evaluate(JsonNode.Parse(TestRecords.Valid)).IsValid);
    }

    [Fact]
    public void Embedded_schema_is_the_file_in_the_repository()
    {
        var file = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "FhirCaseService.CaseSeries", "Schema", "case-series.schema.json"));

        Assert.Equal(file, CaseSeriesSchema.ReadText());
    }

    [Fact]
    public void Paper_example_marks_per_patient_assignments_as_illustrative()
    {
        var record = CaseSeriesReader.Read(File.ReadAllBytes(RepositoryPaths.Examples("case-series", "aertgeerts-2025-ino-bridge.json"))).Record!;

        Assert.Equal(4, record.Patients.Count);
        Assert.All(record.Patients, p =>
        {
            Assert.Contains("inotuzumabCycles", p.Illustrative.Paths);
            Assert.Contains("responseAssessments[*].mrd", p.Illustrative.Paths);
            Assert.Contains("followUp.lastContactDate", p.Illustrative.Paths);
            Assert.Contains(p.Illustrative.Paths, path => path.EndsWith(".cd19", StringComparison.Ordinal));
        });
        Assert.Equal(new PartialDate(2020, 1, 1), record.Timeline.AnchorDate);
    }
}
