namespace FhirCaseService.Conformance.Terminology;

/// <summary>
/// One code in a ValueSet expansion. <paramref name="IsAbstract"/> marks concepts their CodeSystem
/// declares notSelectable: grouping codes that belong to the ValueSet but are not meant for data.
/// </summary>
public sealed record ExpandedConcept(string System, string Code, string? Display, bool IsAbstract = false);
