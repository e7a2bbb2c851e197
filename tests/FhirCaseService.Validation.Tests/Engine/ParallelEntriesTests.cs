using Hl7.Fhir.Serialization;
using System.Globalization;
using System.Text;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// A big Bundle's entries are validated by several workers (ValidationOptions.ParallelEntryThreshold); the output must be
/// the one-thread output, byte for byte: same findings, same order, same positions.
/// </summary>
public class ParallelEntriesTests
{
    private static ValidationOptions Sequential(ValidationOptions options) => options with { ParallelEntryThreshold = 0 };

    /// <summary>Parallel from the first entry, with more ranges than workers, so every Bundle of the tests is split.</summary>
    private static ValidationOptions Parallel(ValidationOptions options) => options with { ParallelEntryThreshold = 1, MaxDegreeOfParallelism = 4 };

    /// <summary>A transaction Bundle: one Patient, then Observations with errors of many kinds in many entries.</summary>
    private static string GeneratedBundle(int observations)
    {
        var json = new StringBuilder("""{ "resourceType": "Bundle", "type": "transaction", "entry": [""");
        json.Append("""
            { "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000000",
              "resource": { "resourceType": "Patient", "id": "p0", "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">p</div>" } },
              "request": { "method": "POST", "url": "Patient" } }
            """);
        for (var i = 1; i <= observations; i++)
        {
            // Findings of the walk, not of the parser (a text the parser objects to is walked on one thread).
            var value = i % 5 == 0 ? "\"valueString\": \"x\", \"dataAbsentReason\": { \"text\": \"unknown\" },"
                : i % 13 == 0 ? "\"valueQuantity\": { \"value\": 1, \"code\": \"mg\" }," : "";
            var extension = i % 11 == 0 ? "\"extension\": [ { \"url\": \"http://unknown.org/ext\", \"valueString\": \"x\" } ]," : "";
            var subject = i % 17 == 0 ? "urn:uuid:99999999-0000-0000-0000-000000000000" : "urn:uuid:00000000-0000-0000-0000-000000000000";
            var profile = i % 3 == 0 ? "\"meta\": { \"profile\": [ \"" + EngineTestSupport.Profiles + "fhircase-mrd\" ] }," : "";
            json.Append(CultureInfo.InvariantCulture, $$"""
                , { "fullUrl": "urn:uuid:{{i:00000000}}-0000-0000-0000-000000000000",
                  "resource": { "resourceType": "Observation", {{profile}} {{extension}} {{value}} "status": "final",
                    "code": { "coding": [ { "system": "http://loinc.org", "code": "8277-6" } ] },
                    "subject": { "reference": "{{subject}}" }, "effectiveDateTime": "2020-01-02" },
                  "request": { "method": "POST", "url": "Observation" } }
                """);
        }
        json.Append("] }");
        return json.ToString();
    }

    private static async Task AssertSameOutputAsync(IResourceValidator validator, string content, ResourceFormat format, ValidationOptions options, string label)
    {
        var sequential = await validator.ValidateAsync(content, format, Sequential(options));
        var parallel = await validator.ValidateAsync(content, format, Parallel(options));
        Assert.True(sequential.Issues.SequenceEqual(parallel.Issues),
            $"{label}: parallel output differs\n--- sequential\n{EngineTestSupport.Describe(sequential)}\n--- parallel\n{EngineTestSupport.Describe(parallel)}");
    }

    [Fact]
    public async Task A_generated_bundle_with_errors_in_many_entries_gives_the_sequential_output()
    {
        var bundle = GeneratedBundle(400);
        Assert.NotNull(FhirCaseService.Validation.Instance.InstanceReader.TryReadClean(bundle)?.Resource);
        var sequential = await EngineTestSupport.ValidateJsonAsync(bundle, Sequential(ValidationOptions.Default));
        // The comparison means something only if many entries have findings of several kinds.
        Assert.True(sequential.Issues.Select(i => i.Location.Entry).Distinct().Count() > 150, EngineTestSupport.Describe(sequential));
        Assert.True(sequential.Issues.Select(i => i.Rule).Distinct().Count() >= 5, EngineTestSupport.Describe(sequential));

        await AssertSameOutputAsync(EngineTestSupport.Validator, bundle, ResourceFormat.Json, ValidationOptions.Default, "generated");
        await AssertSameOutputAsync(EngineTestSupport.Validator, bundle, ResourceFormat.Json,
            new ValidationOptions { UnknownExtensionsAreErrors = true, ReferenceValidatorBundleLocations = true }, "generated, reference options");
    }

    [Fact]
    public async Task A_bundle_given_as_objects_gives_the_sequential_output()
    {
        var bundle = FhirCaseService.Conformance.Serialization.FhirSerialization.StrictJson.DeserializeResource(GeneratedBundle(120));
        var sequential = await EngineTestSupport.Validator.ValidateAsync(bundle, Sequential(ValidationOptions.Default));
        var parallel = await EngineTestSupport.Validator.ValidateAsync(bundle, Parallel(ValidationOptions.Default));
        Assert.True(sequential.HasErrors);
        Assert.Equal(sequential.Issues, parallel.Issues);
    }

    [Fact]
    public async Task The_example_and_conformance_bundles_give_the_sequential_output()
    {
        var files = Directory.GetFiles(FhirCaseService.TestSupport.RepositoryRoot.Combine("examples"), "*.json", SearchOption.AllDirectories).ToList();
        var suite = ConformanceSuite.Load();
        files.AddRange(suite.Cases.Select(c => suite.FilePath(c.File)).Distinct().Where(File.Exists));
        var bundles = 0;
        foreach (var file in files)
        {
            var content = await File.ReadAllTextAsync(file);
            var format = file.EndsWith(".xml", StringComparison.OrdinalIgnoreCase) ? ResourceFormat.Xml : ResourceFormat.Json;
            if (!(format == ResourceFormat.Json ? content.Contains("\"Bundle\"", StringComparison.Ordinal) : content.Contains("<Bundle", StringComparison.Ordinal)))
                continue;
            bundles++;
            await AssertSameOutputAsync(EngineTestSupport.Validator, content, format, ValidationOptions.Reference, Path.GetFileName(file));
        }
        Assert.True(bundles > 20, $"only {bundles} bundles found");
    }
}
