using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;

namespace FhirCaseService.Conformance.Terminology;

/// <summary>
/// Expands ValueSets and answers code membership from the CodeSystems and ValueSets the resolver
/// holds, with no terminology server. Each ValueSet is expanded once and cached. Large external code
/// systems are never enumerated as a whole: a ValueSet that includes all of SNOMED CT, or filters on
/// it, yields "not checked" for codes of that system instead of a guess.
/// </summary>
public sealed class LocalTerminology
{
    /// <summary>Systems too large to hold locally; only codes a ValueSet lists explicitly are checked.</summary>
    public static readonly IReadOnlySet<string> LargeExternalSystems = new HashSet<string>(StringComparer.Ordinal)
    {
        "http://snomed.info/sct",
        "http://loinc.org",
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "http://unitsofmeasure.org",
        "urn:ietf:bcp:47",
        "urn:ietf:bcp:13",
        "urn:iso:std:iso:3166",
        "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "http://hl7.org/fhir/sid/ndc",
        "http://www.ama-assn.org/go/cpt",
        "http://www.whocc.no/atc",
    };

    private readonly IAsyncResourceResolver _resolver;
    private readonly ConcurrentDictionary<string, Lazy<Task<ValueSetExpansion?>>> _expansions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CodeSystemIndex?>>> _codeSystems = new(StringComparer.Ordinal);

    public LocalTerminology(IAsyncResourceResolver resolver)
    {
        _resolver = resolver;
    }

    /// <summary>
    /// Raised with the requested canonical each time an expansion is computed (on the computing thread): once per
    /// canonical in the life of this instance, which the tests that count expansions observe.
    /// </summary>
    public event Action<string>? ValueSetExpanded;

    /// <summary>The expansion of a ValueSet by canonical ("url" or "url|version"), or null when no source holds it.</summary>
    public Task<ValueSetExpansion?> ExpandAsync(string valueSetCanonical) =>
        _expansions.GetOrAdd(valueSetCanonical, key => new Lazy<Task<ValueSetExpansion?>>(() => ExpandUncachedAsync(key))).Value;

    /// <summary>
    /// Whether (system, code) is in the ValueSet. A null system matches the code in any system (the
    /// FHIR "code" type carries no system). A display, when given, is compared case-insensitively.
    /// </summary>
    public async Task<MembershipResult> CheckMembershipAsync(string valueSetCanonical, string? system, string code, string? display = null)
    {
        var expansion = await ExpandAsync(valueSetCanonical).ConfigureAwait(false);
        var shown = system is null ? $"'{code}'" : $"'{system}#{code}'";
        if (expansion is null)
        {
            return new MembershipResult(MembershipOutcome.NotChecked, $"ValueSet {valueSetCanonical} is not available locally, so {shown} was not checked");
        }

        var concept = expansion.Find(system, code);
        var openExclude = expansion.OpenExcludes.FirstOrDefault(p => p.System is null || system is null || p.System == system);
        if (concept is not null)
        {
            if (openExclude is not null)
            {
                return new MembershipResult(MembershipOutcome.NotChecked, $"{shown} is listed in ValueSet {valueSetCanonical} but may be excluded: {openExclude.Reason}");
            }
            bool? displayMatches = display is null || concept.Display is null
                ? null
                : string.Equals(display.Trim(), concept.Display.Trim(), StringComparison.OrdinalIgnoreCase);
            var note = concept.IsAbstract ? " (an abstract grouping concept, not meant for data)" : "";
            return new MembershipResult(MembershipOutcome.Member, $"{shown} is in ValueSet {valueSetCanonical}{note}", concept.Display, displayMatches);
        }

        var openInclude = expansion.OpenIncludes.FirstOrDefault(p => p.System is null || system is null || p.System == system);
        return openInclude is not null
            ? new MembershipResult(MembershipOutcome.NotChecked, $"{shown} was not checked against ValueSet {valueSetCanonical}: {openInclude.Reason}")
            : new MembershipResult(MembershipOutcome.NotMember, $"{shown} is not in ValueSet {valueSetCanonical}");
    }

    private async Task<ValueSetExpansion?> ExpandUncachedAsync(string canonical)
    {
        ValueSetExpanded?.Invoke(canonical);
        if (await ResolveAsync<ValueSet>(canonical).ConfigureAwait(false) is not { } valueSet)
        {
            return null;
        }
        var part = await ComposeAsync(valueSet, canonical, [canonical]).ConfigureAwait(false);
        return new ValueSetExpansion(canonical, part.Concepts, part.Open, part.OpenExcludes);
    }

