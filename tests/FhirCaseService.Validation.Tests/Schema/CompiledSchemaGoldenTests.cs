using System.Text.Json;
using FhirCaseService.TestSupport;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Tests.Engine;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Schema;

/// <summary>
/// What each StructureDefinition of profiles/ (our ten profiles and their extensions) compiles into, as a golden JSON dump
/// (Golden/compiled-schemas/&lt;id&gt;.json): a change to the compile step shows as a readable diff of these files.
/// </summary>
public sealed class CompiledSchemaGoldenTests
{
    private const string GoldenFolder = "tests/FhirCaseService.Validation.Tests/Golden/compiled-schemas";

    /// <summary>The id and canonical URL of every StructureDefinition in profiles/.</summary>
    private static IReadOnlyList<(string Id, string Url)> OurDefinitions { get; } = Directory
        .EnumerateFiles(RepositoryRoot.Combine("profiles"), "StructureDefinition-*.json")
        .Select(file =>
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            return (document.RootElement.GetProperty("id").GetString()!, document.RootElement.GetProperty("url").GetString()!);
        })
        .OrderBy(d => d.Item1, StringComparer.Ordinal)
        .ToList();

    public static TheoryData<string> DefinitionIds => new(OurDefinitions.Select(d => d.Id));

    [Theory]
    [MemberData(nameof(DefinitionIds))]
    public async Task Compiled_schema_matches_its_golden_dump(string id)
    {
        var schema = await CompileAsync(OurDefinitions.Single(d => d.Id == id).Url);

        GoldenFile.AssertMatches($"{GoldenFolder}/{id}.json", SchemaDump.ToJson(schema));
    }

    [Fact]
    public void Every_golden_dump_belongs_to_a_definition_in_profiles()
    {
        var ids = OurDefinitions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var goldens = Directory.EnumerateFiles(RepositoryRoot.Combine(GoldenFolder.Split('/')), "*.json").Select(Path.GetFileNameWithoutExtension);

        Assert.All(goldens, g => Assert.True(ids.Contains(g!), $"{GoldenFolder}/{g}.json has no StructureDefinition in profiles/: delete it."));
        Assert.True(ids.Count >= 10, $"profiles/ should hold our ten profiles and their extensions; found {ids.Count} definitions.");
    }

    [Fact]
    public async Task Two_compilations_of_one_snapshot_dump_to_the_same_bytes()
    {
        var snapshot = await EngineTestSupport.Validator.Schemas.GetAsync(EngineTestSupport.Profiles + "fhircase-mrd");
        var definition = (await Conformance.ConformanceContext.CreateDefault().Snapshots.GetAsync(EngineTestSupport.Profiles + "fhircase-mrd"))!.Definition;

        Assert.Equal(SchemaDump.ToJson(snapshot.Schema!), SchemaDump.ToJson(SchemaCompiler.Compile(definition)));
    }

    /// <summary>The golden comparison can fail: a changed rule in the snapshot changes the dump exactly where that rule is.</summary>
    [Fact]
    public async Task A_changed_rule_shows_in_the_dump_at_its_element()
    {
        var snapshot = (await Conformance.ConformanceContext.CreateDefault().Snapshots.GetAsync(EngineTestSupport.Profiles + "fhircase-patient"))!.Definition;
        var weakerBinding = (StructureDefinition)snapshot.DeepCopy();
        weakerBinding.Snapshot!.Element.Single(e => e.Path == "Patient.gender").Binding!.Strength = BindingStrength.Extensible;
        var shorterId = (StructureDefinition)snapshot.DeepCopy();
        shorterId.Snapshot!.Element.Single(e => e.Path == "Patient.id").MaxLength = 32;
        var golden = SchemaDump.ToJson(SchemaCompiler.Compile(snapshot));

        var bindingDiff = GoldenFile.Diff(golden, SchemaDump.ToJson(SchemaCompiler.Compile(weakerBinding)));
        var idDiff = GoldenFile.Diff(golden, SchemaDump.ToJson(SchemaCompiler.Compile(shorterId)));

        Assert.Contains("- ", bindingDiff);
        Assert.Contains("+ ", bindingDiff);
        Assert.Contains("\"strength\": \"Extensible\"", bindingDiff);
        Assert.Contains("\"maxLength\": 32", idDiff);
    }

    [Fact]
    public async Task Dump_names_element_rules_with_their_parameters()
    {
        using var dump = JsonDocument.Parse(SchemaDump.ToJson(await CompileAsync(EngineTestSupport.Profiles + "fhircase-patient")));
        var elements = Flatten(dump.RootElement.GetProperty("root")).ToList();

        var gender = elements.Single(e => e.GetProperty("id").GetString() == "Patient.gender");
        Assert.Equal("1..1", gender.GetProperty("cardinality").GetString());
        var binding = gender.GetProperty("validators").EnumerateArray().Single(v => v.GetProperty("kind").GetString() == "Binding");
        Assert.Equal("Required", binding.GetProperty("strength").GetString());
        Assert.Equal("http://hl7.org/fhir/ValueSet/administrative-gender", binding.GetProperty("valueSet").GetString());

        var identifier = elements.Single(e => e.GetProperty("id").GetString() == "Patient.identifier");
        var slicing = identifier.GetProperty("slicing");
        Assert.Equal("pseudonym", slicing.GetProperty("slices")[0].GetProperty("sliceName").GetString());

        var invariants = elements.Single(e => e.GetProperty("id").GetString() == "Patient").GetProperty("validators").EnumerateArray()
            .Where(v => v.GetProperty("kind").GetString() == "FhirPathInvariant").ToList();
        var own = invariants.Single(v => v.GetProperty("key").GetString() == "fhircase-patient-1");
        Assert.False(string.IsNullOrEmpty(own.GetProperty("expression").GetString()));
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement element)
    {
        yield return element;
        if (element.TryGetProperty("children", out var children))
            foreach (var child in children.EnumerateArray().SelectMany(Flatten))
                yield return child;
        if (element.TryGetProperty("slicing", out var slicing))
            foreach (var slice in slicing.GetProperty("slices").EnumerateArray().SelectMany(Flatten))
                yield return slice;
    }

    private static async Task<StructureSchema> CompileAsync(string url)
    {
        var lookup = await EngineTestSupport.Validator.Schemas.GetAsync(url);
        Assert.True(lookup.Schema is not null, lookup.Problem);
        Assert.True(lookup.Problem is null, lookup.Problem);
        return lookup.Schema;
    }
}
