using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Tests.Engine;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// A big JSON Bundle is read entry by entry on workers (InstanceReader.TryReadBundleEntriesOnWorkers): the Bundle it
/// builds must be the one the whole-text read builds, and any text that read would object to must end where the
/// whole-text read ends, with the same findings.
/// </summary>
public sealed class BundleEntrySplitReadTests
{
    private const string Patient = """{ "fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000001", "resource": { "resourceType": "Patient", "id": "a", "active": true }, "request": { "method": "POST", "url": "Patient" } }""";
    private const string Observation = """{ "fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000002", "resource": { "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "subject": { "reference": "urn:uuid:11111111-0000-0000-0000-000000000001" } }, "request": { "method": "POST", "url": "Observation" } }""";

    private static string Entries(params string[] entries) => "[\n" + string.Join(",\n", entries) + "\n]";

    public static TheoryData<string, string> CleanShapes => new()
    {
        { "entry last", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient, Observation)}} }""" },
        { "entry first", $$"""{ "entry": {{Entries(Patient, Observation)}}, "resourceType": "Bundle", "type": "transaction" }""" },
        { "entry between", $$"""{ "resourceType": "Bundle", "entry": {{Entries(Patient, Observation)}}, "type": "transaction", "id": "b1" }""" },
        { "escaped name, no spaces", $$"""{"resourceType":"Bundle","type":"transaction","entr\u0079":{{Entries(Patient, Observation, Patient.Replace("001\"", "003\""))}}}""" },
        { "a Bundle inside an entry", $$"""{ "resourceType": "Bundle", "type": "collection", "entry": {{Entries(Patient, $$"""{ "resource": { "resourceType": "Bundle", "type": "collection", "entry": {{Entries(Observation)}} } }""")}} }""" },
    };

    [Theory]
    [MemberData(nameof(CleanShapes))]
    public void A_split_read_builds_the_bundle_the_whole_text_read_builds(string shape, string json)
    {
        Assert.Equal(InstanceReader.SplitRead.Clean, InstanceReader.TryReadBundleEntriesOnWorkers(json, minimumEntries: 1, degree: 4, out var split));
        var whole = InstanceReader.TryReadClean(json);
        Assert.NotNull(whole?.Resource);
        Assert.True(split is not null, shape);
        Assert.Equal(FhirSerialization.ToJson(whole.Resource), FhirSerialization.ToJson(split!));
    }

    public static TheoryData<string, string> UnusualTexts => new()
    {
        { "an unknown element in an entry", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient, Observation.Replace("\"status\"", "\"colour\": \"red\", \"status\""))}} }""" },
        { "a bad literal in an entry", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient.Replace("true", "\"yes\""), Observation)}} }""" },
        { "an unknown element beside the entries", $$"""{ "resourceType": "Bundle", "type": "transaction", "colour": "red", "entry": {{Entries(Patient, Observation)}} }""" },
        { "two entry properties", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient)}}, "entry": {{Entries(Observation)}} }""" },
        { "an entry that is not an object", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient, "null", Observation)}} }""" },
        { "an empty entry array", """{ "resourceType": "Bundle", "type": "transaction", "entry": [] }""" },
        { "a comment", $$"""{ "resourceType": "Bundle", /* note */ "type": "transaction", "entry": {{Entries(Patient, Observation)}} }""" },
        { "text after the object", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient, Observation)}} } {}""" },
        { "not a Bundle", $$"""{ "resourceType": "List", "status": "current", "mode": "working", "entry": {{Entries("""{ "item": { "reference": "Patient/a" } }""")}} }""" },
        { "a trailing comma", $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": [ {{Patient}}, ] }""" },
    };

    [Theory]
    [MemberData(nameof(UnusualTexts))]
    public async Task An_unusual_text_gives_the_findings_of_the_whole_text_read(string label, string json)
    {
        var whole = await EngineTestSupport.Validator.ValidateAsync(json, ResourceFormat.Json, ValidationOptions.Default with { ParallelEntryThreshold = 0 });
        var split = await EngineTestSupport.Validator.ValidateAsync(json, ResourceFormat.Json, ValidationOptions.Default with { ParallelEntryThreshold = 1, MaxDegreeOfParallelism = 4 });
        Assert.True(whole.Issues.SequenceEqual(split.Issues), $"{label}\n--- whole\n{EngineTestSupport.Describe(whole)}\n--- split\n{EngineTestSupport.Describe(split)}");
    }

    [Fact]
    public void A_text_with_fewer_entries_than_the_threshold_is_read_whole()
    {
        var json = $$"""{ "resourceType": "Bundle", "type": "transaction", "entry": {{Entries(Patient, Observation)}} }""";
        Assert.Equal(InstanceReader.SplitRead.NotApplicable, InstanceReader.TryReadBundleEntriesOnWorkers(json, minimumEntries: 3, degree: 4, out _));
        Assert.Equal(InstanceReader.SplitRead.NotApplicable, InstanceReader.TryReadBundleEntriesOnWorkers(json, minimumEntries: 1, degree: 1, out _));
    }
}
