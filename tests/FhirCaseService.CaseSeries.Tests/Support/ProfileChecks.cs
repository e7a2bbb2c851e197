using System.Text.Json.Nodes;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Tests.Support;

/// <summary>
/// Checks a generated resource against the differential of its profile in profiles/ (until the validator
/// engine is used here): required elements and extension slices present, pattern codes present, the
/// profile's FHIRPath invariants true, and codes under required bindings members of the bound ValueSet.
/// Returns readable problems; an empty list means the resource passes these checks.
/// </summary>
internal sealed class ProfileChecks
{
    private readonly string _profilesDirectory;
    private readonly Dictionary<string, JsonObject> _byUrl = new(StringComparer.Ordinal);

    public ProfileChecks(string profilesDirectory)
    {
        _profilesDirectory = profilesDirectory;
        foreach (var file in Directory.EnumerateFiles(profilesDirectory, "*.json"))
        {
            var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            if (json["url"]?.GetValue<string>() is { } url)
                _byUrl[url] = json;
        }
    }

    public bool Knows(string canonical) => _byUrl.ContainsKey(canonical);

    public IReadOnlyList<string> Check(Resource resource)
    {
        var problems = new List<string>();
        foreach (var profile in resource.Meta?.Profile ?? [])
        {
            if (!_byUrl.TryGetValue(profile, out var definition))
            {
                problems.Add($"{resource.TypeName}/{resource.Id}: profile {profile} not found in {_profilesDirectory}");
                continue;
            }
            CheckDefinition(resource, resource, definition, problems);
        }
        foreach (var extension in resource.Select("descendants()").OfType<Extension>().Where(e => _byUrl.ContainsKey(e.Url)))
            CheckDefinition(resource, extension, _byUrl[extension.Url], problems);
        return problems;
    }

    private void CheckDefinition(Resource resource, Base focus, JsonObject definition, List<string> problems)
    {
        var where = $"{resource.TypeName}/{resource.Id} ({definition["id"]})";
        foreach (var element in definition["differential"]!["element"]!.AsArray().Select(e => e!.AsObject()))
        {
            var id = element["id"]!.GetValue<string>();
            var path = element["path"]!.GetValue<string>();
            var relative = string.Join('.', path.Split('.').Skip(1)).Replace("[x]", "", StringComparison.Ordinal);
            var sliceName = element["sliceName"]?.GetValue<string>();
            var min = element["min"]?.GetValue<int>() ?? 0;

            foreach (var constraint in element["constraint"]?.AsArray().Select(c => c!.AsObject()) ?? [])
            {
                var expression = constraint["expression"]!.GetValue<string>();
                var targets = relative.Length == 0 ? [focus] : focus.Select(relative).ToList();
                foreach (var target in targets.Where(t => !t.Predicate(expression)))
                    problems.Add($"{where}: invariant {constraint["key"]} fails: {constraint["human"]}");
            }

            // Only top-level elements of the root; nested paths are covered by the elements' own checks.
            if (id.Count(c => c == '.') != 1 || relative.Contains('.'))
                continue;
            var url = element["type"]?[0]?["profile"]?[0]?.GetValue<string>();
            var values = sliceName is not null && path.EndsWith(".extension", StringComparison.Ordinal) && url is not null
                ? focus.Select($"extension.where(url = '{url}')").ToList()
                : focus.Select(relative).ToList();

            if (element["patternCodeableConcept"] is JsonObject pattern)
            {
                var matching = values.OfType<CodeableConcept>().Where(c => Contains(c, pattern)).ToList();
                if (sliceName is not null ? matching.Count < Math.Max(min, 1) && min > 0 : matching.Count != values.Count || (min > 0 && values.Count == 0))
                    problems.Add($"{where}: {id} must carry {pattern.ToJsonString()}");
                continue;
            }
            if (values.Count < min)
                problems.Add($"{where}: {id} is required ({min}..)");
            if (element["max"]?.GetValue<string>() is "0" && values.Count > 0)
                problems.Add($"{where}: {id} is not allowed");
            if (element["binding"] is JsonObject binding && binding["strength"]!.GetValue<string>() == "required")
                CheckBinding(where, id, values, binding["valueSet"]!.GetValue<string>(), problems);
        }
    }

    private void CheckBinding(string where, string id, IEnumerable<Base> values, string valueSet, List<string> problems)
    {
        if (!_byUrl.TryGetValue(valueSet.Split('|')[0], out var definition))
            return; // Core value sets are not in profiles/; the validator checks those.
        foreach (var value in values)
        {
            var codings = value switch
            {
                CodeableConcept concept => concept.Coding,
                Coding coding => [coding],
                Code code when code.Value is not null => [new Coding(null, code.Value)],
                _ => [],
            };
            foreach (var coding in codings.Where(c => !InValueSet(definition, c)))
                problems.Add($"{where}: {id} code {coding.System}#{coding.Code} is not in {valueSet}");
        }
    }

    private bool InValueSet(JsonObject valueSet, Coding coding)
    {
        foreach (var include in valueSet["compose"]!["include"]!.AsArray().Select(i => i!.AsObject()))
        {
            var system = include["system"]!.GetValue<string>();
            if (coding.System is not null && system != coding.System)
                continue;
            if (include["concept"] is JsonArray concepts)
            {
                if (concepts.Any(c => c!["code"]!.GetValue<string>() == coding.Code))
                    return true;
            }
            else if (_byUrl.TryGetValue(system, out var codeSystem)
                && codeSystem["concept"]!.AsArray().Any(c => c!["code"]!.GetValue<string>() == coding.Code))
                return true;
        }
        return false;
    }

    private static bool Contains(CodeableConcept concept, JsonObject pattern) =>
        pattern["coding"]!.AsArray().All(p => concept.Coding.Any(c =>
            c.System == p!["system"]?.GetValue<string>() && c.Code == p["code"]?.GetValue<string>()));
}
