using System.Text.RegularExpressions;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// The Bundle rules that live in the specification's prose (bundle.html, documents.html, messaging.html, search.html)
/// rather than in the Bundle StructureDefinition, as the reference validator applies them: fullUrl is absolute and,
/// when it looks like a RESTful URL, ends with the entry's type and id; every entry outside transactions and batches has
/// a fullUrl; search links only in search sets and history; search-set entries by their search mode; a document starts
/// with a Composition whose references resolve in the Bundle by the fullUrl rules and reach every entry; a message
/// starts with a MessageHeader whose focus resolves.
/// </summary>
internal static partial class BundleRules
{
    private static readonly string[] SearchRelations = ["first", "previous", "next", "last"];

    /// <summary>Resource types whose instances are usually found by canonical URL outside the Bundle (the reference validator does not require them inside).</summary>
    private static readonly HashSet<string> CanonicalTypes = new(StringComparer.Ordinal)
    {
        "ActivityDefinition", "CapabilityStatement", "ChargeItemDefinition", "CodeSystem", "CompartmentDefinition", "ConceptMap",
        "EffectEvidenceSynthesis", "EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario", "GraphDefinition",
        "ImplementationGuide", "Library", "Measure", "MessageDefinition", "NamingSystem", "OperationDefinition", "PlanDefinition",
        "Questionnaire", "ResearchDefinition", "ResearchElementDefinition", "RiskEvidenceSynthesis", "SearchParameter",
        "StructureDefinition", "StructureMap", "TerminologyCapabilities", "TestScript", "ValueSet",
    };

    // A RESTful URL: optional http(s) base, a resource type, an id, optionally a version (the specification's regex).
    [GeneratedRegex(@"^((http|https)://([A-Za-z0-9\\.:%$]*/)*)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")]
    private static partial Regex RestfulUrl();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:")]
    private static partial Regex HasScheme();

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex Index();

    private sealed record Entry(int Index, PocoNode Node, PocoNode? Resource, string? FullUrl, InstancePath Path);

    public static void Check(PocoNode bundle, InstancePath path, ValidationRun run)
    {
        var type = RawElements.Text(bundle.Poco, "type") ?? "";
        var entries = new List<Entry>();
        var index = 0;
        foreach (var node in Kids(bundle, "entry"))
        {
            if (node.Poco is not null)
            {
                var resource = node.Child("resource")?.FirstOrDefault(r => r.Poco is Resource);
                entries.Add(new Entry(index, node, resource, RawElements.Text(node.Poco, "fullUrl"), path.Child("entry", index, repeating: true)));
            }
            index++;
        }

        var links = Kids(bundle, "link").ToList();
        CheckLinks(links, type, entries, path, run);
        CheckFullUrls(entries, type, path, run);
        var resolver = new Resolver(entries);
        switch (type)
        {
            case "document" when entries.Count > 0:
            {
                // Every entry must be reachable, whatever the first entry turned out to be (the reference validator
                // interlinks a document even when its first entry is not a Composition).
                var reported = new HashSet<Base>(ReferenceEqualityComparer.Instance);
                CheckDocument(entries, resolver, path, reported, run);
                CheckAllInterlinked(entries, links, resolver, path, reported, run, message: false);
                break;
            }
            case "document":
                Error(run, path, "A document Bundle needs entries, the first being its Composition.", "bdl-document");
                break;
            case "message":
            {
                var reported = new HashSet<Base>(ReferenceEqualityComparer.Instance);
                // A message is interlinked as a document is once its first entry holds a resource, with unreachable
                // entries a warning instead of an error (messaging.html asks for no more).
                if (CheckMessage(entries, resolver, path, reported, run))
                    CheckAllInterlinked(entries, links, resolver, path, reported, run, message: true);
                break;
            }
            case "searchset":
                CheckSearchSet(bundle, entries, run);
                break;
        }
    }

