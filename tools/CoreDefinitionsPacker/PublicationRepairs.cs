using System.Text.Json.Nodes;

namespace FhirCaseService.Tools.CoreDefinitionsPacker;

/// <summary>
/// Three defects of the published R4 4.0.1 definitions that no strict FHIR parser or canonical resolver accepts, each
/// repaired the one way the data allows and reported by the packer (docs/core-definitions.md lists them). Nothing
/// else is changed: the definitions are otherwise as HL7 published them.
/// </summary>
internal sealed class PublicationRepairs
{
    public List<string> Changes { get; } = [];

    public JsonObject Repair(JsonObject resource)
    {
        var label = $"{resource["resourceType"]}/{resource["id"]}";
        SplitVersionFromUrl(resource, label);
        if ((string?)resource["resourceType"] == "CodeSystem")
        {
            RemovePlaceholderPropertyUris(resource, label);
            RemoveConceptsWithoutCode(resource["concept"] as JsonArray, label);
        }
        return resource;
    }

    // The v2-0360 CodeSystems are published with "url|version" in url and the table number as version
    // (url ".../v2-0360|2.7", version "0360"): the canonical is the part before "|", the version the part after.
    private void SplitVersionFromUrl(JsonObject resource, string label)
    {
        var url = (string?)resource["url"];
        var bar = url?.IndexOf('|') ?? -1;
        if (url is null || bar < 0)
        {
            return;
        }
        resource["url"] = url[..bar];
        resource["version"] = url[(bar + 1)..];
        Changes.Add($"{label}: url {url} split into url {url[..bar]} and version {url[(bar + 1)..]}");
    }

    // The SNOMED CT CodeSystem ships "http://.........?" as some property URIs, which no FHIR parser accepts as a
    // uri; the property code alone is what filters use.
    private void RemovePlaceholderPropertyUris(JsonObject codeSystem, string label)
    {
        foreach (var property in (codeSystem["property"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            if ((string?)property["uri"] is { } uri
                && (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Host.Trim('.').Length == 0))
            {
                property.Remove("uri");
                Changes.Add($"{label}: property {property["code"]} lost its placeholder uri {uri}");
            }
        }
    }

    // v2-0550 has a concept whose code is blank: not a FHIR code, and no instance can use it.
    private void RemoveConceptsWithoutCode(JsonArray? concepts, string label)
    {
        if (concepts is null)
        {
            return;
        }
        for (var i = concepts.Count - 1; i >= 0; i--)
        {
            if (concepts[i] is JsonObject concept && string.IsNullOrWhiteSpace((string?)concept["code"]))
            {
                concepts.RemoveAt(i);
                Changes.Add($"{label}: removed a concept with a blank code (display '{concept["display"]}')");
                continue;
            }
            RemoveConceptsWithoutCode(concepts[i]?["concept"] as JsonArray, label);
        }
    }
}
