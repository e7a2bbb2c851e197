using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Reads elements of a POCO the way the parser left them. A partial result of a failed parse may hold a value of the
/// wrong shape (a list where one Meta belongs, a number inside a FhirUri, a null list item); the SDK's typed getters
/// throw on those, so the engine reads through <see cref="Base.TryGetValue"/> and the primitive's raw value instead,
/// and a wrong-shaped part simply reads as absent (the parser has reported it, with its position). Public: the API reads
/// a received Bundle before the verdict the same way.
/// </summary>
public static class RawElements
{
    /// <summary>The element as one <typeparamref name="T"/>, or null when absent or of another shape.</summary>
    public static T? One<T>(Base? poco, string name) where T : Base =>
        poco is not null && poco.TryGetValue(name, out var value) && value is T typed ? typed : null;

    /// <summary>The items of a repeating element that are <typeparamref name="T"/> (null items and wrong shapes skipped).</summary>
    public static IEnumerable<T> Many<T>(Base? poco, string name) where T : Base
    {
        if (poco is null || !poco.TryGetValue(name, out var value))
            return [];
        return value switch
        {
            T single => [single],
            IEnumerable<Base?> items => items.OfType<T>(),
            _ => [],
        };
    }

    /// <summary>The number of non-null items of an element (0 when absent).</summary>
    public static int Count(Base? poco, string name)
    {
        if (poco is null || !poco.TryGetValue(name, out var value))
            return 0;
        return value switch
        {
            IEnumerable<Base?> items => items.Count(i => i is not null),
            Base => 1,
            _ => 0,
        };
    }

    /// <summary>A primitive element's value when it is text (a number where text belongs reads as absent).</summary>
    public static string? Text(Base? poco, string name) => One<PrimitiveType>(poco, name)?.JsonValue as string;

    /// <summary>A primitive element's value when it is a number.</summary>
    public static decimal? Number(Base? poco, string name) => One<PrimitiveType>(poco, name)?.JsonValue switch
    {
        decimal d => d,
        int i => i,
        long l => l,
        _ => null,
    };

    /// <summary>
    /// Whether a repeating element is absent, or a list of <typeparamref name="T"/> with no null item: what a well-formed
    /// array leaves (not one object in the list's place, not a null in it).
    /// </summary>
    public static bool IsAbsentOrWellFormedList<T>(Base? poco, string name) where T : Base =>
        poco is null || !poco.TryGetValue(name, out var value) || value is null || value is IEnumerable<T?> items && items.All(i => i is not null);

    /// <summary>
    /// Whether the POCO has a child element other than <paramref name="except"/> (any child when null), as its node's
    /// <see cref="PocoNode.Children"/> lists them (a DynamicDataType's resourceType is not one), without making the
    /// child nodes: asked of every element of every resource.
    /// </summary>
    public static bool HasChildOtherThan(Base poco, string? except)
    {
        // A primitive's only elements are its id and extensions (its value is no element), besides the overflow of a
        // partial parse: read without the SDK's enumerator, which makes a dictionary and two iterators per call.
        if (poco is PrimitiveType && !poco.HasOverflow)
            return except != "id" && Has(poco, "id") || except != "extension" && Has(poco, "extension");
        foreach (var element in poco.EnumerateElements())
        {
            if (poco is DynamicDataType && element is { Key: "resourceType", Value: PrimitiveType })
                continue;
            if (element.Key != except)
                return true;
        }
        return false;
    }

    /// <summary>Whether the element is present in any shape.</summary>
    public static bool Has(Base? poco, string name) => poco is not null && poco.TryGetValue(name, out var value) && value is not null;
}
