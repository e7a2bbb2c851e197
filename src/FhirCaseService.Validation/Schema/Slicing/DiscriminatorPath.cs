using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.FhirPath;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Slicing;

/// <summary>
/// The nodes a discriminator path selects from one repetition, decided at compile time: "$this" is the item itself; a
/// path of plain element names ("code.coding.system") is followed child by child; anything else (extension('url'),
/// ofType(), resolve()) is a FHIRPath expression compiled once.
/// </summary>
public sealed class DiscriminatorPath
{
    private readonly string[]? _names;
    private readonly CompiledFhirPath? _expression;

    public DiscriminatorPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = path;
        if (path is "$this" or "")
            _names = [];
        else if (SplitNames(path) is { } names)
            _names = names;
        else
            _expression = FhirPathCache.Get(path);
    }

    public string Path { get; }

    /// <summary>True when the path is followed child by child, without evaluating FHIRPath.</summary>
    public bool IsDirect => _names is not null;

    public List<PocoNode> Select(PocoNode item, PocoNode resource, ValidationRun run)
    {
        if (_names is { } names)
            return Follow(item, names);
        if (_expression?.Compiled is not { } compiled)
            return [];
        try
        {
            var context = new FhirEvaluationContext { Resource = resource, RootResource = ElementVisit.RootOf(resource), ElementResolver = run.ResolveReference };
            return compiled([item], context).ToList();
        }
        // A discriminator path that fails to evaluate simply selects nothing: the item then belongs to no slice.
        catch (Exception)
        {
            return [];
        }
    }

    private static List<PocoNode> Follow(PocoNode item, string[] names)
    {
        var current = new List<PocoNode> { item };
        foreach (var name in names)
        {
            var next = new List<PocoNode>();
            foreach (var node in current)
            {
                if (node.Child(name) is not { } children)
                    continue;
                foreach (var child in children)
                {
                    if (child.Poco is not null)
                        next.Add(child);
                }
            }
            if (next.Count == 0)
                return next;
            current = next;
        }
        return current;
    }

    /// <summary>The element names of a path made of names only ($this steps dropped), or null when it needs FHIRPath.</summary>
    private static string[]? SplitNames(string path)
    {
        var names = new List<string>();
        foreach (var segment in path.Split('.'))
        {
            if (segment == "$this")
                continue;
            // Lower-case first letter: an upper-case first step would be a type filter in FHIRPath (Observation.code).
            if (segment.Length == 0 || !char.IsAsciiLetterLower(segment[0]) || !segment.All(char.IsAsciiLetterOrDigit))
                return null;
            names.Add(segment);
        }
        return [.. names];
    }
}
