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
///
/// Walking the whole model by reflection builds a class mapping for every type (about 0.35 s of a 1.2 s CLI cold
/// start, issue 13), so the names ship as a table (ElementNames.R4.txt, embedded) that <see cref="FromModel"/> walks the
/// model to produce; ElementNamesTableTests fails when the two differ and says how to write the table again.
/// </summary>
internal static class ElementNames
{
    /// <summary>Logical name of the embedded table.</summary>
    public const string TableResource = "FhirCaseService.Validation.Instance.ElementNames.R4.txt";

    // Plain fields, read once per node and per property name: a property getter over one tuple showed in profiles.
    public static readonly FrozenSet<string> All;

    /// <summary>Per model type, its elements whose spelling differs in case from the one most R4 types use.</summary>
    public static readonly FrozenDictionary<Type, string[]> OtherSpellings;

#pragma warning disable CA1810 // both fields come from one read of the table
    static ElementNames() => (All, OtherSpellings) = ReadTable();
#pragma warning restore CA1810

    /// <summary>
    /// The table's text: first line "names", then every name of <see cref="All"/> one a line (ordinal order), then a
    /// line "other-spellings", then one line per type: its full name, a tab, its other spellings separated by commas.
    /// </summary>
    public static string WriteTable((FrozenSet<string> All, FrozenDictionary<Type, string[]> OtherSpellings) names)
    {
        var text = new System.Text.StringBuilder("names\n");
        foreach (var name in names.All.Order(StringComparer.Ordinal))
            text.Append(name).Append('\n');
        text.Append("other-spellings\n");
        foreach (var (type, others) in names.OtherSpellings.OrderBy(p => p.Key.FullName, StringComparer.Ordinal))
            text.Append(type.FullName).Append('\t').AppendJoin(',', others.Order(StringComparer.Ordinal)).Append('\n');
        return text.ToString();
    }

    private static (FrozenSet<string>, FrozenDictionary<Type, string[]>) ReadTable()
    {
        using var stream = typeof(ElementNames).Assembly.GetManifestResourceStream(TableResource)
            ?? throw new InvalidOperationException($"The embedded resource {TableResource} is missing.");
        using var reader = new StreamReader(stream);
        var modelAssemblies = new[] { typeof(ModelInfo).Assembly, typeof(Resource).Assembly };
        var all = new List<string>(8192);
        var otherSpellings = new Dictionary<Type, string[]>();
        var section = "";
        while (reader.ReadLine() is { } line)
        {
            if (line is "names" or "other-spellings")
                section = line;
            else if (section == "names")
                all.Add(line);
            else if (section == "other-spellings")
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                var typeName = line[..tab];
                var type = modelAssemblies.Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null)
                    ?? throw new InvalidOperationException($"{TableResource} names a type the model does not have: {typeName}.");
                otherSpellings[type] = line[(tab + 1)..].Split(',');
            }
        }
        return (all.ToFrozenSet(StringComparer.Ordinal), otherSpellings.ToFrozenDictionary());
    }

    /// <summary>The names walked from the SDK's model: what the embedded table must hold.</summary>
    public static (FrozenSet<string> All, FrozenDictionary<Type, string[]> OtherSpellings) FromModel()
    {
        var (all, others) = Collect();
        return (all, others);
    }

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