    private async Task<ComposedPart> ComposeAsync(ValueSet valueSet, string canonical, ImmutableHashSet<string> importing)
    {
        if (valueSet.Compose is not { } compose)
        {
            // Without a compose, a shipped expansion is all we have.
            return valueSet.Expansion?.Contains is { Count: > 0 } contains
                ? new ComposedPart(FlattenExpansion(contains).ToList(), [], [])
                : new ComposedPart([], [new OpenPart(null, $"ValueSet {canonical} has neither compose nor expansion")], []);
        }

        var included = new List<ExpandedConcept>();
        var seen = new HashSet<(string, string)>();
        var open = new List<OpenPart>();
        foreach (var include in compose.Include)
        {
            var part = await SelectAsync(include, importing).ConfigureAwait(false);
            included.AddRange(part.Concepts.Where(c => seen.Add((c.System, c.Code))));
            open.AddRange(part.Open);
        }

        var openExcludes = new List<OpenPart>();
        foreach (var exclude in compose.Exclude)
        {
            var part = await SelectAsync(exclude, importing).ConfigureAwait(false);
            var removed = part.Concepts.Select(c => (c.System, c.Code)).ToHashSet();
            included.RemoveAll(c => removed.Contains((c.System, c.Code)));
            openExcludes.AddRange(part.Open);
        }
        return new ComposedPart(included, open, openExcludes);
    }

    /// <summary>One include or exclude: its system part and imported ValueSets intersect.</summary>
    private async Task<ComposedPart> SelectAsync(ValueSet.ConceptSetComponent component, ImmutableHashSet<string> importing)
    {
        var parts = new List<ComposedPart>();
        if (component.System is { } system)
        {
            parts.Add(await SelectFromSystemAsync(system, component).ConfigureAwait(false));
        }
        foreach (var imported in component.ValueSet.OfType<string>())
        {
            parts.Add(await ImportAsync(imported, importing).ConfigureAwait(false));
        }
        if (parts.Count == 0)
        {
            return new ComposedPart([], [new OpenPart(null, "a compose part names neither a system nor a ValueSet")], []);
        }

        var concepts = parts[0].Concepts;
        foreach (var other in parts.Skip(1))
        {
            var keys = other.Concepts.Select(c => (c.System, c.Code)).ToHashSet();
            concepts = concepts.Where(c => keys.Contains((c.System, c.Code))).ToList();
        }
        return new ComposedPart(concepts, parts.SelectMany(p => p.Open.Concat(p.OpenExcludes)).ToList(), []);
    }

    private async Task<ComposedPart> ImportAsync(string canonical, ImmutableHashSet<string> importing)
    {
        if (importing.Contains(canonical))
        {
            return Open(null, $"ValueSet {canonical} imports itself");
        }
        return await ResolveAsync<ValueSet>(canonical).ConfigureAwait(false) is { } imported
            ? await ComposeAsync(imported, canonical, importing.Add(canonical)).ConfigureAwait(false)
            : Open(null, $"imported ValueSet {canonical} is not available locally");
    }

    private async Task<ComposedPart> SelectFromSystemAsync(string system, ValueSet.ConceptSetComponent component)
    {
        var isLarge = LargeExternalSystems.Contains(system);
        var codeSystem = isLarge ? null : await CodeSystemAsync(system).ConfigureAwait(false);

        if (component.Concept.Count > 0)
        {
            // Listed codes are taken as listed: that is how ValueSets over SNOMED CT or LOINC stay checkable.
            return new ComposedPart(
                component.Concept
                    .Where(c => c.Code is not null)
                    .Select(c => codeSystem?.Find(c.Code!) is { } known
                        ? new ExpandedConcept(system, c.Code!, c.Display ?? known.Display, known.IsAbstract)
                        : new ExpandedConcept(system, c.Code!, c.Display))
                    .ToList(),
                [],
                []);
        }

        if (isLarge)
        {
            return Open(system, component.Filter.Count > 0
                ? $"the ValueSet filters {system} ({Describe(component.Filter)}), which needs a terminology server"
                : $"the ValueSet includes all of {system}, which is too large to enumerate locally");
        }
        if (codeSystem is null)
        {
            return Open(system, $"CodeSystem {system} is not available locally");
        }
        if (component.Filter.Count == 0 && codeSystem.Content != CodeSystemContentMode.Complete)
        {
            return Open(system, $"CodeSystem {system} is only partly defined locally (content '{codeSystem.Content?.ToString() ?? "unknown"}')");
        }

        IEnumerable<IndexedConcept> selected = codeSystem.Concepts;
        foreach (var filter in component.Filter)
        {
            var matches = ApplyFilter(codeSystem, filter);
            if (matches is null)
            {
                return Open(system, $"filter '{Describe([filter])}' on {system} is not supported locally");
            }
            var keys = matches.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
            selected = selected.Where(c => keys.Contains(c.Code));
        }
        return new ComposedPart(selected.Select(codeSystem.ToExpanded).ToList(), [], []);
    }

