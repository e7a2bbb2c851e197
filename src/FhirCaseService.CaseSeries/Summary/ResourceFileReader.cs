using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using System.Text.Json;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// Loads FHIR JSON into a <see cref="ResourceSet"/>: a file holding one resource (a Bundle's entries are
/// taken with their fullUrls) or NDJSON (one resource per line, as Bulk Data export writes it).
/// Parsing is strict, so a summary is never computed from half-understood data; problems are returned, not thrown.
/// </summary>
public static class ResourceFileReader
{
    /// <summary>Adds the resources of <paramref name="content"/> to <paramref name="set"/>; returns the problems found (empty when all was read).</summary>
    public static IReadOnlyList<string> AddTo(ResourceSet set, string content, bool isNdjson)
    {
        var problems = new List<string>();
        if (!isNdjson)
        {
            AddOne(set, content, location: "", problems);
            return problems;
        }
        var lines = content.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!string.IsNullOrWhiteSpace(lines[i]))
                AddOne(set, lines[i], location: $"line {i + 1}: ", problems);
        }
        return problems;
    }

    /// <summary>NDJSON by file name (.ndjson, .jsonl), else one JSON resource.</summary>
    public static bool IsNdjsonPath(string path) =>
        path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    private static void AddOne(ResourceSet set, string json, string location, List<string> problems)
    {
        Resource? resource;
        IEnumerable<Hl7.Fhir.Utility.CodedException>? issues;
        try
        {
            FhirSerialization.StrictJson.TryDeserializeResource(json, out resource, out issues);
        }
        catch (JsonException e)
        {
            // The SDK reports FHIR problems as issues but lets malformed JSON through as an exception.
            problems.Add($"{location}not valid JSON: {e.Message}");
            return;
        }
        if (resource is null || issues?.Any() == true)
        {
            var first = issues?.FirstOrDefault()?.Message ?? "not a FHIR resource";
            var more = (issues?.Count() ?? 0) > 1 ? $" (and {issues!.Count() - 1} more)" : "";
            problems.Add($"{location}{first}{more}");
            return;
        }
        if (resource is Bundle bundle)
            set.AddBundle(bundle);
        else
            set.Add(resource);
    }
}
