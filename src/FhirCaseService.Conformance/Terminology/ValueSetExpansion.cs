namespace FhirCaseService.Conformance.Terminology;

/// <summary>
/// The codes a ValueSet enumerates locally. When part of the ValueSet could not be enumerated
/// (a whole external system such as SNOMED CT, a filter on a system we do not hold), the expansion
/// is incomplete and <see cref="OpenParts"/> says which part and why.
/// </summary>
public sealed class ValueSetExpansion
{
    private readonly Dictionary<(string System, string Code), ExpandedConcept> _bySystemAndCode;
    private readonly ILookup<string, ExpandedConcept> _byCode;

    internal ValueSetExpansion(
        string canonical,
        IReadOnlyList<ExpandedConcept> concepts,
        IReadOnlyList<OpenPart> openIncludes,
        IReadOnlyList<OpenPart> openExcludes)
    {
        Canonical = canonical;
        Concepts = concepts;
        OpenIncludes = openIncludes;
        OpenExcludes = openExcludes;
        _bySystemAndCode = concepts.DistinctBy(c => (c.System, c.Code)).ToDictionary(c => (c.System, c.Code));
        _byCode = concepts.ToLookup(c => c.Code, StringComparer.Ordinal);
    }

    public string Canonical { get; }

    /// <summary>The codes enumerated locally, in ValueSet order, without excluded ones.</summary>
    public IReadOnlyList<ExpandedConcept> Concepts { get; }

    /// <summary>Included parts that could not be enumerated (the ValueSet holds more codes than listed).</summary>
    public IReadOnlyList<OpenPart> OpenIncludes { get; }

    /// <summary>Excluded parts that could not be enumerated (some listed codes might in truth be excluded).</summary>
    public IReadOnlyList<OpenPart> OpenExcludes { get; }

    public bool IsComplete => OpenIncludes.Count == 0 && OpenExcludes.Count == 0;

    /// <summary>Every reason the expansion is incomplete.</summary>
    public IEnumerable<OpenPart> OpenParts => OpenIncludes.Concat(OpenExcludes);

    /// <summary>The concept with this system and code; with a null system, the first concept with the code.</summary>
    public ExpandedConcept? Find(string? system, string code) =>
        system is null
            ? _byCode[code].FirstOrDefault()
            : _bySystemAndCode.GetValueOrDefault((system, code));
}

/// <summary>
/// A part of a ValueSet that was not enumerated. <paramref name="System"/> is the code system it
/// concerns, or null when unknown (e.g. an imported ValueSet that could not be resolved).
/// </summary>
public sealed record OpenPart(string? System, string Reason);
