using System.Collections.Concurrent;
using FhirCaseService.Conformance.CoreDefinitions;
using FhirCaseService.Conformance.FhirPath;
using Hl7.Fhir.Model;
using Hl7.FhirPath;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// A search parameter as the store indexes and queries it. <see cref="Compiled"/> is the FHIRPath expression narrowed
/// to this resource type and compiled once; null for the two parameters read from the version row (_id, _lastUpdated).
/// </summary>
public sealed record SearchParameterDefinition(
    string ResourceType,
    string Name,
    SearchParamType Type,
    string? Expression,
    IReadOnlyList<string> Targets)
{
    internal CompiledExpression? Compiled { get; init; }

    /// <summary>The same expression walked on the POCO without FHIRPath, where its shape allows (<see cref="SimplePath"/>).</summary>
    internal SimplePath? Path { get; init; }

    /// <summary>True for _id and _lastUpdated, which are columns of every version row rather than index rows.</summary>
    public bool IsVersionColumn => Compiled is null;
}

/// <summary>
/// The R4 core search parameters per resource type, built lazily and exactly once per type from the Conformance
/// core definitions. Composite and special parameters are not indexed (they are reported as unknown by the parser).
/// </summary>
public sealed partial class SearchParameterCatalog
{
    private static readonly Lazy<SearchParameterCatalog> SharedInstance = new(() => new SearchParameterCatalog(CoreDefinitionsSource.Shared));

    private readonly CoreDefinitionsSource _core;
    private readonly ConcurrentDictionary<string, Lazy<IReadOnlyDictionary<string, SearchParameterDefinition>>> _byType = new(StringComparer.Ordinal);

    public SearchParameterCatalog(CoreDefinitionsSource core) => _core = core;

    public static SearchParameterCatalog Shared => SharedInstance.Value;

    /// <summary>Parameters of <paramref name="resourceType"/> by name; empty for a type FHIR R4 does not define.</summary>
    public IReadOnlyDictionary<string, SearchParameterDefinition> For(string resourceType) =>
        _byType.GetOrAdd(resourceType, t => new Lazy<IReadOnlyDictionary<string, SearchParameterDefinition>>(() => Build(t))).Value;

    public SearchParameterDefinition? Find(string resourceType, string name) => For(resourceType).GetValueOrDefault(name);

    private IReadOnlyDictionary<string, SearchParameterDefinition> Build(string resourceType)
    {
        var result = new Dictionary<string, SearchParameterDefinition>(StringComparer.Ordinal);
        if (!ModelInfo.IsKnownResource(resourceType))
            return result;
        foreach (var sp in _core.SearchParametersFor(resourceType))
        {
            if (sp.Code is null || sp.Type is null || sp.Type is SearchParamType.Composite or SearchParamType.Special || result.ContainsKey(sp.Code))
                continue;
            var targets = sp.Target.Where(t => t is not null).Select(t => t!.Value.ToString()).ToList();
            if (sp.Code is "_id" or "_lastUpdated")
            {
                result[sp.Code] = new SearchParameterDefinition(resourceType, sp.Code, sp.Type.Value, null, targets);
                continue;
            }
            var expression = NarrowTo(resourceType, sp.Expression);
            if (expression is null)
                continue;
            CompiledExpression compiled;
            try
            {
                compiled = FhirPathCompilers.Fhir.Compile(expression);
            }
            // A core expression the SDK cannot compile leaves that one parameter unindexed (and unknown to the parser);
            // the SDK's parser throws several unrelated exception types, hence the broad catch.
            catch (Exception)
            {
                continue;
            }
            result[sp.Code] = new SearchParameterDefinition(resourceType, sp.Code, sp.Type.Value, expression, NarrowTargets(expression, targets))
            {
                Compiled = compiled,
                Path = SimplePath.TryParse(resourceType, SplitTopLevelUnion(expression)),
            };
        }
        return result;
    }

    /// <summary>
    /// Shared parameters (e.g. clinical-patient) union one path per resource type; keeping only this type's branches
    /// makes every evaluation cheaper. A branch belongs to a type when it starts with "Type." or "(Type.".
    /// </summary>
    internal static string? NarrowTo(string resourceType, string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
            return null;
        var branches = SplitTopLevelUnion(expression);
        if (branches.Count == 1)
            return expression;
        var own = branches.Where(b => b.TrimStart('(', ' ').StartsWith(resourceType + ".", StringComparison.Ordinal)).ToList();
        return own.Count == 0 ? null : string.Join(" | ", own);
    }

    /// <summary>
    /// A shared reference parameter lists the targets of every type it serves (R4's clinical-patient: Patient and Group),
    /// while the branch of one type may admit fewer: <c>Condition.subject.where(resolve() is Patient)</c> can only point
    /// at a Patient. When every branch ends in such a filter, those types are the parameter's targets for this type,
    /// so a chain (<c>patient.gender</c>) needs no type modifier.
    /// </summary>
    internal static IReadOnlyList<string> NarrowTargets(string expression, IReadOnlyList<string> declared)
    {
        var filtered = new List<string>();
        foreach (var branch in SplitTopLevelUnion(expression))
        {
            var text = branch.Trim();
            if (text.StartsWith('(') && text.EndsWith(')'))
                text = text[1..^1].Trim();
            var match = ResolveIsFilter().Match(text);
            if (!match.Success)
                return declared;
            filtered.Add(match.Groups[1].Value);
        }
        var narrowed = declared.Count == 0 ? filtered.Distinct(StringComparer.Ordinal).ToList() : declared.Where(filtered.Contains).ToList();
        return narrowed.Count == 0 ? declared : narrowed;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)$")]
    private static partial System.Text.RegularExpressions.Regex ResolveIsFilter();

    internal static List<string> SplitTopLevelUnion(string expression)
    {
        var parts = new List<string>();
        var depth = 0;
        var inString = false;
        var start = 0;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (c == '\'' && (i == 0 || expression[i - 1] != '\\'))
                inString = !inString;
            else if (!inString && c == '(')
                depth++;
            else if (!inString && c == ')')
                depth--;
            else if (!inString && depth == 0 && c == '|')
            {
                parts.Add(expression[start..i].Trim());
                start = i + 1;
            }
        }
        parts.Add(expression[start..].Trim());
        return parts;
    }
}
