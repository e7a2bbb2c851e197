using FhirCaseService.Conformance;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Validators;
using FhirCaseService.Validation.Tests.Engine;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Schema;

/// <summary>
/// The type link (what a node is checked against after its element's own rules) is compiled per declared type: these
/// tests read the compiled links of core and profile schemas, and what an element links an instance of a given type to.
/// </summary>
public sealed class TypeLinkTests
{
    private static readonly Lazy<SchemaRepository> Schemas = new(() => new SchemaRepository(ConformanceContext.CreateDefault().Snapshots));

    private static async Task<ElementSchema> ElementAsync(string canonical, string id)
    {
        var lookup = await Schemas.Value.GetAsync(canonical);
        Assert.NotNull(lookup.Schema);
        return Find(lookup.Schema!.Root, id) ?? throw new Xunit.Sdk.XunitException($"{canonical} has no element {id}");
    }

    private static ElementSchema? Find(ElementSchema element, string id)
    {
        if (element.Id == id)
            return element;
        foreach (var child in element.Children.Concat(element.Slicing?.Slices ?? []))
        {
            if (Find(child, id) is { } found)
                return found;
        }
        return null;
    }

    private static TypeReference Type(ElementSchema element, string code) => Assert.Single(element.Types, t => t.Code == code);

    [Fact]
    public async Task A_datatype_links_to_its_core_definition_compiled_once_per_type_name()
    {
        var code = Type(await ElementAsync(SchemaRepository.CoreUrl("Observation"), "Observation.code"), "CodeableConcept");
        var category = Type(await ElementAsync(SchemaRepository.CoreUrl("Observation"), "Observation.category"), "CodeableConcept");
        var conditionCode = Type(await ElementAsync(SchemaRepository.CoreUrl("Condition"), "Condition.code"), "CodeableConcept");

        var link = Assert.IsType<CoreTypeLink>(code.Link);
        Assert.Equal(SchemaRepository.CoreUrl("CodeableConcept"), link.Canonical);
        Assert.Null(link.Reference);
        // A plain type's link is one object in the process, whichever element or schema declares the type.
        Assert.Same(link, category.Link);
        Assert.Same(link, conditionCode.Link);
    }

    [Fact]
    public async Task A_reference_links_its_compiled_targets_and_then_core_Reference()
    {
        var subject = Type(await ElementAsync(SchemaRepository.CoreUrl("Observation"), "Observation.subject"), "Reference");

        var link = Assert.IsType<CoreTypeLink>(subject.Link);
        Assert.Equal(SchemaRepository.CoreUrl("Reference"), link.Canonical);
        Assert.NotNull(subject.Reference);
        Assert.False(subject.Reference!.IsUnconstrained);
        Assert.Same(subject.Reference, link.Reference);
    }

    [Fact]
    public async Task Resources_extensions_and_profiled_types_get_links_of_their_own()
    {
        var entryResource = Type(await ElementAsync(SchemaRepository.CoreUrl("Bundle"), "Bundle.entry.resource"), "Resource");
        var contained = Type(await ElementAsync(SchemaRepository.CoreUrl("Observation"), "Observation.contained"), "Resource");
        var extension = Type(await ElementAsync(SchemaRepository.CoreUrl("Observation"), "Observation.extension"), "Extension");
        var sliced = Type(await ElementAsync(EngineTestSupport.Profiles + "fhircase-mrd", "Observation.extension:limitOfDetection"), "Extension");

        Assert.True(Assert.IsType<ResourceLink>(entryResource.Link).IsBundleEntryResource);
        Assert.False(Assert.IsType<ResourceLink>(contained.Link).IsBundleEntryResource);
        Assert.IsType<ExtensionLink>(extension.Link);
        var profiled = Assert.IsType<ProfiledTypeLink>(sliced.Link);
        Assert.Equal([EngineTestSupport.Profiles + "mrd-limit-of-detection"], profiled.Profiles);
    }

    [Fact]
    public async Task An_element_links_an_instance_by_the_type_it_matches()
    {
        var entryResource = await ElementAsync(SchemaRepository.CoreUrl("Bundle"), "Bundle.entry.resource");
        var code = await ElementAsync(SchemaRepository.CoreUrl("Observation"), "Observation.code");
        var url = await ElementAsync(SchemaRepository.CoreUrl("Extension"), "Extension.url");

        // Resource wildcard: the declared type's compiled link.
        Assert.Same(Type(entryResource, "Resource").Link, entryResource.LinkFor(new Patient()));
        Assert.Same(Type(code, "CodeableConcept").Link, code.LinkFor(new CodeableConcept()));
        // A type the element does not allow links to nothing (the type check has reported it).
        Assert.Null(code.LinkFor(new FhirString("x")));
        // Extension.url is declared System.String: the instance's own type (uri) names the definition it is walked against
        // when it has an id or extensions, not the wildcard.
        Assert.StartsWith("http://hl7.org/fhirpath/System.", Assert.Single(url.Types).Code, StringComparison.Ordinal);
        Assert.Equal(SchemaRepository.CoreUrl("uri"), Assert.IsType<CoreTypeLink>(url.LinkFor(new FhirUri("urn:x"))).Canonical);
    }
}
