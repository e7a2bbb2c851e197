using System.Collections.Frozen;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Every property name FHIR R4 JSON can use, spelled exactly: each element of each type of the SDK model (backbone
/// elements included), a choice element once per type suffix, and "resourceType". The SDK's strict parser binds a
/// name whose case is wrong ("Gender") to its element and lets its POCO validator report it; the fast path of text
/// validation runs without that validator, so a name outside this set sends the text to the strict parser instead.
/// R4 itself spells a few elements two ways in different types (bodySite in most, bodysite in one): only the spelling
/// most types use is in the set, and the types that use another one are listed in <see cref="OtherSpellings"/>, so an
/// object of such a type with that element set goes to the strict parser too (the text may have used the common
/// spelling where this type wants its own). No two names in the set differ only in case.
/// </summary>
internal static class ElementNames
{
    // Plain fields, read once per node and per property name: a property getter over one tuple showed in profiles.
    public static readonly FrozenSet<string> All;

    /// <summary>Per model type, its elements whose spelling differs in case from the one most R4 types use.</summary>
    public static readonly FrozenDictionary<Type, string[]> OtherSpellings;

#pragma warning disable CA1810 // both fields come from one walk over the model
    static ElementNames() => (All, OtherSpellings) = Collect();
#pragma warning restore CA1810

    private static (FrozenSet<string>, FrozenDictionary<Type, string[]>) Collect()
    {
        var inspector = ModelInfo.ModelInspector;
        var typeNames = ModelInfo.FhirTypeToCsType.Keys.Where(n => n.Length > 0).Select(n => char.ToUpperInvariant(n[0]) + n[1..]).ToList();
        var declaredBy = new Dictionary<string, List<Type>>(StringComparer.Ordinal) { ["resourceType"] = [] };
        var visited = new HashSet<ClassMapping>();
        var pending = new Stack<ClassMapping>(ModelInfo.FhirTypeToCsType.Values.Select(inspector.FindOrImportClassMapping).OfType<ClassMapping>());
        while (pending.TryPop(out var mapping))
        {
            if (!visited.Add(mapping))
                continue;
            foreach (var property in mapping.PropertyMappings)
            {
                var spellings = property.Choice == ChoiceType.None ? [property.Name] : typeNames.Select(type => property.Name + type);
                foreach (var spelling in spellings)
                {
                    if (!declaredBy.TryGetValue(spelling, out var types))
                        declaredBy[spelling] = types = [];
                    types.Add(mapping.NativeType);
                }
                foreach (var type in property.FhirTypeMappings)
                    pending.Push(type);
            }
        }

        var all = new HashSet<string>(declaredBy.Keys, StringComparer.Ordinal);
        var otherSpellings = new Dictionary<Type, List<string>>();
        foreach (var variants in declaredBy.Keys.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            var common = variants.MaxBy(n => declaredBy[n].Count)!;
            foreach (var other in variants.Where(n => n != common))
            {
                all.Remove(other);
                foreach (var type in declaredBy[other])
                {
                    if (!otherSpellings.TryGetValue(type, out var names))
                        otherSpellings[type] = names = [];
                    names.Add(other);
                }
            }
        }
        return (all.ToFrozenSet(StringComparer.Ordinal), otherSpellings.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray()));
    }
}
