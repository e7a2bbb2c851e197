using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Search;

public enum SummaryMode { None, True, Text, Data, Count }

/// <summary>
/// The part of each resource a search answers with (<c>_summary</c>, <c>_elements</c>). A subset is made on a copy, keeps
/// the elements the base definitions call mandatory, and is tagged SUBSETTED as the FHIR search page asks, so that a
/// client never mistakes it for the whole resource.
/// </summary>
public sealed class ResultSubset
{
    private static readonly Coding SubsettedTag = new("http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "SUBSETTED");
    private static readonly string[] AlwaysKept = ["id", "meta"];

    private readonly HashSet<string>? _elements;

    private ResultSubset(SummaryMode summary, HashSet<string>? elements)
    {
        Summary = summary;
        _elements = elements;
    }

    public static ResultSubset Whole { get; } = new(SummaryMode.None, null);

    public SummaryMode Summary { get; }

    public bool IsWhole => Summary is SummaryMode.None or SummaryMode.Count && _elements is null;

    /// <summary>Reads <c>_summary</c> and <c>_elements</c>; a value the spec does not define is an error, not a silent default.</summary>
    public static bool TryParse(string? summary, string? elements, out ResultSubset subset, out string? error)
    {
        subset = Whole;
        error = null;
        SummaryMode mode;
        switch (summary)
        {
            case null or "false": mode = SummaryMode.None; break;
            case "true": mode = SummaryMode.True; break;
            case "text": mode = SummaryMode.Text; break;
            case "data": mode = SummaryMode.Data; break;
            case "count": mode = SummaryMode.Count; break;
            default:
                error = $"_summary must be true, false, text, data or count, not '{summary}'.";
                return false;
        }
        if (string.IsNullOrWhiteSpace(elements))
        {
            subset = mode == SummaryMode.None ? Whole : new ResultSubset(mode, null);
            return true;
        }
        if (mode != SummaryMode.None)
        {
            error = "_summary and _elements cannot be combined: ask for one of them.";
            return false;
        }
        var names = elements.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bad = names.FirstOrDefault(n => n.Contains('.') || n.Contains(':'));
        if (bad is not null)
        {
            error = $"_elements names top-level elements of the resource (e.g. code,subject), not '{bad}'.";
            return false;
        }
        subset = new ResultSubset(SummaryMode.None, new HashSet<string>(names, StringComparer.Ordinal));
        return true;
    }

    /// <summary>The resource as this subset shows it: the same instance when whole, else a tagged, pruned copy.</summary>
    public Resource Apply(Resource resource)
    {
        if (IsWhole)
            return resource;
        var copy = (Resource)resource.DeepCopy();
        var mapping = ModelInfo.ModelInspector.FindOrImportClassMapping(copy.GetType())
            ?? throw new InvalidOperationException($"The FHIR model has no mapping for {copy.GetType().Name}.");
        if (Summary == SummaryMode.True)
            KeepSummary(copy, mapping);
        else
            KeepTopLevel(copy, mapping);
        copy.Meta ??= new Meta();
        if (!copy.Meta.Tag.Any(t => t.System == SubsettedTag.System && t.Code == SubsettedTag.Code))
            copy.Meta.Tag.Add((Coding)SubsettedTag.DeepCopy());
        return copy;
    }

    private void KeepTopLevel(Base instance, ClassMapping mapping)
    {
        foreach (var (name, _) in instance.EnumerateElements().ToList())
        {
            var property = mapping.FindMappedElementByName(name);
            var keep = AlwaysKept.Contains(name) || property?.IsMandatoryElement == true || Summary switch
            {
                SummaryMode.Text => name == "text",
                SummaryMode.Data => name != "text",
                _ => _elements!.Contains(name),
            };
            if (!keep)
                instance.SetValue(name, null);
        }
    }

    /// <summary>_summary=true: elements flagged isSummary (or mandatory), at every depth; primitives are kept whole.</summary>
    private static void KeepSummary(Base instance, ClassMapping mapping)
    {
        foreach (var (name, value) in instance.EnumerateElements().ToList())
        {
            var property = mapping.FindMappedElementByName(name);
            if (property is null || !(property.InSummary || property.IsMandatoryElement || AlwaysKept.Contains(name)))
            {
                instance.SetValue(name, null);
                continue;
            }
            foreach (var child in value is IEnumerable<Base> list ? list : value is Base single ? [single] : [])
            {
                if (child is PrimitiveType)
                    continue;
                var childMapping = ModelInfo.ModelInspector.FindOrImportClassMapping(child.GetType());
                if (childMapping is not null)
                    KeepSummary(child, childMapping);
            }
        }
    }
}
