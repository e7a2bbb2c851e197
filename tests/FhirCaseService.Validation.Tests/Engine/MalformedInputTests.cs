using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// The engine never throws on what the SDK parser hands it: every example file (resources, the Bundle, the invalid
/// ones) mutated at its element paths (a value of the wrong JSON type, null, {}, [], huge and tiny numbers, long
/// strings, deep nesting, truncated text) validates to a result whose issues are located. Seeded and bounded: the
/// same seed gives the same cases, a fixed number of paths per file.
/// </summary>
public sealed class MalformedInputTests
{
    private const int Seed = 20261205;
    private const int PathsPerFile = 40;
    private const int TruncationsPerFile = 3;

    private static readonly string[] ExampleFolders = ["examples/resources", "examples/bundles", "examples/invalid"];

    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var folder in ExampleFolders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), folder), "*.json").Order(StringComparer.Ordinal))
            {
                if (!file.EndsWith(".expected.json", StringComparison.Ordinal))
                    data.Add(Path.GetRelativePath(RepositoryRoot(), file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task Mutated_json_of_an_example_always_gives_a_located_result(string relativePath)
    {
        var original = EngineTestSupport.ExampleFile(relativePath);
        var random = new Random(Seed ^ StableHash(relativePath));
        var failures = new List<string>();
        foreach (var (description, json) in JsonMutations(original, random))
            await CheckAsync(description, json, ResourceFormat.Json, failures);
        Assert.True(failures.Count == 0, $"{failures.Count} mutations of {relativePath} broke the engine:\n{string.Join("\n", failures.Take(20))}");
    }

    /// <summary>
    /// Text validation reads clean JSON without the SDK parser's per-primitive validator and falls back to the strict
    /// parse when anything is found (InstanceReader.TryReadClean): every example and every mutation of it must give
    /// exactly the issues the strict parse gives (InstanceReader.Read, the write path's parse), in the same order.
    /// </summary>
    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task Text_validation_gives_the_strict_parse_result_for_every_mutation(string relativePath)
    {
        var original = EngineTestSupport.ExampleFile(relativePath);
        var random = new Random(Seed ^ StableHash(relativePath));
        var differences = new List<string>();
        foreach (var (description, json) in JsonMutations(original, random).Prepend(("unchanged", original)))
        {
            var fromText = await EngineTestSupport.Validator.ValidateAsync(json, ResourceFormat.Json);
            var fromStrictParse = await EngineTestSupport.Validator.ValidateAsync(Instance.InstanceReader.Read(json, ResourceFormat.Json));
            if (!fromText.Issues.SequenceEqual(fromStrictParse.Issues))
                differences.Add($"{description}: text gave [{EngineTestSupport.Describe(fromText)}], strict parse gave [{EngineTestSupport.Describe(fromStrictParse)}]");
        }
        Assert.True(differences.Count == 0, $"{differences.Count} inputs from {relativePath} differ:\n{string.Join("\n", differences.Take(10))}");
    }

    [Fact]
    public void No_two_R4_element_names_differ_only_in_case()
    {
        // The fast path takes a name missing from the exact set as wrong case; a case-variant pair would hide one.
        var clashes = Instance.ElementNames.All.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => string.Join("/", g)).ToList();
        Assert.True(Instance.ElementNames.All.Contains("valueCodeableConcept") && Instance.ElementNames.All.Contains("birthDate"));
        Assert.True(Instance.ElementNames.All.Contains("bodySite") && !Instance.ElementNames.All.Contains("bodysite"));
        Assert.Contains(Instance.ElementNames.OtherSpellings.Values, names => names.Contains("bodysite"));
        Assert.Empty(clashes);
    }

    [Theory]
    [InlineData("""{"resourceType":"Patient","nmae":[{"family":"x"}]}""")]
    [InlineData("""{"resourceType":"Patient","birthdate":"2020-01-01"}""")]
    [InlineData("""{"resourceType":"Observation","status":"final","code":{"text":"x"},"bodysite":{"text":"arm"}}""")]
    [InlineData("""{"resourceType":"Observation","status":"final","code":{"text":"x"},"bodySite":{"text":"arm"}}""")]
    [InlineData("""{"resourceType":"ChargeItem","status":"billable","code":{"text":"x"},"subject":{"reference":"Patient/1"},"bodysite":[{"text":"arm"}]}""")]
    [InlineData("""{"resourceType":"ChargeItem","status":"billable","code":{"text":"x"},"subject":{"reference":"Patient/1"},"bodySite":[{"text":"arm"}]}""")]
    [InlineData("""{"resourceType":"AuditEvent","type":{"code":"x"},"subType":[{"code":"y"}],"recorded":"2020-01-01T00:00:00Z","agent":[{"requestor":true}],"source":{"observer":{"display":"s"}}}""")]
    [InlineData("""{"resourceType":"Observation","status":"final","code":{"text":"x"},"valuequantity":{"value":1}}""")]
    [InlineData("""{"resourceType":"Patient","Gender":"male"}""")]
    [InlineData("""{"resourceType":"Patient","birthDate":"2020-13-45"}""")]
    [InlineData("""{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script/></div>"}}""")]
    [InlineData("""{"resourceType":"Patient","text":{"status":"generated","div":"<p>no namespace</p>"}}""")]
    [InlineData("""{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueReference":{"reference":"Patient/1"}}""")]
    [InlineData("""{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueInteger":-1,"component":[{"code":{"text":"c"},"valuePositiveInt":0}]}""")]
    [InlineData("""{"resourceType":"Patient","active":"true","multipleBirthInteger":1.5}""")]
    [InlineData("""{"resourceType":"Observaton","status":"final"}""")]
    [InlineData("""{"resourceType":"Patient","contained":[{"resourceType":"Patient","contained":[{"resourceType":"Patient"}]}]}""")]
    [InlineData("""{"resourceType":"Patient","photo":[{"data":"not base64!"}]}""")]
    [InlineData("""{"resourceType":"Patient","id":"a b","meta":{"profile":["not a uri"]}}""")]
    public async Task Text_validation_gives_the_strict_parse_result_for_what_only_the_parser_validator_sees(string json)
    {
        var fromText = await EngineTestSupport.Validator.ValidateAsync(json, ResourceFormat.Json);
        var fromStrictParse = await EngineTestSupport.Validator.ValidateAsync(Instance.InstanceReader.Read(json, ResourceFormat.Json));
        Assert.Equal(fromStrictParse.Issues, fromText.Issues);
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task Mutated_xml_of_an_example_always_gives_a_located_result(string relativePath)
    {
        // XML: the same resource serialised by the SDK, then a sample of elements mutated (the JSON test covers every path).
        var resource = ReadLeniently(EngineTestSupport.ExampleFile(relativePath));
        var random = new Random(Seed ^ StableHash(relativePath) ^ 1);
        var failures = new List<string>();
        foreach (var (description, xml) in XmlMutations(FhirSerialization.ToXml(resource), random))
            await CheckAsync(description, xml, ResourceFormat.Xml, failures);
        Assert.True(failures.Count == 0, $"{failures.Count} XML mutations of {relativePath} broke the engine:\n{string.Join("\n", failures.Take(20))}");
    }

    [Theory]
    [InlineData("""{"resourceType":"Patient","meta":[]}""")]
    [InlineData("""{"resourceType":"Bundle","type":"collection","entry":[null]}""")]
    [InlineData("""{"resourceType":"Bundle","type":"garbage"}""")]
    [InlineData("""{"resourceType":"Bundle","type":"transaction","entry":[{"resource":[]}]}""")]
    [InlineData("""{"resourceType":"Bundle","type":"collection","entry":{"fullUrl":"urn:uuid:x"}}""")]
    [InlineData("""{"resourceType":"Observation","status":"final","code":[],"subject":"Patient/1"}""")]
    [InlineData("""{"resourceType":"Observation","status":["final"],"code":{"coding":{"code":"x"}},"valueQuantity":{"value":"1"}}""")]
    [InlineData("""{"resourceType":"Patient","extension":[{"url":7,"valueString":{}}],"name":[null,{}]}""")]
    [InlineData("""{"resourceType":"Patient","birthDate":1e-400,"multipleBirthBoolean":"true"}""")]
    [InlineData("""[]""")]
    public async Task Reported_crash_inputs_give_a_located_result(string json)
    {
        var failures = new List<string>();
        await CheckAsync(json, json, ResourceFormat.Json, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>The resource of an example, the parser's partial result for the invalid ones.</summary>
    private static Resource ReadLeniently(string json)
    {
        try
        {
            return FhirSerialization.StrictJson.DeserializeResource(json);
        }
        catch (DeserializationFailedException failure) when (failure.PartialResult is Resource partial)
        {
            return partial;
        }
    }

    private static async Task CheckAsync(string description, string content, ResourceFormat format, List<string> failures)
    {
        ValidationResult result;
        try
        {
            result = await EngineTestSupport.Validator.ValidateAsync(content, format);
        }
        catch (Exception e)
        {
            failures.Add($"{description}: {e.GetType().Name}: {e.Message}\n{e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("FhirCaseService", StringComparison.Ordinal))}");
            return;
        }
        foreach (var issue in result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal))
        {
            if (issue.Location.Line is null || string.IsNullOrEmpty(issue.Location.Expression))
                failures.Add($"{description}: unlocated issue [{issue.Rule}] '{issue.Location.Expression}' @{issue.Location.Line}: {issue.Message}");
        }
    }

    /// <summary>For a sample of element paths one mutation each (kinds in turn), then truncations and deep nesting.</summary>
    private static IEnumerable<(string Description, string Json)> JsonMutations(string original, Random random)
    {
        var root = JsonNode.Parse(original)!;
        var paths = ElementPaths(root, "$").ToList();
        var chosen = paths.Count <= PathsPerFile ? paths : paths.OrderBy(_ => random.Next()).Take(PathsPerFile).ToList();
        var kind = random.Next(JsonMutationKinds.Length);
        foreach (var path in chosen)
        {
            var (name, replace) = JsonMutationKinds[kind++ % JsonMutationKinds.Length];
            var copy = JsonNode.Parse(original)!;
            var node = Navigate(copy, path);
            var replacement = replace(node);
            if (!SetAt(copy, path, replacement))
                continue;
            yield return ($"{path} <- {name}", copy.ToJsonString());
        }
        for (var i = 0; i < TruncationsPerFile; i++)
        {
            var cut = random.Next(1, original.Length);
            yield return ($"truncated at {cut}", original[..cut]);
        }
        var deep = JsonNode.Parse(original)!;
        if (paths.Count > 1 && SetAt(deep, paths[random.Next(1, paths.Count)], DeepNesting(200)))
            yield return ("deep nesting", deep.ToJsonString());
    }

    private static readonly (string Name, Func<JsonNode?, JsonNode?> Replace)[] JsonMutationKinds =
    [
        ("wrong JSON type", WrongType),
        ("null", _ => null),
        ("{}", _ => new JsonObject()),
        ("[]", _ => new JsonArray()),
        ("huge number", _ => JsonNode.Parse("123456789012345678901234567890123456789e300")),
        ("1e-400", _ => JsonNode.Parse("1e-400")),
        ("long string", _ => JsonValue.Create(new string('x', 100_000))),
        ("deep nesting", _ => DeepNesting(40)),
    ];

    /// <summary>An object for an array and the reverse, a string for a number or boolean, a number for a string.</summary>
    private static JsonNode? WrongType(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonArray(obj.DeepClone()),
        JsonArray array => array.Count > 0 ? array[0]?.DeepClone() : new JsonObject(),
        JsonValue value when value.TryGetValue<string>(out var text) => text.Length % 2 == 0 ? JsonValue.Create(42) : JsonValue.Create(true),
        null => JsonValue.Create("null"),
        _ => JsonValue.Create(node.ToJsonString()),
    };

    private static JsonNode DeepNesting(int depth)
    {
        JsonNode node = new JsonObject { ["value"] = "deep" };
        for (var i = 0; i < depth; i++)
            node = i % 2 == 0 ? new JsonArray(node) : new JsonObject { ["nested"] = node };
        return node;
    }

    /// <summary>Every property and array item below the root ("$.entry[3].resource.code"), in document order.</summary>
    private static IEnumerable<string> ElementPaths(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    var childPath = $"{path}.{name}";
                    yield return childPath;
                    foreach (var below in ElementPaths(child, childPath))
                        yield return below;
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var childPath = $"{path}[{i}]";
                    yield return childPath;
                    foreach (var below in ElementPaths(array[i], childPath))
                        yield return below;
                }
                break;
        }
    }

    private static IEnumerable<object> Steps(string path)
    {
        var position = 1;
        while (position < path.Length)
        {
            if (path[position] == '.')
            {
                var end = path.IndexOfAny(['.', '['], position + 1);
                end = end < 0 ? path.Length : end;
                yield return path[(position + 1)..end];
                position = end;
            }
            else
            {
                var end = path.IndexOf(']', position);
                yield return int.Parse(path[(position + 1)..end], CultureInfo.InvariantCulture);
                position = end + 1;
            }
        }
    }

    private static JsonNode? Navigate(JsonNode root, string path)
    {
        JsonNode? node = root;
        foreach (var step in Steps(path))
            node = step is string name ? node?[name] : node?[(int)step];
        return node;
    }

    private static bool SetAt(JsonNode root, string path, JsonNode? replacement)
    {
        var steps = Steps(path).ToList();
        JsonNode? parent = root;
        foreach (var step in steps[..^1])
            parent = step is string name ? parent?[name] : parent?[(int)step];
        switch (parent, steps[^1])
        {
            case (JsonObject obj, string name):
                obj[name] = replacement;
                return true;
            case (JsonArray array, int index):
                array[index] = replacement;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A sample of elements: value attributes made wrong, elements emptied, duplicated, renamed; plus truncation.</summary>
    private static IEnumerable<(string Description, string Xml)> XmlMutations(string original, Random random)
    {
        var elements = XDocument.Parse(original).Descendants().Count();
        for (var i = 0; i < PathsPerFile / 4; i++)
        {
            var document = XDocument.Parse(original);
            var all = document.Descendants().ToList();
            var target = all[random.Next(1, Math.Max(2, all.Count))];
            var kind = i % 5;
            var description = $"element #{all.IndexOf(target)} <{target.Name.LocalName}> ";
            switch (kind)
            {
                case 0:
                    target.SetAttributeValue("value", "1e-400");
                    description += "value 1e-400";
                    break;
                case 1:
                    target.RemoveAttributes();
                    target.RemoveNodes();
                    description += "emptied";
                    break;
                case 2:
                    target.AddAfterSelf(new XElement(target));
                    description += "duplicated";
                    break;
                case 3:
                    target.Add(new XElement(target.Name.Namespace + "unexpected", new XAttribute("value", new string('x', 10_000))));
                    description += "unknown child";
                    break;
                default:
                    target.SetAttributeValue("value", "");
                    target.Add(new XElement(target.Name.Namespace + "extension", new XAttribute("url", "")));
                    description += "empty value and extension";
                    break;
            }
            yield return (description, document.ToString());
        }
        yield return ($"truncated ({elements} elements)", original[..random.Next(1, original.Length)]);
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
            hash = unchecked(hash * 31 + c);
        return hash;
    }

    private static string RepositoryRoot() => FhirCaseService.TestSupport.RepositoryRoot.Path;
}
