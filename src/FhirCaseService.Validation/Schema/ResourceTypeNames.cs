using System.Collections.Frozen;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema;

/// <summary>
/// R4 resource type names as written, compared exactly. The SDK's <see cref="ModelInfo.IsKnownResource(string)"/> ignores
/// case, so "coverageeligibilityrequest/1" would name a type; the reference validator reads a reference's or a URL's type
/// segment only when it is spelled as the type is (it looks the type's definition up by canonical URL).
/// </summary>
public static class ResourceTypeNames
{
    private static readonly FrozenSet<string> Names = ModelInfo.SupportedResources.ToFrozenSet(StringComparer.Ordinal);

    public static bool IsResourceType(string name) => Names.Contains(name);

    /// <summary>A resource type, or Resource / DomainResource: what a core target profile of a Reference may name.</summary>
    public static bool IsResourceOrBase(string name) => name is "Resource" or "DomainResource" || Names.Contains(name);
}
