namespace FhirCaseService.Api.Rest;

/// <summary>The resource types the service stores and serves over REST: the converter's output and what EHRs send.</summary>
public static class StoredResourceTypes
{
    public static readonly IReadOnlyList<string> All =
        ["Patient", "Condition", "MedicationAdministration", "Procedure", "Observation", "Provenance", "Group"];

    public static bool IsStored(string type) => All.Contains(type, StringComparer.Ordinal);
}
