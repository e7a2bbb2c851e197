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

    /// <summary>
    /// The fast read checks a big Bundle's entries on workers (InstanceReader.TryReadClean): an entry the strict parser
    /// objects to, anywhere in the Bundle, must send the text to the strict read as the one-thread check does, and the
    /// output must be the sequential one.
    /// </summary>
    [Theory]
    [InlineData("\"effectiveDateTime\": \"2020-01-02\"", "\"effectiveDateTime\": \"2020-13-45\"")]
    [InlineData("\"status\": \"final\",", "\"status\": \"final\", \"colour\": \"red\",")]
    [InlineData("\"subject\": {", "\"subject\": { \"display\": 7,")]
    public async Task An_entry_the_strict_parser_objects_to_is_found_by_the_parallel_fast_read(string clean, string dirty)
    {
        var bundle = GeneratedBundle(300);
        var parallelRead = new ValidationOptions { ParallelEntryThreshold = 1, MaxDegreeOfParallelism = 4 };
        Assert.NotNull(FhirCaseService.Validation.Instance.InstanceReader.TryReadClean(bundle, parallelRead)?.Resource);
        foreach (var entry in new[] { 1, 150, 300 })
        {
            var marker = $"urn:uuid:{entry:00000000}-0000-0000-0000-000000000000\"";
            var start = bundle.IndexOf(marker, StringComparison.Ordinal);
            var at = bundle.IndexOf(clean, start, StringComparison.Ordinal);
            var text = string.Concat(bundle.AsSpan(0, at), dirty, bundle.AsSpan(at + clean.Length));
            Assert.Null(FhirCaseService.Validation.Instance.InstanceReader.TryReadClean(text, ValidationOptions.Default with { ParallelEntryThreshold = 0 }));
            Assert.Null(FhirCaseService.Validation.Instance.InstanceReader.TryReadClean(text, parallelRead));
            await AssertSameOutputAsync(EngineTestSupport.Validator, text, ResourceFormat.Json, ValidationOptions.Default, $"{dirty} in entry {entry}");
        }
    }

    /// <summary>
    /// The fast read parses a big Bundle's entries' resources on workers (ParallelBundleReader): the Bundle it puts together
    /// must be the one the whole-text parse gives, and text of a shape it does not handle must be left to that parse.
    /// </summary>
    [Fact]
    public void The_parallel_parse_of_a_big_bundle_gives_the_whole_text_parse()
    {
        var text = GeneratedBundle(300).Replace("\"request\": { \"method\": \"POST\", \"url\": \"Observation\" } }",
            "\"request\": { \"method\": \"POST\", \"url\": \"Observation\" }, \"search\": { \"mode\": \"match\" } }", StringComparison.Ordinal);
        var deserializer = new FhirJsonDeserializer(FhirCaseService.Conformance.Serialization.FhirSerialization.StrictJson.Settings with { Validator = null });
        var whole = deserializer.DeserializeResource(text);
        var parallel = FhirCaseService.Validation.Instance.ParallelBundleReader.TryRead(text, deserializer, threshold: 1, degree: 4);
        Assert.NotNull(parallel);
        Assert.Equal(301, parallel.Entry.Count(e => e.Resource is not null));
        Assert.True(Hl7.Fhir.Model.PocoEqualityComparisons.IsExactly(whole, parallel));

        // Two "resource" members in one entry, an entry that is not an object, too few entries: left to the whole-text parse.
        Assert.Null(FhirCaseService.Validation.Instance.ParallelBundleReader.TryRead(
            text.Replace("\"resource\": { \"resourceType\": \"Patient\"", "\"resource\": {}, \"resource\": { \"resourceType\": \"Patient\"", StringComparison.Ordinal), deserializer, 1, 4));
        Assert.Null(FhirCaseService.Validation.Instance.ParallelBundleReader.TryRead(text.Replace("\"entry\": [", "\"entry\": [ 1,", StringComparison.Ordinal), deserializer, 1, 4));
        Assert.Null(FhirCaseService.Validation.Instance.ParallelBundleReader.TryRead(text, deserializer, threshold: 302, degree: 4));
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
