using System.Collections.Concurrent;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// Extracts a version's search index entries at write time: each catalog parameter's compiled FHIRPath is evaluated
/// on the POCO and every value converted to the index kind of the parameter's type. Stateless apart from the catalog.
/// </summary>
/// <param name="sortable">the token parameters that get sort-key rows (<see cref="SortableTokens"/>).</param>
/// <param name="fastPaths">false evaluates every expression with FHIRPath (the tests compare both ways).</param>
internal sealed class ResourceIndexer(SearchParameterCatalog catalog, SortableTokens sortable, bool fastPaths = true)
{
    // resolve() in expressions such as "Observation.subject.where(resolve() is Patient)" needs an element of the
    // referenced type, not the resource itself: an empty instance of the type the reference names answers "is Patient".
    private static readonly ConcurrentDictionary<string, PocoNode?> TypeStubs = new(StringComparer.Ordinal);

    public IndexEntries Extract(Resource resource)
    {
        var entries = new IndexEntries();
        PocoNode? root = null;
        FhirEvaluationContext? context = null;
        foreach (var parameter in catalog.For(resource.TypeName).Values)
        {
            if (parameter.Compiled is null)
                continue;
            // The walk, unless this instance holds a value its shape leaves to FHIRPath (null).
            if (fastPaths && parameter.Path is { } path && path.Evaluate(resource) is { } walked)
            {
                var before = path.IsUnion ? entries.Counts() : null;
                foreach (var value in walked)
                    Add(entries, parameter, value);
                if (path.IsUnion)
                    entries.DistinctSince(before!);
                continue;
            }
            root ??= resource.ToPocoNode(ModelInfo.ModelInspector);
            context ??= new FhirEvaluationContext { ElementResolver = ResolveStub };
            List<PocoNode> values;
            try
            {
                values = parameter.Compiled([root], context).ToList();
            }
            // An expression that fails on this instance (e.g. single() over a repeat) indexes nothing for that parameter;
            // the write itself must not fail because of a search definition.
            catch (Exception)
            {
                continue;
            }
            foreach (var value in values)
                Add(entries, parameter, value.Poco);
        }
        entries.ComputeSortKeys(resource.TypeName, sortable);
        return entries;
    }

    private static PocoNode? ResolveStub(string reference)
    {
        var (type, _) = ReferenceParser.Split(reference);
        if (type is null)
            return null;
        return TypeStubs.GetOrAdd(type, t => ModelInfo.GetTypeForFhirType(t) is { } clr && Activator.CreateInstance(clr) is Resource stub
            ? stub.ToPocoNode(ModelInfo.ModelInspector)
            : null);
    }

    private static void Add(IndexEntries entries, SearchParameterDefinition parameter, Base value)
    {
        var name = parameter.Name;
        switch (parameter.Type)
        {
            case SearchParamType.Token:
                AddTokens(entries.Tokens, name, value);
                break;
            case SearchParamType.String:
                foreach (var text in StringsOf(value))
                    entries.Strings.Add(new StringEntry(name, TextNormalizer.Normalize(text), text));
                break;
            case SearchParamType.Date:
                AddDates(entries.Dates, name, value);
                break;
            case SearchParamType.Reference:
                AddReference(entries.References, name, value);
                break;
            case SearchParamType.Quantity:
                if (value is Quantity { Value: { } amount } q)
                    entries.Quantities.Add(new QuantityEntry(name, amount, q.System, q.Code ?? q.Unit));
                break;
            case SearchParamType.Number:
                if (value is PrimitiveType { JsonValue: { } number } && TryDecimal(number, out var d))
                    entries.Numbers.Add(new NumberEntry(name, d));
                break;
            case SearchParamType.Uri:
                if (value is PrimitiveType { JsonValue: string uri } && uri.Length > 0)
                    entries.Uris.Add(new UriEntry(name, uri));
                break;
        }
    }

