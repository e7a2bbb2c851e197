namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Where the walker stands in an instance, kept in two spellings at once: the FHIRPath expression reported to
/// users (indexes only on repeating elements, choice types as ofType) and the key of the source map
/// (serialized names, every step indexed) so a line and column can be found without a second walk.
/// </summary>
public readonly record struct InstancePath(string Expression, string SourceKey)
{
    public static InstancePath ForResource(string resourceType) => new(resourceType, resourceType);

    /// <summary>A child element; <paramref name="choiceType"/> is the instance type when the element is a choice (value[x]).</summary>
    public InstancePath Child(string name, int index, bool repeating, string? choiceType = null)
    {
        var expression = repeating ? $"{Expression}.{name}[{index}]" : $"{Expression}.{name}";
        if (choiceType is not null)
            expression = $"{expression}.ofType({choiceType})";
        var serializedName = choiceType is null ? name : name + char.ToUpperInvariant(choiceType[0]) + choiceType[1..];
        return new InstancePath(expression, $"{SourceKey}.{serializedName}[{index}]");
    }
}
