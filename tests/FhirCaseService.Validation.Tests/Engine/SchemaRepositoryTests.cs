using FhirCaseService.Validation.Schema;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class SchemaRepositoryTests
{
    [Fact]
    public async Task Snapshot_compiles_into_a_tree_with_slices_under_their_element()
    {
        var schema = (await EngineTestSupport.Validator.Schemas.GetAsync(EngineTestSupport.Profiles + "fhircase-patient")).Schema!;

        var identifier = schema.Root.ChildrenByName["identifier"];
        var pseudonym = Assert.Single(identifier.Slicing!.Slices);
        Assert.Equal("pseudonym", pseudonym.SliceName);
        Assert.Equal((1, 1), (pseudonym.Min, pseudonym.Max));
        Assert.Equal(DiscriminatorKind.Value, Assert.Single(identifier.Slicing.Discriminators).Kind);
        Assert.Equal(0, schema.Root.ChildrenByName["name"].Max);
    }

    [Fact]
    public async Task Unknown_canonical_gives_a_reason_instead_of_a_schema()
    {
        var lookup = await EngineTestSupport.Validator.Schemas.GetAsync("http://example.org/fhir/StructureDefinition/none");

        Assert.Null(lookup.Schema);
        Assert.Contains("none", lookup.Problem);
    }
}
