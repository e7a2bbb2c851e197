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

    [Fact]
    public async Task ContentReference_is_resolved_at_compile_time_to_the_element_it_names()
    {
        var schema = (await EngineTestSupport.Validator.Schemas.GetAsync("http://hl7.org/fhir/StructureDefinition/Questionnaire")).Schema!;

        var item = schema.Root.ChildrenByName["item"];
        var nested = item.ChildrenByName["item"];
        Assert.Equal("#Questionnaire.item", nested.ContentReference);
        Assert.Same(item, nested.Content);
        Assert.Same(item, item.Content);
    }

    [Fact]
    public async Task Type_choice_is_compiled_into_a_lookup_with_the_wildcards_of_the_definitions()
    {
        var observation = (await EngineTestSupport.Validator.Schemas.GetAsync("http://hl7.org/fhir/StructureDefinition/Observation")).Schema!;
        var bundle = (await EngineTestSupport.Validator.Schemas.GetAsync("http://hl7.org/fhir/StructureDefinition/Bundle")).Schema!;

        var value = observation.Root.ChildrenByName["value"].TypeChoice;
        Assert.Equal("Quantity", value.Resolve("Quantity")?.Code);
        Assert.Null(value.Resolve("Reference"));
        Assert.False(value.IsUntyped);
        var component = observation.Root.ChildrenByName["component"].TypeChoice;
        Assert.Equal("BackboneElement", component.Resolve("Observation.component")?.Code);
        var resource = bundle.Root.ChildrenByName["entry"].ChildrenByName["resource"].TypeChoice;
        Assert.Equal("Resource", resource.Resolve("Patient")?.Code);
        Assert.Null(resource.Resolve("HumanName"));
        Assert.True(observation.Root.TypeChoice.IsUntyped);
    }

    [Fact]
    public async Task Slicing_discriminators_are_compiled_into_tests_per_slice()
    {
        var schema = (await EngineTestSupport.Validator.Schemas.GetAsync(EngineTestSupport.Profiles + "fhircase-mrd")).Schema!;

        var extensions = schema.Root.ChildrenByName["extension"].Slicing!;
        Assert.NotNull(extensions.SliceByUrl);
        Assert.Equal(0, extensions.SliceByUrl!["https://fhircase.example.org/fhir/StructureDefinition/mrd-limit-of-detection"]);
        var category = schema.Root.ChildrenByName["category"].Slicing!;
        Assert.Null(category.SliceByUrl);
        var laboratory = Assert.Single(category.CompiledSlices, s => s.Element.SliceName == "laboratory");
        var test = Assert.IsType<FhirCaseService.Validation.Schema.Slicing.ExpectedValueTest>(Assert.Single(laboratory.Tests));
        Assert.IsType<FhirCaseService.Validation.Schema.Validators.PatternValidator>(test.Expected);
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
