using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FhirCaseService.Tools.CoreDefinitionsPacker;

internal sealed record PackSummary(int EntryCount, long ArchiveBytes, IReadOnlyList<(string Type, int Count)> CountsByType);

/// <summary>
/// Writes one zip with one minified entry per resource plus index.json. Entries are sorted and
/// carry a fixed timestamp so the same input always gives the same bytes.
/// </summary>
internal static class CoreArchiveWriter
{
    public const string IndexEntryName = "index.json";

    // The earliest timestamp a zip entry can carry (DOS epoch); any fixed value would do.
    private static readonly DateTimeOffset FixedTimestamp = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Minified = new()
    {
        WriteIndented = false,
        // Keep non-ASCII text as UTF-8 instead of \u escapes: smaller and byte-stable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static PackSummary Write(IReadOnlyList<JsonObject> resources, IReadOnlyDictionary<string, string> provenance, string outputPath)
    {
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var structureDefinitions = new List<JsonObject>();
        var canonicals = new List<JsonArray>();
        var searchParametersByBase = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);

        foreach (var resource in resources)
        {
            var resourceType = (string)resource["resourceType"]!;
            var id = (string?)resource["id"] ?? throw new InvalidDataException($"a {resourceType} has no id");
            var entryName = $"{resourceType}/{id}.json";
            if (!entries.TryAdd(entryName, JsonSerializer.SerializeToUtf8Bytes(resource, Minified)))
            {
                throw new InvalidDataException($"two resources map to the same entry {entryName}");
            }

            if (resourceType == "StructureDefinition")
            {
                structureDefinitions.Add(DescribeStructureDefinition(resource, entryName));
            }
            // [entry, url, version]: the reader indexes url|version and, per url, the latest version.
            if ((string?)resource["url"] is { } url)
            {
                canonicals.Add(new JsonArray(entryName, url, (string?)resource["version"]));
            }

            if (resourceType == "SearchParameter")
            {
                foreach (var baseType in (resource["base"] as JsonArray ?? []).Select(b => (string?)b).OfType<string>())
                {
                    if (!searchParametersByBase.TryGetValue(baseType, out var list))
                    {
                        searchParametersByBase[baseType] = list = new SortedSet<string>(StringComparer.Ordinal);
                    }
                    list.Add(entryName);
                }
            }
        }

        var index = new JsonObject
        {
            ["provenance"] = new JsonObject(provenance.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))),
            ["structureDefinitions"] = new JsonArray(structureDefinitions
                .OrderBy(d => (string)d["entry"]!, StringComparer.Ordinal)
                .Cast<JsonNode?>()
                .ToArray()),
            ["canonicals"] = new JsonArray(canonicals.OrderBy(c => (string)c[0]!, StringComparer.Ordinal).Cast<JsonNode?>().ToArray()),
            ["searchParametersByBase"] = new JsonObject(searchParametersByBase.Select(s =>
                KeyValuePair.Create(s.Key, (JsonNode?)new JsonArray(s.Value.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray())))),
        };
        entries[IndexEntryName] = JsonSerializer.SerializeToUtf8Bytes(index, Minified);

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        using (var file = new FileStream(outputPath, FileMode.Create, FileAccess.Write))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            foreach (var (name, bytes) in entries)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.SmallestSize);
                entry.LastWriteTime = FixedTimestamp;
                using var stream = entry.Open();
                stream.Write(bytes);
            }
        }

        var counts = resources.GroupBy(r => (string)r["resourceType"]!)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count()))
            .ToList();
        return new PackSummary(resources.Count, new FileInfo(outputPath).Length, counts);
    }

    // Enough to tell a type definition from a constraint profile without parsing the entry.
    private static JsonObject DescribeStructureDefinition(JsonObject resource, string entryName) => new()
    {
        ["entry"] = entryName,
        ["url"] = (string?)resource["url"],
        ["type"] = (string?)resource["type"],
        ["kind"] = (string?)resource["kind"],
        ["derivation"] = (string?)resource["derivation"],
        ["abstract"] = (bool?)resource["abstract"],
    };
}