    private static void CheckLinks(List<PocoNode> links, string type, List<Entry> entries, InstancePath path, ValidationRun run)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < links.Count; i++)
        {
            if (RawElements.Text(links[i].Poco, "relation") is not { } relation)
                continue;
            var linkPath = path.Child("link", i, repeating: true);
            var first = seen.Add(relation);
            if (type is "searchset" or "history")
            {
                if (!first && (SearchRelations.Contains(relation) || relation == "self"))
                    Error(run, linkPath, $"The link relation '{relation}' may appear only once.", "bdl-link");
                continue;
            }
            if (type.Length == 0)
                continue;
            var relationPath = linkPath.Child("relation", 0, repeating: false);
            if (SearchRelations.Contains(relation))
                Error(run, relationPath, $"The link relation '{relation}' belongs to search sets; it is not allowed in a {type} Bundle.", "bdl-link");
            else if (relation == "self" && !first)
                Error(run, relationPath, "The link relation 'self' may appear only once.", "bdl-link");
            else if (relation == "stylesheet" && type == "document")
                CheckStylesheet(links[i], linkPath, entries, run);
        }
    }

    /// <summary>The FHIR stylesheet is fine; another absolute one is an outside dependency (warned); a relative one names an entry (Type/id) that must be there.</summary>
    private static void CheckStylesheet(PocoNode link, InstancePath linkPath, List<Entry> entries, ValidationRun run)
    {
        if (RawElements.Text(link.Poco, "url") is not { } url)
            return;
        var urlPath = linkPath.Child("url", 0, repeating: false);
        if (HasScheme().IsMatch(url))
        {
            if (url == FhirStylesheet)
                return;
            Warning(run, urlPath, $"The document's stylesheet '{url}' lies outside the document; a reader may not be able to fetch it.", "bdl-link");
            if (url.StartsWith("http://", StringComparison.Ordinal))
                Warning(run, urlPath, $"The document's stylesheet '{url}' is fetched without TLS (http).", "bdl-link");
            return;
        }
        if (!entries.Exists(e => e.Resource is { } r && $"{r.Poco.TypeName}/{RawElements.Text(r.Poco, "id")}" == url))
            Report(run, OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotFound, urlPath,
                $"The document's stylesheet '{url}' is not an entry of the Bundle (a relative stylesheet must be one, named Type/id).", "bdl-link");
    }

    private const string FhirStylesheet = "https://hl7.org/fhir/fhir.css";

    private static void CheckFullUrls(List<Entry> entries, string type, InstancePath bundlePath, ValidationRun run)
    {
        var fullUrlOptional = type is "transaction" or "transaction-response" or "batch" or "batch-response";
        foreach (var entry in entries)
        {
            if (entry.FullUrl is { Length: > 0 } fullUrl)
            {
                if (!HasScheme().IsMatch(fullUrl))
                {
                    Error(run, FullUrlLocation(entry, bundlePath, run), $"The fullUrl must be an absolute URL (not '{fullUrl}').", "bdl-fullurl");
                }
                else if (entry.Resource is { } resource && RestfulUrl().IsMatch(fullUrl) && ResourceTypeNames.IsResourceType(RestfulUrl().Match(fullUrl).Groups[4].Value))
                {
                    var id = RawElements.Text(resource.Poco, "id");
                    if (id is null)
                        Error(run, FullUrlLocation(entry, bundlePath, run), $"The fullUrl '{fullUrl}' looks like a RESTful server URL, but the resource has no id.", "bdl-fullurl");
                    else if (!fullUrl.EndsWith($"/{resource.Poco.TypeName}/{id}", StringComparison.Ordinal))
                        Error(run, FullUrlLocation(entry, bundlePath, run), $"The fullUrl '{fullUrl}' looks like a RESTful server URL, so it must end with the resource's type and id (/{resource.Poco.TypeName}/{id}).", "bdl-fullurl");
                }
            }
            else if (!fullUrlOptional)
            {
                Error(run, FullUrlLocation(entry, bundlePath, run), "Except in transactions and batches, every entry needs a fullUrl: the identity of its resource.", "bdl-fullurl");
            }
        }
    }

    private static void CheckDocument(List<Entry> entries, Resolver resolver, InstancePath path, HashSet<Base> reported, ValidationRun run)
    {
        var first = entries[0];
        if (first.Resource is not { } composition)
        {
            Error(run, first.Path, "The first entry of a document Bundle needs a resource (the Composition).", "bdl-document");
            return;
        }
        var compositionPath = first.Path.Child("resource", 0, repeating: false);
        if (composition.Poco is not Composition)
        {
            Error(run, compositionPath, $"The first entry of a document Bundle must be a Composition, not {composition.Poco.TypeName}.", "bdl-document");
            return;
        }
        var source = Source(first);
        foreach (var (reference, referencePath) in DocumentReferences(composition, compositionPath))
            ResolveRequired(reference, DocumentLocation(referencePath, path, run), source, resolver, reported, run);
    }

    /// <summary>The message's shape and its header's focus; true when its entries are to be interlinked (the first entry holds a resource).</summary>
    private static bool CheckMessage(List<Entry> entries, Resolver resolver, InstancePath path, HashSet<Base> reported, ValidationRun run)
    {
        if (entries.Count == 0)
        {
            Error(run, path, "A message Bundle needs entries, the first being its MessageHeader.", "bdl-message");
            return false;
        }
        var first = entries[0];
        if (first.Resource is not { } header)
        {
            Error(run, first.Path, "The first entry of a message Bundle needs a resource (the MessageHeader).", "bdl-message");
            return false;
        }
        var headerPath = first.Path.Child("resource", 0, repeating: false);
        if (header.Poco is not MessageHeader)
        {
            Error(run, headerPath, $"The first entry of a message Bundle must be a MessageHeader, not {header.Poco.TypeName}.", "bdl-message");
            return true;
        }
        var focus = Kids(header, "focus").ToList();
        for (var i = 0; i < focus.Count; i++)
            ResolveRequired(focus[i], headerPath.Child("focus", i, repeating: true), Source(first), resolver, reported, run);
        return true;
    }

    /// <summary>The Composition's references that must resolve inside the document: subject, author, encounter, custodian, attester.party, event.detail and every section's author, focus and entry.</summary>
    private static IEnumerable<(PocoNode Reference, InstancePath Path)> DocumentReferences(PocoNode composition, InstancePath path)
    {
        foreach (var item in Items(composition, "subject", path, repeating: false))
            yield return item;
        foreach (var item in Items(composition, "author", path, repeating: true))
            yield return item;
        foreach (var item in Items(composition, "encounter", path, repeating: false))
            yield return item;
        foreach (var item in Items(composition, "custodian", path, repeating: false))
            yield return item;
        foreach (var (attester, attesterPath) in Items(composition, "attester", path, repeating: true))
        {
            foreach (var item in Items(attester, "party", attesterPath, repeating: false))
                yield return item;
        }
        foreach (var (documentEvent, eventPath) in Items(composition, "event", path, repeating: true))
        {
            foreach (var item in Items(documentEvent, "detail", eventPath, repeating: true))
                yield return item;
        }
        foreach (var item in SectionReferences(composition, path))
            yield return item;
    }

    private static IEnumerable<(PocoNode Reference, InstancePath Path)> SectionReferences(PocoNode parent, InstancePath path)
    {
        foreach (var (section, sectionPath) in Items(parent, "section", path, repeating: true))
        {
            foreach (var item in Items(section, "author", sectionPath, repeating: true))
                yield return item;
            foreach (var item in Items(section, "focus", sectionPath, repeating: false))
                yield return item;
            foreach (var item in Items(section, "entry", sectionPath, repeating: true))
                yield return item;
            foreach (var item in SectionReferences(section, sectionPath))
                yield return item;
        }
    }

    private static IEnumerable<(PocoNode Node, InstancePath Path)> Items(PocoNode parent, string name, InstancePath path, bool repeating)
    {
        var i = 0;
        foreach (var item in Kids(parent, name))
        {
            if (item.Poco is not null)
                yield return (item, path.Child(name, i, repeating));
            i++;
        }
    }

    private static (string? FullUrl, string Type, string? Id) Source(Entry entry) =>
        (entry.FullUrl, entry.Resource?.Poco.TypeName ?? "", entry.Resource is { } r ? RawElements.Text(r.Poco, "id") : null);

    private static void ResolveRequired(PocoNode reference, InstancePath referencePath, (string? FullUrl, string Type, string? Id) source, Resolver resolver,
        HashSet<Base> reported, ValidationRun run)
    {
        if (RawElements.Text(reference.Poco, "reference") is not { Length: > 0 } literal || literal.StartsWith('#'))
            return;
        var (outcome, _, count) = resolver.Resolve(literal, source.FullUrl, source.Type, source.Id);
        var message = outcome switch
        {
            Resolution.NotFound => $"Can't find '{literal}' in the Bundle: a document's references must resolve to its entries.",
            Resolution.Multiple => $"Found {count} matches for '{literal}' in the Bundle; a reference must identify one entry.",
            Resolution.Apparent => $"Can't find '{literal}' in the Bundle. {count} entries have that type and id, but they do not match by the fullUrl rules for relative references.",
            _ => null,
        };
        if (message is not null && reported.Add(reference.Poco))
            Error(run, referencePath, message, "bdl-reference");
    }

    /// <summary>
    /// The entries' links, as the reference validator interlinks documents and messages: every literal reference and
    /// link uri of every entry is resolved in the Bundle (a fragment must then name one thing in its entry; references
    /// that match several entries, or only by type and id against the fullUrl rules, are errors), and every entry must
    /// be reachable from the first one by following references forward, or by an entry that points back at a reachable
    /// one (a Provenance; warned for other types). A document's relative stylesheet link makes its entry reachable too.
    /// An entry no path reaches is an error in a document, a warning in a message.
    /// </summary>
    private static void CheckAllInterlinked(List<Entry> entries, List<PocoNode> links, Resolver resolver, InstancePath path, HashSet<Base> reported,
        ValidationRun run, bool message)
    {
        var withResource = entries.Where(e => e.Resource is not null).ToList();
        var byIndex = withResource.ToDictionary(e => e.Index);
        var targets = new Dictionary<int, List<int>>();
        foreach (var entry in withResource)
        {
            var targetsOf = new List<int>();
            var source = Source(entry);
            foreach (var (reference, node) in References(entry.Resource!))
            {
                var (outcome, target, count) = resolver.Resolve(reference, source.FullUrl, source.Type, source.Id);
                if (outcome == Resolution.Found)
                {
                    if (target != entry.Index)
                        targetsOf.Add(target);
                    if (byIndex.TryGetValue(target, out var targetEntry))
                        CheckFragment(reference, node, targetEntry, path, reported, run);
                }
                else if (outcome is Resolution.Multiple or Resolution.Apparent && reported.Add(node.Poco))
                {
                    Error(run, path, outcome == Resolution.Multiple
                        ? $"Found {count} matches for '{reference}' in the Bundle; a reference must identify one entry."
                        : $"Can't find '{reference}' in the Bundle. {count} entries have that type and id, but they do not match by the fullUrl rules for relative references.", "bdl-reference");
                }
            }
            targets[entry.Index] = targetsOf;
        }

        var reached = new HashSet<int>();
        if (withResource.Count > 0)
            Reach(withResource[0].Index, targets, reached);
        // A stylesheet link naming an entry (Type/id) marks that entry, not what it links to.
        foreach (var link in links)
        {
            if (RawElements.Text(link.Poco, "relation") == "stylesheet" && RawElements.Text(link.Poco, "url") is { } url
                && withResource.Find(e => $"{e.Resource!.Poco.TypeName}/{RawElements.Text(e.Resource.Poco, "id")}" == url) is { } styled)
                reached.Add(styled.Index);
        }
        bool grew;
        do
        {
            grew = false;
            foreach (var entry in withResource)
            {
                if (!reached.Contains(entry.Index) && targets[entry.Index].Exists(reached.Contains))
                {
                    if (entry.Resource!.Poco is not Provenance)
                    {
                        Report(run, message ? OperationOutcome.IssueSeverity.Information : OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Informational,
                            DocumentLocation(entry.Path, path, run),
                            $"Entry {Quoted(entry.FullUrl)}is reached only by a reference from it to another entry; links usually go forward from the {(message ? "MessageHeader" : "Composition")}.",
                            message ? "bdl-message-reverse" : "bdl-document-reverse");
                    }
                    Reach(entry.Index, targets, reached);
                    grew = true;
                }
            }
        }
        while (grew);

        foreach (var entry in withResource.Where(e => !reached.Contains(e.Index)))
        {
            if (message)
                Report(run, OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Informational, DocumentLocation(entry.Path, path, run),
                    $"Entry {Quoted(entry.FullUrl)}isn't reachable by following references (forward or backward) from the MessageHeader.", "bdl-message-orphan");
            else
                Error(run, DocumentLocation(entry.Path, path, run), $"Entry {Quoted(entry.FullUrl)}isn't reachable by following references (forward or backward) from the Composition.", "bdl-document-orphan");
        }
    }

    private static string Quoted(string? fullUrl) => fullUrl is null ? "" : $"'{fullUrl}' ";

    /// <summary>
    /// An absolute link with a fragment (urn:uuid:...#section-1) that resolved to an entry must name one thing in it: the
    /// entry's resource id, an element id or an XHTML id in its narrative. Several matches are an error; none is an error
    /// for a narrativeLink extension (whose fragment is the narrative text the element came from) and not for other links,
    /// as the reference validator judges them. Reported once per link, at the Bundle.
    /// </summary>
    private static void CheckFragment(string reference, PocoNode link, Entry target, InstancePath bundlePath, HashSet<Base> reported, ValidationRun run)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        if (hash < 0 || hash == reference.Length - 1 || !HasScheme().IsMatch(reference) || target.Resource is null)
            return;
        var fragment = reference[(hash + 1)..];
        var matches = FragmentMatches(target.Resource, fragment);
        if (matches == 1 || matches == 0 && !IsNarrativeLinkValue(link) || !reported.Add(link.Poco))
            return;
        Error(run, bundlePath, matches == 0
            ? $"Can't find '{fragment}' in the entry '{reference[..hash]}': the narrative link names no id in it."
            : $"Found {matches} matches for fragment '{fragment}' in the entry '{reference[..hash]}'; a link must name one.", "bdl-fragment");
    }

    private const string NarrativeLinkUrl = "http://hl7.org/fhir/StructureDefinition/narrativeLink";

    private static bool IsNarrativeLinkValue(PocoNode link) =>
        link.Parent?.Poco is Extension extension && RawElements.Text(extension, "url") == NarrativeLinkUrl;

    /// <summary>How many things in the resource carry <paramref name="fragment"/> as id: the resource, its elements, and elements of its XHTML.</summary>
    private static int FragmentMatches(PocoNode resource, string fragment)
    {
        var count = 0;
        var pending = new Stack<PocoNode>();
        pending.Push(resource);
        while (pending.TryPop(out var node))
        {
            switch (node.Poco)
            {
                case Resource when RawElements.Text(node.Poco, "id") == fragment:
                case Element { ElementId: { } elementId } when elementId == fragment:
                    count++;
                    break;
                case XHtml { JsonValue: string xhtml }:
                    count += XhtmlIdMatches(xhtml, fragment);
                    break;
            }
            foreach (var group in node.Children())
            {
                foreach (var child in group)
                {
                    if (child.Poco is not null)
                        pending.Push(child);
                }
            }
        }
        return count;
    }

    private static int XhtmlIdMatches(string xhtml, string fragment)
    {
        try
        {
            return NarrativeXhtml.Parse(xhtml).DescendantsAndSelf().Count(e => (string?)e.Attribute("id") == fragment);
        }
        // XHTML that is not well-formed is the walk's finding; it names nothing.
        catch (System.Xml.XmlException)
        {
            return 0;
        }
    }

    private static void Reach(int start, Dictionary<int, List<int>> targets, HashSet<int> reached)
    {
        var pending = new Stack<int>();
        pending.Push(start);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (!reached.Add(next))
                continue;
            foreach (var target in targets.GetValueOrDefault(next) ?? [])
                pending.Push(target);
        }
    }

    /// <summary>
    /// Literal references of a resource (Reference.reference, and uri/url values that are not identifiers or
    /// definitions), not looking into nested Bundles; each distinct text once, as the reference validator collects them.
    /// </summary>
    private static IEnumerable<(string Reference, PocoNode Node)> References(PocoNode resource)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<PocoNode>();
        pending.Push(resource);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            foreach (var group in node.Children())
            {
                foreach (var child in group)
                {
                    switch (child.Poco)
                    {
                        case null:
                            continue;
                        case ResourceReference reference when RawElements.Text(reference, "reference") is { Length: > 0 } literal && !literal.StartsWith('#'):
                            if (seen.Add(literal))
                                yield return (literal, child);
                            break;
                        case FhirUri or FhirUrl when child.Poco is PrimitiveType { JsonValue: string uri } && uri.Length > 0 && !uri.StartsWith('#') && IsLinkUri(node, group.Name):
                            if (seen.Add(uri))
                                yield return (uri, child);
                            break;
                    }
                    if (child.Poco is not Bundle)
                        pending.Push(child);
                }
            }
        }
    }

    /// <summary>A uri or url that may point at an entry: not a code system, an identifier system, a profile, an extension's url or an endpoint.</summary>
    private static bool IsLinkUri(PocoNode parent, string name) =>
        name != "system" && !(name == "url" && parent.Poco is Extension) && !(name == "profile" && parent.Poco is Meta)
        && !(name == "endpoint" && parent.Poco.TypeName.StartsWith("MessageHeader", StringComparison.Ordinal))
        && !(name == "address" && parent.Poco is Endpoint);

    private static void CheckSearchSet(PocoNode bundle, List<Entry> entries, ValidationRun run)
    {
        var modes = entries.Select(e => RawElements.Text(RawElements.One<Base>(e.Node.Poco, "search"), "mode")).ToList();
        // Without any search mode the reference validator only warns; with modes, each entry is held to its own.
        if (modes.All(m => m is null))
            return;
        var types = SearchedTypes(bundle);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Resource is not { } resource)
            {
                Error(run, entry.Path, "A search set entry needs a resource.", "bdl-search");
                continue;
            }
            var resourcePath = entry.Path.Child("resource", 0, repeating: false);
            var id = RawElements.Text(resource.Poco, "id");
            switch (modes[i])
            {
                case "match":
                    if (id is null)
                        Error(run, resourcePath, "Search results must have ids.", "bdl-search");
                    if (types.Count > 0 && !types.Contains(resource.Poco.TypeName))
                        Error(run, resourcePath, $"{resource.Poco.TypeName} is not a type the search asked for ({string.Join(", ", types)}).", "bdl-search");
                    break;
                case "include":
                    if (id is null)
                        Error(run, resourcePath, "Search results must have ids.", "bdl-search");
                    break;
                case "outcome":
                    if (resource.Poco is not OperationOutcome)
                        Error(run, resourcePath, $"An entry with search mode 'outcome' must be an OperationOutcome, not {resource.Poco.TypeName}.", "bdl-search");
                    break;
            }
        }
    }

    /// <summary>The resource types the self link searched for: its last path segment, or its _type parameter.</summary>
    private static List<string> SearchedTypes(PocoNode bundle)
    {
        var self = Kids(bundle, "link").FirstOrDefault(l => RawElements.Text(l.Poco, "relation") == "self");
        if (self is null || RawElements.Text(self.Poco, "url") is not { } url)
            return [];
        var query = url.IndexOf('?', StringComparison.Ordinal);
        var head = (query >= 0 ? url[..query] : url).Split('/');
        if (head.Length > 0 && ResourceTypeNames.IsResourceType(head[^1]))
            return [head[^1]];
        if (query < 0)
            return [];
        return url[(query + 1)..].Split('&').Where(p => p.StartsWith("_type=", StringComparison.Ordinal))
            .SelectMany(p => p["_type=".Length..].Split(',')).ToList();
    }

    /// <summary>The items of a child element (none when absent).</summary>
    private static IEnumerable<PocoNode> Kids(PocoNode node, string name) => node.Child(name) is { } items ? items : [];

    /// <summary>
    /// Where a fullUrl finding is reported: on its entry; under <see cref="ValidationOptions.ReferenceValidatorBundleLocations"/>
    /// on the Bundle's first entry, where the reference validator reports every fullUrl finding. Line, column and
    /// <see cref="IssueLocation.Entry"/> stay those of the entry concerned.
    /// </summary>
    private static InstancePath FullUrlLocation(Entry entry, InstancePath bundlePath, ValidationRun run) =>
        run.Options.ReferenceValidatorBundleLocations
            ? entry.Path with { Expression = bundlePath.Child("entry", 0, repeating: true).Expression }
            : entry.Path;

    /// <summary>
    /// Where a document-rule finding (a Composition reference that does not resolve, an unreachable entry) is reported:
    /// at its element; under <see cref="ValidationOptions.ReferenceValidatorBundleLocations"/> with every index below the
    /// Bundle counted from 1, as the reference validator numbers them (Bundle.entry[1].resource.section[1].entry[1] for
    /// the first reference of the first section). Line, column and entry stay those of the element concerned.
    /// </summary>
    private static InstancePath DocumentLocation(InstancePath path, InstancePath bundlePath, ValidationRun run)
    {
        if (!run.Options.ReferenceValidatorBundleLocations)
            return path;
        var below = path.Expression[bundlePath.Expression.Length..];
        var oneBased = Index().Replace(below, m => $"[{int.Parse(m.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture) + 1}]");
        return path with { Expression = bundlePath.Expression + oneBased };
    }

    private static void Error(ValidationRun run, InstancePath path, string message, string rule) =>
        run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid, message, path, rule);

    private static void Warning(ValidationRun run, InstancePath path, string message, string rule) =>
        run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.BusinessRule, message, path, rule);

    private static void Report(ValidationRun run, OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType type, InstancePath path, string message, string rule) =>
        run.Report(severity, type, message, path, rule);

    /// <summary>The fullUrl a reference means: itself when absolute; relative ones against a RESTful fullUrl of the referring entry; otherwise none.</summary>
    public static string? AbsoluteReference(string reference, string? sourceFullUrl, string sourceType, string? sourceId)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
            reference = reference[..hash];
        if (HasScheme().IsMatch(reference))
            return reference;
        var own = $"{sourceType}/{sourceId}";
        return sourceFullUrl is not null && sourceId is not null && RestfulUrl().IsMatch(sourceFullUrl) && sourceFullUrl.EndsWith(own, StringComparison.Ordinal)
            ? sourceFullUrl[..^own.Length] + reference
            : null;
    }

    private enum Resolution { Found, NotFound, Multiple, Apparent, Outside }

    /// <summary>
    /// Resolution inside a Bundle by the fullUrl rules (bundle.html#references): an absolute reference matches a fullUrl
    /// (or fullUrl/_history/version); a relative one is made absolute against the referring entry's RESTful fullUrl. A
    /// relative reference that only matches an entry's type and id is not a match in R4.
    /// </summary>
    private sealed class Resolver
    {
        private readonly Dictionary<string, List<int>> _byFullUrl = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _byTypeAndId = new(StringComparer.Ordinal);

        public Resolver(List<Entry> entries)
        {
            foreach (var entry in entries)
            {
                if (entry.FullUrl is { } fullUrl)
                    Add(_byFullUrl, fullUrl, entry.Index);
                if (entry.Resource is not { } resource)
                    continue;
                var id = RawElements.Text(resource.Poco, "id");
                var typeAndId = id is null ? null : $"{resource.Poco.TypeName}/{id}";
                if (typeAndId is not null)
                    Add(_byTypeAndId, typeAndId, entry.Index);
                if (RawElements.Text(RawElements.One<Meta>(resource.Poco, "meta"), "versionId") is { } version)
                {
                    if (entry.FullUrl is { } versioned)
                        Add(_byFullUrl, $"{versioned}/_history/{version}", entry.Index);
                    if (typeAndId is not null)
                        Add(_byTypeAndId, $"{typeAndId}/_history/{version}", entry.Index);
                }
            }
        }

        private static void Add(Dictionary<string, List<int>> map, string key, int index)
        {
            if (!map.TryGetValue(key, out var list))
                map[key] = list = [];
            list.Add(index);
        }

        public (Resolution Outcome, int Target, int Count) Resolve(string reference, string? sourceFullUrl, string sourceType, string? sourceId)
        {
            var hash = reference.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
                reference = reference[..hash];
            if (HasScheme().IsMatch(reference))
            {
                if (_byFullUrl.TryGetValue(reference, out var matches))
                    return matches.Count == 1 ? (Resolution.Found, matches[0], 1) : (Resolution.Multiple, -1, matches.Count);
                var restful = RestfulUrl().Match(reference);
                return restful.Success && CanonicalTypes.Contains(restful.Groups[4].Value) || !reference.StartsWith("urn:", StringComparison.Ordinal) && !restful.Success
                    ? (Resolution.Outside, -1, 0)
                    : (Resolution.NotFound, -1, 0);
            }
            if (sourceFullUrl is not null && sourceId is not null && RestfulUrl().IsMatch(sourceFullUrl) && sourceFullUrl.EndsWith($"{sourceType}/{sourceId}", StringComparison.Ordinal))
            {
                var absolute = sourceFullUrl[..^$"{sourceType}/{sourceId}".Length] + reference;
                if (_byFullUrl.TryGetValue(absolute, out var matches))
                    return matches.Count == 1 ? (Resolution.Found, matches[0], 1) : (Resolution.Multiple, -1, matches.Count);
            }
            var parts = reference.Split('/');
            if (parts.Length < 2 || !ResourceTypeNames.IsResourceType(parts[0]))
                return (Resolution.Outside, -1, 0);
            return _byTypeAndId.TryGetValue($"{parts[0]}/{parts[1]}", out var apparent) ? (Resolution.Apparent, -1, apparent.Count) : (Resolution.NotFound, -1, 0);
        }
    }
}
