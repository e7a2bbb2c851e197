using System.Text.Json.Nodes;

namespace FhirCaseService.Tools.CoreDefinitionsPacker;

/// <summary>
/// Removes the parts of core artifacts that validation, snapshot generation and terminology never
/// read: human documentation, mappings to other standards, XPath, narrative. What remains is what
/// a validator or snapshot generator acts on.
/// </summary>
internal static class ResourceTrimmer
{
    private static readonly string[] ResourceDocumentation = ["text", "description", "purpose", "contact", "mapping"];

    private static readonly string[] ElementDocumentation =
        ["definition", "comment", "requirements", "alias", "example", "mapping"];

    // Work-group and maturity bookkeeping of the specification itself.
    private static readonly HashSet<string> BookkeepingExtensions = new(StringComparer.Ordinal)
    {
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-wg",
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-fmm",
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version",
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-summary",
    };

    public static JsonObject Trim(JsonObject resource)
    {
        var resourceType = (string?)resource["resourceType"];
        // A SearchParameter's description is required (1..1) and is what a CapabilityStatement shows.
        foreach (var name in ResourceDocumentation)
        {
            if (!(resourceType == "SearchParameter" && name == "description"))
            {
                resource.Remove(name);
            }
        }
        RemoveBookkeepingExtensions(resource);

        switch (resourceType)
        {
            case "StructureDefinition":
                TrimElements(resource["snapshot"]?["element"] as JsonArray);
                TrimElements(resource["differential"]?["element"] as JsonArray);
                break;
            case "CodeSystem":
                TrimConcepts(resource["concept"] as JsonArray);
                break;
            case "ValueSet":
                TrimValueSet(resource);
                break;
            case "SearchParameter":
                resource.Remove("xpath");
                resource.Remove("xpathUsage");
                break;
        }
        return resource;
    }

    private static void TrimElements(JsonArray? elements)
    {
        foreach (var element in elements?.OfType<JsonObject>() ?? [])
        {
            foreach (var name in ElementDocumentation)
            {
                element.Remove(name);
            }
            RemoveBookkeepingExtensions(element);
            foreach (var constraint in (element["constraint"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                constraint.Remove("xpath");
            }
            (element["binding"] as JsonObject)?.Remove("description");
        }
    }

    private static void TrimConcepts(JsonArray? concepts)
    {
        foreach (var concept in concepts?.OfType<JsonObject>() ?? [])
        {
            concept.Remove("definition");
            concept.Remove("designation");
            TrimConcepts(concept["concept"] as JsonArray);
        }
    }

    private static void TrimValueSet(JsonObject valueSet)
    {
        if (valueSet["compose"] is JsonObject compose)
        {
            // The expansion is derivable from compose; keeping both would double the size.
            valueSet.Remove("expansion");
            foreach (var part in new[] { "include", "exclude" })
            {
                foreach (var include in (compose[part] as JsonArray)?.OfType<JsonObject>() ?? [])
                {
                    foreach (var concept in (include["concept"] as JsonArray)?.OfType<JsonObject>() ?? [])
                    {
                        concept.Remove("designation");
                    }
                }
            }
        }
    }

    private static void RemoveBookkeepingExtensions(JsonObject node)
    {
        if (node["extension"] is not JsonArray extensions)
        {
            return;
        }
        for (var i = extensions.Count - 1; i >= 0; i--)
        {
            if (BookkeepingExtensions.Contains((string?)extensions[i]?["url"] ?? ""))
            {
                extensions.RemoveAt(i);
            }
        }
        if (extensions.Count == 0)
        {
            node.Remove("extension");
        }
    }
}
