using System.Text.Json.Nodes;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Tests.Engine;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// The fast read checks a big Bundle's entries in parallel (<see cref="InstanceReader.IsCleanRoot"/>) and its property
/// names beside the SDK's parse: it must say "clean" exactly where the serial check of the whole tree does, on every
/// Bundle of the examples and the conformance cases and on big Bundles with one flaw seeded at different entries.
/// </summary>
public sealed class BigBundleCleanReadTests
{
    public static TheoryData<string> BundleFiles()
    {
        var data = new TheoryData<string>();
        var conformance = Path.GetFullPath(Path.Combine(FhirCaseService.TestSupport.RepositoryRoot.Path, "..", "shared", "conformance", "fhir-test-cases", "files"));
        var folders = new[] { FhirCaseService.TestSupport.RepositoryRoot.Combine("examples"), conformance };
        foreach (var file in folders.SelectMany(f => Directory.EnumerateFiles(f, "*.json", SearchOption.AllDirectories)).Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            if (text.Contains("\"Bundle\"", StringComparison.Ordinal))
                data.Add(file);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BundleFiles))]
    public void Parallel_entry_check_agrees_with_the_serial_check(string file)
    {
        var text = File.ReadAllText(file);
        if (InstanceReader.TryDeserialize(text) is not { } resource)
            return;
        Assert.Equal(Check(resource, serial: true), Check(resource, serial: false));
    }

    [Theory]
    [MemberData(nameof(BundleFiles))]
    public async Task Entry_split_read_gives_the_findings_of_the_whole_text_read(string file)
    {
        var text = File.ReadAllText(file);
        var whole = await EngineTestSupport.Validator.ValidateAsync(text, ResourceFormat.Json, ValidationOptions.Default with { ParallelEntryThreshold = 0 });
        var split = await EngineTestSupport.Validator.ValidateAsync(text, ResourceFormat.Json, ValidationOptions.Default with { ParallelEntryThreshold = 1, MaxDegreeOfParallelism = 2 });
        Assert.True(whole.Issues.SequenceEqual(split.Issues), $"{file}\n--- whole\n{EngineTestSupport.Describe(whole)}\n--- split\n{EngineTestSupport.Describe(split)}");
        var read = InstanceReader.TryReadClean(text);
        var splitRead = InstanceReader.TryReadClean(text, minimumSplitEntries: 1, degree: 2);
        Assert.Equal(read is not null, splitRead is not null);
        if (read is not null)
            Assert.Equal(FhirSerialization.ToJson(read.Resource!), FhirSerialization.ToJson(splitRead!.Resource!));
    }

    /// <summary>Flaws the fast read must see, each seeded into one entry's resource of a big Bundle.</summary>
    public static TheoryData<string, int> SeededFlaws()
    {
        var data = new TheoryData<string, int>();
        foreach (var flaw in new[] { "none", "bad-date", "unknown-element", "null-entry", "bad-id", "bad-code", "wrong-case-name", "entry-overflow" })
        {
            foreach (var at in new[] { 0, 517, 1_199 })
                data.Add(flaw, at);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SeededFlaws))]
    public void Big_bundle_with_a_seeded_flaw_reads_as_the_serial_check_and_the_strict_parser_say(string flaw, int at)
    {
        var text = BigBundle(1_200, flaw, at);
        Assert.True(text.Length >= 1 << 20, "the text must be big enough for the names to be checked beside the parse");
        var fast = InstanceReader.TryReadClean(text);
        // The entry-split read on workers says the same, and builds the same Bundle.
        var split = InstanceReader.TryReadClean(text, minimumSplitEntries: 1, degree: 2);
        Assert.Equal(fast is not null, split is not null);
        if (fast is not null)
            Assert.Equal(FhirSerialization.ToJson(fast.Resource!), FhirSerialization.ToJson(split!.Resource!));
        var serial = InstanceReader.TryDeserialize(text) is { } resource && Check(resource, serial: true) && JsonSourceMapReader.HasOnlyKnownNames(text);
        Assert.Equal(serial, fast is not null);
        // The seeded flaw is one the strict parser reports: only the Bundle without one reads clean.
        Assert.Equal(flaw == "none", fast is not null);
        var strict = InstanceReader.Read(text, ResourceFormat.Json);
        Assert.Equal(flaw == "none", strict.Issues.Count == 0);
    }

    private static bool Check(Resource resource, bool serial)
    {
        try
        {
            return InstanceReader.IsCleanRoot(resource, serial ? int.MaxValue : 0);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or InvalidOperationException or ArgumentException or Hl7.Fhir.Validation.CodedValidationException)
        {
            return false;
        }
    }

    /// <summary>The example transaction's entries repeated to <paramref name="count"/>, with <paramref name="flaw"/> in entry <paramref name="at"/>.</summary>
    private static string BigBundle(int count, string flaw, int at)
    {
        var template = JsonNode.Parse(EngineTestSupport.ExampleFile("examples/bundles/aertgeerts-2025-ino-bridge.json"))!.AsObject();
        var source = template["entry"]!.AsArray();
        var entries = new JsonArray();
        for (var index = 0; index < count; index++)
        {
            var entry = source[index % source.Count]!.DeepClone().AsObject();
            entry["fullUrl"] = $"urn:uuid:00000000-0000-4000-8000-{index:D12}";
            if (index == at)
            {
                var resource = entry["resource"]!.AsObject();
                switch (flaw)
                {
                    case "bad-date":
                        resource["meta"] = new JsonObject { ["lastUpdated"] = "2024-13-45T00:00:00Z" };
                        break;
                    case "unknown-element":
                        resource["notAnElement"] = "x";
                        break;
                    case "bad-id":
                        resource["id"] = "not an id!";
                        break;
                    case "bad-code":
                        resource["language"] = " en ";
                        break;
                    case "wrong-case-name":
                        resource["Id"] = "x";
                        break;
                    case "entry-overflow":
                        entry["notAnElement"] = 1;
                        break;
                }
            }
            entries.Add(flaw == "null-entry" && index == at ? null : entry);
        }
        template["entry"] = entries;
        return template.ToJsonString();
    }
}
