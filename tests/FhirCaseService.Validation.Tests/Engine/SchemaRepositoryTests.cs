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
    public async Task Cardinality_is_compiled_per_element_with_its_label_source_and_rule()
    {
        const string canonical = EngineTestSupport.Profiles + "fhircase-patient";
        var schema = (await EngineTestSupport.Validator.Schemas.GetAsync(canonical)).Schema!;

        var identifier = schema.Root.ChildrenByName["identifier"];
        var pseudonym = identifier.Slicing!.Slices[0].Cardinality;
        var name = schema.Root.ChildrenByName["name"].Cardinality;
        Assert.Equal(("Slice Patient.identifier:pseudonym", "1..1", canonical), (pseudonym.Label, pseudonym.Text, pseudonym.Source));
        Assert.Equal(("Patient.name", "0..0"), (name.Label, name.Text));
        Assert.False(name.IsUnconstrained);
        Assert.True(schema.Root.ChildrenByName["link"].Cardinality.IsUnconstrained);
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(2, 1)]
    public void Cardinality_validator_refuses_an_impossible_range(int min, int? max) =>
        Assert.ThrowsAny<ArgumentException>(() => new FhirCaseService.Validation.Schema.Validators.CardinalityValidator(min, max, "Patient.name", "", isSlice: false));

    [Fact]
    public async Task Unknown_canonical_gives_a_reason_instead_of_a_schema()
    {
        var lookup = await EngineTestSupport.Validator.Schemas.GetAsync("http://example.org/fhir/StructureDefinition/none");

        Assert.Null(lookup.Schema);
        Assert.Contains("none", lookup.Problem);
    }
}