    /// <summary>The concepts a filter selects, or null when the filter is not one we evaluate.</summary>
    private static IEnumerable<IndexedConcept>? ApplyFilter(CodeSystemIndex codeSystem, ValueSet.FilterComponent filter)
    {
        var property = filter.Property ?? "";
        var value = filter.Value ?? "";
        var onHierarchy = property is "concept" or "code";
        IEnumerable<IndexedConcept> Self(string code) => codeSystem.Find(code) is { } c ? [c] : [];

        return filter.Op switch
        {
            FilterOperator.IsA when onHierarchy => Self(value).Concat(codeSystem.Descendants(value)),
            FilterOperator.DescendentOf when onHierarchy => codeSystem.Descendants(value),
            FilterOperator.IsNotA when onHierarchy => ExceptCodes(codeSystem.Concepts, Self(value).Concat(codeSystem.Descendants(value))),
            FilterOperator.Equal when onHierarchy => Self(value),
            FilterOperator.In when onHierarchy => SplitCodes(value).SelectMany(Self),
            FilterOperator.NotIn when onHierarchy => ExceptCodes(codeSystem.Concepts, SplitCodes(value).SelectMany(Self)),
            FilterOperator.Regex when onHierarchy => codeSystem.Concepts.Where(c => FullMatch(c.Code, value)),
            FilterOperator.Equal => codeSystem.Concepts.Where(c => c.PropertyValues(property).Contains(value)),
            FilterOperator.In => codeSystem.Concepts.Where(c => c.PropertyValues(property).Intersect(SplitCodes(value)).Any()),
            FilterOperator.Exists => codeSystem.Concepts.Where(c => (c.PropertyValues(property).Length > 0) == (value == "true")),
            FilterOperator.Regex => codeSystem.Concepts.Where(c => c.PropertyValues(property).Any(v => FullMatch(v, value))),
            _ => null,
        };
    }

    private static IEnumerable<IndexedConcept> ExceptCodes(IEnumerable<IndexedConcept> all, IEnumerable<IndexedConcept> removed)
    {
        var codes = removed.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
        return all.Where(c => !codes.Contains(c.Code));
    }

    private static string[] SplitCodes(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool FullMatch(string input, string pattern)
    {
        try
        {
            return Regex.IsMatch(input, $"^(?:{pattern})$", RegexOptions.None, TimeSpan.FromMilliseconds(100));
        }
        catch (Exception ex) when (ex is ArgumentException or RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static string Describe(IEnumerable<ValueSet.FilterComponent> filters) =>
        string.Join(", ", filters.Select(f => $"{f.Property} {f.OpElement?.JsonValue} {f.Value}"));

    private static IEnumerable<ExpandedConcept> FlattenExpansion(IEnumerable<ValueSet.ContainsComponent> contains)
    {
        foreach (var item in contains)
        {
            if (item.System is not null && item.Code is not null)
            {
                yield return new ExpandedConcept(item.System, item.Code, item.Display, item.Abstract == true);
            }
            foreach (var nested in FlattenExpansion(item.Contains))
            {
                yield return nested;
            }
        }
    }

    private Task<CodeSystemIndex?> CodeSystemAsync(string system) =>
        _codeSystems.GetOrAdd(system, key => new Lazy<Task<CodeSystemIndex?>>(async () =>
            await ResolveAsync<CodeSystem>(key).ConfigureAwait(false) is { } codeSystem ? new CodeSystemIndex(codeSystem) : null)).Value;

    private async Task<T?> ResolveAsync<T>(string canonical)
        where T : Resource =>
        (await _resolver.TryResolveByCanonicalUriAsync(canonical).ConfigureAwait(false)).Value as T;

    private static ComposedPart Open(string? system, string reason) => new([], [new OpenPart(system, reason)], []);

    private sealed record ComposedPart(List<ExpandedConcept> Concepts, List<OpenPart> Open, List<OpenPart> OpenExcludes);
}
