using System.Text.Json;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Tests.Engine;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// The JSON source map is scanned only when a finding asks for a position, and the fast read checks property names in a
/// pass of its own: the deferred map must hold exactly what the eager scan records, and the name check must say what a
/// plain reading of the names says.
/// </summary>
public sealed class DeferredSourceMapTests
{
    private static readonly string[] ExampleFolders = ["examples/resources", "examples/bundles", "examples/invalid"];

    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var folder in ExampleFolders)
        {
            foreach (var file in Directory.EnumerateFiles(FhirCaseService.TestSupport.RepositoryRoot.Combine(folder), "*.json").Order(StringComparer.Ordinal))
            {
                if (!file.EndsWith(".expected.json", StringComparison.Ordinal))
                    data.Add(Path.GetRelativePath(FhirCaseService.TestSupport.RepositoryRoot.Path, file));
            }
        }
        return data;
    }

    /// <summary>Texts around the edges of what the scan accepts, each checked like the examples.</summary>
    public static TheoryData<string> OddTexts() =>
    [
        "",
        "   ",
        "[]",
        "[{\"resourceType\":\"Patient\"}]",
        "42",
        "\"Patient\"",
        "null",
        "{}",
        "{\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Patient\"} {\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Patient\",}",
        "{\"resourceType\":\"Patient\" /* a comment */, \"active\": true}",
        "{\"resourceType\":\"Patient\", \"active\": tru",
        "{\"resourceType\":\"Patient\", \"name\": [{\"family\": \"Ünïcödé 😀\", \"given\": [\"a\", null]}], \"_birthDate\": {\"id\": \"x\"}}",
        "{\"resourceType\":\"Patient\", \"Gender\": \"male\"}",
        "{\"resourceType\":\"Patient\", \"gend\\u0065r\": \"male\"}",
        "{\"resourceType\":\"Patient\", \"_\": 1}",
        "{\"resourceType\":\"Patient\", \"__gender\": \"male\"}",
        "{\"resourceType\":\"Patient\", \"" + new string('a', 300) + "\": 1}",
        "{\"resourceType\":\"Bundle\", \"entry\": [{\"resource\": {\"resourceType\":\"Patient\"}}, {}, {\"fullUrl\": \"urn:uuid:1\"}]}",
        "{\"resourceType\":\"Patient\",\n\r\n  \"active\":\n true,\n\t\"name\": [\n{\"text\": \"x\"}\n]\n}",
        "\uFEFF{\"resourceType\":\"Patient\"}",
        // Shapes of a Bundle's entry array that the per-entry scan must record as the whole scan does.
        "{\"resourceType\":\"Bundle\", \"entry\": [{\"fullUrl\": \"a\"}], \"entry\": [{\"fullUrl\": \"b\", \"x\": 1}]}",
        "{\"resourceType\":\"Bundle\", \"entry\": {\"fullUrl\": \"a\"}, \"_entry\": [{\"fullUrl\": \"b\"}]}",
        "{\"resourceType\":\"Bundle\", \"_entry\": [{\"fullUrl\": \"b\"}, {\"id\": \"c\"}]}",
        "{\"entry\": [{\"fullUrl\": \"b\", \"resource\": {\"resourceType\": \"Patient\", \"id\": \"p\"}}], \"resourceType\":\"Bundle\"}",
        "{\"resourceType\":\"Bundle\", \"entry\": [[{\"fullUrl\": \"a\"}], {\"fullUrl\": \"b\"}]}",
        "{\"resourceType\":\"Bundle\", \"entry\": [1, null, \"x\", {\"fullUrl\": \"b\"}, {}]}",
        "{\"resourceType\":\"Bundle\", \"entry\": [{\"fullUrl\": \"a\", \"fullUrl\": \"b\"}, {\"request\": {\"url\": \"Patient\"} /* c */}]}",
        "{\"resourceType\":\"Bundle\",\n \"entry\": [\n  {\"fullUrl\": \"Ünï😀\",\n   \"resource\": {\"resourceType\": \"Patient\",\n \"name\": [{\"text\": \"é\"}]}},\n  {\"fullUrl\":\n \"b\"}\n ]\n}",
        "{\"resourceType\":\"Bundle\", \"entry\": [{\"fullUrl\": \"a\"}, {\"fullUrl\": tru}]}",
        "{\"resourceType\":\"List\", \"entry\": [{\"item\": {\"reference\": \"Patient/1\"}}, {\"flag\": {\"text\": \"x\"}}]}",
    ];

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Deferred_map_of_an_example_holds_what_the_eager_scan_records(string relativePath) =>
        AssertSameAsEager(EngineTestSupport.ExampleFile(relativePath));

    [Theory]
    [MemberData(nameof(OddTexts))]
    public void Deferred_map_of_an_odd_text_holds_what_the_eager_scan_records(string json) => AssertSameAsEager(json);

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Name_check_of_an_example_agrees_with_a_plain_reading(string relativePath)
    {
        var json = EngineTestSupport.ExampleFile(relativePath);
        Assert.Equal(PlainNameCheck(json), JsonSourceMapReader.HasOnlyKnownNames(json));
        // The same text with one name misspelled in case must fail, wherever the name sits.
        var misspelled = json.Replace("\"system\"", "\"System\"", StringComparison.Ordinal);
        if (misspelled != json)
            Assert.False(JsonSourceMapReader.HasOnlyKnownNames(misspelled));
    }

    [Theory]
    [MemberData(nameof(OddTexts))]
    public void Name_check_of_an_odd_text_agrees_with_a_plain_reading(string json) =>
        Assert.Equal(PlainNameCheck(json), JsonSourceMapReader.HasOnlyKnownNames(json));

    [Fact]
    public void Name_check_knows_primitive_underscores_escapes_and_refuses_wrong_case()
    {
        Assert.True(JsonSourceMapReader.HasOnlyKnownNames("{\"resourceType\":\"Patient\",\"_birthDate\":{\"id\":\"a\"},\"gend\\u0065r\":\"male\"}"));
        Assert.False(JsonSourceMapReader.HasOnlyKnownNames("{\"resourceType\":\"Patient\",\"Gender\":\"male\"}"));
        Assert.False(JsonSourceMapReader.HasOnlyKnownNames("{\"resourceType\":\"Patient\",\"_Gender\":{}}"));
        Assert.False(JsonSourceMapReader.HasOnlyKnownNames("[{\"resourceType\":\"Patient\"}]"));
        Assert.False(JsonSourceMapReader.HasOnlyKnownNames("{\"resourceType\":\"Patient\""));
    }

    [Fact]
    public async Task Valid_resource_is_validated_without_scanning_positions_and_a_finding_scans_them()
    {
        var valid = EngineTestSupport.ExampleFile("examples/resources/Patient-example-patient.json");
        var clean = InstanceReader.TryReadClean(valid);
        Assert.NotNull(clean?.SourceMap);
        var result = await EngineTestSupport.Validator.ValidateAsync(clean);
        Assert.Empty(result.Issues);
        Assert.False(clean.SourceMap.IsFilled);

        var parsed = InstanceReader.Read(valid, ResourceFormat.Json);
        Assert.False(parsed.SourceMap!.IsFilled);
        Assert.Equal(new SourcePosition(1, 1), parsed.SourceMap.Find("Patient"));
        Assert.True(parsed.SourceMap.IsFilled);
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Deferred_map_of_an_example_answers_each_key_as_the_eager_scan_does(string relativePath) =>
        AssertAnswersAsEager(EngineTestSupport.ExampleFile(relativePath));

    [Theory]
    [MemberData(nameof(OddTexts))]
    public void Deferred_map_of_an_odd_text_answers_each_key_as_the_eager_scan_does(string json) => AssertAnswersAsEager(json);

    [Fact]
    public void A_position_in_one_entry_of_a_bundle_scans_that_entry_only()
    {
        var json = EngineTestSupport.ExampleFile("examples/bundles/aertgeerts-2025-ino-bridge.json");
        var eager = JsonSourceMapReader.Read(json)!;
        var deferred = JsonSourceMapReader.Deferred(json);
        var key = eager.Contents().Positions.Keys.First(k => k.StartsWith("Bundle.entry[3].resource[0].", StringComparison.Ordinal));
        Assert.Equal(eager.Find(key), deferred.Find(key));
        Assert.Equal(3, deferred.EntryOf(key));
        Assert.False(deferred.IsFilled);
        Assert.Equal(eager.Contents().Positions.Count, deferred.Count);
        Assert.True(deferred.IsFilled);
    }

    /// <summary>
    /// Asks a fresh deferred map for every key the eager scan recorded, and for an element below each that does not
    /// exist (answered by its nearest ancestor), in an order that jumps between entries, before anything fills it whole.
    /// </summary>
    private static void AssertAnswersAsEager(string json)
    {
        var eager = JsonSourceMapReader.Read(json);
        var deferred = JsonSourceMapReader.Deferred(json);
        if (eager is null)
        {
            Assert.Null(deferred.Find("Bundle.entry[0].fullUrl[0]"));
            Assert.Null(deferred.EntryOf("Bundle.entry[0]"));
            return;
        }
        var keys = eager.Contents().Positions.Keys.Order(StringComparer.Ordinal).ToList();
        var shuffled = keys.Select((key, index) => (key, index)).OrderBy(p => (p.index * 7919) % Math.Max(keys.Count, 1)).Select(p => p.key).ToList();
        shuffled.AddRange(["Bundle.entry[999]", "Bundle.entry[0]x", "Bundle.entry[", "Bundle.entry[-1].a", "Bundle.entry[1]]", "Nothing"]);
        foreach (var key in shuffled)
        {
            Assert.Equal(eager.Find(key), deferred.Find(key));
            Assert.Equal(eager.Find(key + ".missing[0]"), deferred.Find(key + ".missing[0]"));
            Assert.Equal(eager.EntryOf(key), deferred.EntryOf(key));
        }
        AssertSameAsEager(json, deferred);
    }

    private static void AssertSameAsEager(string json)
    {
        var deferred = JsonSourceMapReader.Deferred(json);
        Assert.False(deferred.IsFilled);
        AssertSameAsEager(json, deferred);
    }

    private static void AssertSameAsEager(string json, SourceMap deferred)
    {
        var eager = JsonSourceMapReader.Read(json);
        var (positions, entries) = deferred.Contents();
        if (eager is null)
        {
            Assert.Empty(positions);
            Assert.Empty(entries);
            Assert.Null(deferred.Find("Patient"));
            Assert.Null(deferred.KeyForParserPath("Patient.name"));
            return;
        }
        var (eagerPositions, eagerEntries) = eager.Contents();
        Assert.Equal(eagerPositions.OrderBy(p => p.Key, StringComparer.Ordinal), positions.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(eagerEntries.OrderBy(p => p.Key, StringComparer.Ordinal), entries.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    /// <summary>What the name check must answer, read another way: a JSON object whose every property name (less one leading '_') is an R4 element name.</summary>
    private static bool PlainNameCheck(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            return document.RootElement.ValueKind == JsonValueKind.Object && NamesKnown(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool NamesKnown(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().All(p => ElementNames.All.Contains(p.Name.Length > 1 && p.Name[0] == '_' ? p.Name[1..] : p.Name) && NamesKnown(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().All(NamesKnown),
        _ => true,
    };
}
