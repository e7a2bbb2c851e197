namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Where the walker stands in an instance, kept in two spellings at once: the FHIRPath expression reported to
/// users (indexes only on repeating elements, choice types as ofType) and the key of the source map
/// (serialized names, every step indexed) so a line and column can be found without a second walk.
/// <see cref="Entry"/> is the index of the Bundle entry the path lies in (null outside the entries of the validated
/// Bundle), carried along so an issue knows its entry without reading it back out of the expression.
/// </summary>
public readonly record struct InstancePath(string Expression, string SourceKey)
{
    /// <summary>The entry of the validated Bundle this path lies in; nested Bundles keep their outer entry.</summary>
    public int? Entry { get; private init; }

    /// <summary>
    /// The path of the ElementDefinition the node was reached through ("HumanName.family", "Bundle.entry.resource"), when
    /// the walker set it: a datatype's own schema only knows its type, but rules about where an extension may sit need both.
    /// </summary>
    public string? ElementPath { get; init; }

    /// <summary>True on the root of a validated Bundle only: its entry children start the entry numbering.</summary>
    private bool NumbersEntries { get; init; }

    public static InstancePath ForResource(string resourceType) =>
        new(resourceType, resourceType) { NumbersEntries = resourceType == "Bundle" };

    /// <summary>A child element; <paramref name="choiceType"/> is the instance type when the element is a choice (value[x]).</summary>
    public InstancePath Child(string name, int index, bool repeating, string? choiceType = null)
    {
        var expression = repeating ? $"{Expression}.{name}[{index}]" : $"{Expression}.{name}";
        if (choiceType is not null)
            expression = $"{expression}.ofType({choiceType})";
        var serializedName = choiceType is null ? name : name + char.ToUpperInvariant(choiceType[0]) + choiceType[1..];
        // Only an indexed step into Bundle.entry names one entry; Bundle.entry unindexed (its cardinality) is about the Bundle.
        var entry = Entry ?? (NumbersEntries && repeating && name == "entry" ? index : null);
        return new InstancePath(expression, $"{SourceKey}.{serializedName}[{index}]") { Entry = entry };
    }
}
