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

    private static void AssertSameAsEager(string json)
    {
        var eager = JsonSourceMapReader.Read(json);
        var deferred = JsonSourceMapReader.Deferred(json);
        Assert.False(deferred.IsFilled);
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