    private static void AddTokens(List<TokenEntry> tokens, string name, Base value)
    {
        switch (value)
        {
            case CodeableConcept cc:
                var text = cc.Text is { Length: > 0 } t ? TextNormalizer.Normalize(t) : null;
                foreach (var coding in cc.Coding)
                    tokens.Add(new TokenEntry(name, Blank(coding.System), Blank(coding.Code), Display(coding) ?? text));
                if (cc.Coding.Count == 0 && text is not null)
                    tokens.Add(new TokenEntry(name, null, null, text));
                break;
            case Coding coding:
                tokens.Add(new TokenEntry(name, Blank(coding.System), Blank(coding.Code), Display(coding)));
                break;
            case Identifier identifier:
                tokens.Add(new TokenEntry(name, Blank(identifier.System), Blank(identifier.Value),
                    identifier.Type?.Text is { Length: > 0 } typeText ? TextNormalizer.Normalize(typeText) : null));
                break;
            case ContactPoint contact:
                tokens.Add(new TokenEntry(name, contact.System?.ToString().ToLowerInvariant(), Blank(contact.Value), null));
                break;
            case PrimitiveType { JsonValue: { } primitive }:
                var code = primitive switch
                {
                    bool b => b ? "true" : "false",
                    IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                    _ => primitive.ToString(),
                };
                if (!string.IsNullOrEmpty(code))
                    tokens.Add(new TokenEntry(name, null, code, null));
                break;
        }
    }

    private static string? Display(Coding coding) => coding.Display is { Length: > 0 } d ? TextNormalizer.Normalize(d) : null;

    private static string? Blank(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static IEnumerable<string> StringsOf(Base value) => value switch
    {
        HumanName n => new[] { n.Text, n.Family }.Concat(n.Given).Concat(n.Prefix).Concat(n.Suffix).OfType<string>().Where(s => s.Length > 0),
        Address a => new[] { a.Text, a.City, a.District, a.State, a.PostalCode, a.Country }.Concat(a.Line).OfType<string>().Where(s => s.Length > 0),
        PrimitiveType { JsonValue: { } primitive } when primitive.ToString() is { Length: > 0 } s => [s],
        _ => [],
    };

    private static void AddDates(List<DateEntry> dates, string name, Base value)
    {
        switch (value)
        {
            case Period period:
                long low = FhirInstantRange.MinValue, high = FhirInstantRange.MaxValue;
                if (period.Start is not null && FhirInstantRange.TryParse(period.Start, out var startLow, out _))
                    low = startLow;
                if (period.End is not null && FhirInstantRange.TryParse(period.End, out _, out var endHigh))
                    high = endHigh;
                if (period.Start is not null || period.End is not null)
                    dates.Add(new DateEntry(name, low, high));
                break;
            case Timing timing:
                foreach (var e in timing.EventElement)
                    AddDates(dates, name, e);
                break;
            case Instant { Value: { } instant }:
                var ms = instant.ToUnixTimeMilliseconds();
                dates.Add(new DateEntry(name, ms, ms));
                break;
            case PrimitiveType { JsonValue: string text } when FhirInstantRange.TryParse(text, out var l, out var h):
                dates.Add(new DateEntry(name, l, h));
                break;
        }
    }

    private static void AddReference(List<ReferenceEntry> references, string name, Base value)
    {
        var literal = value switch
        {
            ResourceReference r => r.Reference,
            PrimitiveType { JsonValue: string s } => s,
            _ => null,
        };
        if (string.IsNullOrEmpty(literal) || literal.StartsWith('#'))
            return;
        var (type, id) = ReferenceParser.Split(literal);
        references.Add(type is null ? new ReferenceEntry(name, null, null, literal) : new ReferenceEntry(name, type, id, null));
    }

    private static bool TryDecimal(object number, out decimal value)
    {
        switch (number)
        {
            case decimal d: value = d; return true;
            case int i: value = i; return true;
            case long l: value = l; return true;
            case string s: return decimal.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value);
            default: value = 0; return false;
        }
    }
}
