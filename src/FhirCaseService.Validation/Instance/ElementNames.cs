using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Every property name FHIR R4 JSON can use, spelled exactly: each element of each type of the SDK model (backbone
/// elements included), a choice element once per type suffix, and "resourceType". The SDK's strict parser binds a
/// name whose case is wrong ("Gender") to its element and lets its POCO validator report it; the fast path of text
/// validation runs without that validator, so a name outside this set sends the text to the strict parser instead.
/// Names R4 itself spells two ways in different types are left out, so no two names here differ only in case and an
/// exact miss is what the validator calls wrong case (or an unknown element).
/// </summary>
internal static class ElementNames
{
    public static readonly HashSet<string> All = Collect();

    private static HashSet<string> Collect()
    {
        var inspector = ModelInfo.ModelInspector;
        var typeNames = ModelInfo.FhirTypeToCsType.Keys.Where(n => n.Length > 0).Select(n => char.ToUpperInvariant(n[0]) + n[1..]).ToList();
        var names = new HashSet<string>(StringComparer.Ordinal) { "resourceType" };
        var visited = new HashSet<ClassMapping>();
        var pending = new Stack<ClassMapping>(ModelInfo.FhirTypeToCsType.Values.Select(inspector.FindOrImportClassMapping).OfType<ClassMapping>());
        while (pending.TryPop(out var mapping))
        {
            if (!visited.Add(mapping))
                continue;
            foreach (var property in mapping.PropertyMappings)
            {
                if (property.Choice == ChoiceType.None)
                    names.Add(property.Name);
                else
                    names.UnionWith(typeNames.Select(type => property.Name + type));
                foreach (var type in property.FhirTypeMappings)
                    pending.Push(type);
            }
        }
        // R4 spells a few elements two ways in different types (bodySite and bodysite, subType and subtype): those
        // names are left out, so text using them is read strictly, where the validator knows which type is meant.
        var caseVariants = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).SelectMany(g => g).ToList();
        names.ExceptWith(caseVariants);
        return names;
    }
}
