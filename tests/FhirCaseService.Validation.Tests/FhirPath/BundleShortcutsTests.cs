using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests.FhirPath;

/// <summary>
/// The Bundle rules bdl-3, 4, 5, 7 and 8 are answered without the FHIRPath engine when the Bundle makes the answer plain
/// (KnownShortcuts). A shortcut may only say "holds": over a grid of Bundles (every type, none, entries with and without
/// request, response, resource and fullUrl, repeated fullUrls with and without versions, history URLs), wherever it says
/// so the engine must agree, and it must decide most of the Bundles where the engine says "holds" (else the speed-up
/// would be nothing, and this test would pass by deciding nothing).
/// </summary>
public sealed class BundleShortcutsTests
{
    public static TheoryData<string, string, bool> Rules() => new()
    {
        { "bdl-3", "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))", false },
        { "bdl-4", "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))", false },
        { "bdl-5", "resource.exists() or request.exists() or response.exists()", true },
        { "bdl-7", "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()", false },
        { "bdl-8", "fullUrl.contains('/_history/').not()", true },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Shortcut_says_holds_only_where_the_engine_says_holds(string key, string expression, bool onEntries)
    {
        var shortcut = KnownShortcuts.For(key, expression);
        Assert.NotNull(shortcut);
        var compiled = FhirPathCache.Get(expression).Compiled;
        Assert.NotNull(compiled);
        var (engineHolds, decided, wrong) = (0, 0, new List<string>());
        foreach (var (description, bundle) in Bundles())
        {
            var root = bundle.ToPocoNode(ModelInfo.ModelInspector);
            var nodes = onEntries ? root.Children().Where(g => g.Name == "entry").SelectMany(g => g).ToList() : [root];
            foreach (var (node, index) in nodes.Select((n, i) => (n, i)))
            {
                var result = compiled([node], new FhirEvaluationContext { Resource = root, RootResource = root }).ToList();
                var holds = result.Count != 1 || result[0].Poco is not PrimitiveType { JsonValue: bool value } || value;
                engineHolds += holds ? 1 : 0;
                if (!shortcut(node))
                    continue;
                decided++;
                if (!holds)
                    wrong.Add($"{description}{(onEntries ? $", entry {index}" : "")}: shortcut holds, engine fails");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(decided >= engineHolds * 3 / 4, $"{key}: the shortcut decided {decided} of the {engineHolds} cases that hold");
        Assert.True(engineHolds > 0, "the grid must hold cases that hold");
    }

    [Fact]
    public void Other_bundle_expressions_get_no_shortcut()
    {
        Assert.Null(KnownShortcuts.For("bdl-3", "entry.all(request.exists())"));
        Assert.Null(KnownShortcuts.For("bdl-9", "type = 'document' implies (identifier.system.exists() and identifier.value.exists())"));
    }

    private static IEnumerable<(string, Bundle)> Bundles()
    {
        Bundle.BundleType?[] types = [null, Bundle.BundleType.Transaction, Bundle.BundleType.Batch, Bundle.BundleType.History,
            Bundle.BundleType.TransactionResponse, Bundle.BundleType.BatchResponse, Bundle.BundleType.Collection, Bundle.BundleType.Searchset];
        foreach (var type in types)
        {
            foreach (var (shape, entries) in EntryShapes())
                yield return ($"{type?.ToString() ?? "no type"}, {shape}", new Bundle { Type = type, Entry = entries() });
        }
    }

    private static IEnumerable<(string, Func<List<Bundle.EntryComponent>>)> EntryShapes()
    {
        Bundle.EntryComponent Entry(string? fullUrl, string? version = null, bool request = false, bool response = false, bool resource = true) => new()
        {
            FullUrl = fullUrl,
            Resource = resource ? new Patient { Meta = version is null ? null : new Meta { VersionId = version } } : null,
            Request = request ? new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" } : null,
            Response = response ? new Bundle.ResponseComponent { Status = "201 Created" } : null,
        };
        yield return ("no entries", () => []);
        yield return ("plain entries", () => [Entry("urn:uuid:1"), Entry("urn:uuid:2")]);
        yield return ("entries with requests", () => [Entry("urn:uuid:1", request: true), Entry("urn:uuid:2", request: true)]);
        yield return ("entries with responses", () => [Entry("urn:uuid:1", response: true), Entry("urn:uuid:2", response: true)]);
        yield return ("one request of two", () => [Entry("urn:uuid:1", request: true), Entry("urn:uuid:2")]);
        yield return ("request and response", () => [Entry("urn:uuid:1", request: true, response: true)]);
        yield return ("empty entry", () => [Entry(null, resource: false)]);
        yield return ("entry with only a request", () => [Entry(null, request: true, resource: false)]);
        yield return ("no fullUrls", () => [Entry(null), Entry(null)]);
        yield return ("repeated fullUrl", () => [Entry("urn:uuid:1"), Entry("urn:uuid:1")]);
        yield return ("repeated fullUrl, other versions", () => [Entry("http://x.org/Patient/1", "1"), Entry("http://x.org/Patient/1", "2")]);
        yield return ("repeated fullUrl, same version", () => [Entry("http://x.org/Patient/1", "1"), Entry("http://x.org/Patient/1", "1")]);
        yield return ("fullUrl and version that join alike", () => [Entry("urn:uuid:11"), Entry("urn:uuid:1", "1")]);
        yield return ("history fullUrl", () => [Entry("http://x.org/Patient/1/_history/2"), Entry("urn:uuid:2")]);
        yield return ("fullUrl with only an extension", () =>
        [
            new Bundle.EntryComponent { FullUrlElement = new FhirUri { Extension = [new Extension("http://x.org/e", new FhirString("a"))] }, Resource = new Patient() },
            Entry("urn:uuid:2"),
        ]);
    }
}
