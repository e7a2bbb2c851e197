using FhirCaseService.Conformance.CoreDefinitions;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Conformance.Tests;

public sealed class CoreDefinitionsSourceTests
{
    private const string ObservationUrl = "http://hl7.org/fhir/StructureDefinition/Observation";

    [Fact]
    public void Opening_the_core_parses_no_resource()
    {
        var core = CoreDefinitionsSource.Open();

        Assert.Equal(0, core.ParseCount);
        Assert.True(core.Artifacts.Count > 4000);
    }

    [Fact]
    public void Resolving_Observation_parses_only_that_entry_and_caches_it()
    {
        var core = CoreDefinitionsSource.Open();

        var first = core.Resolve(ObservationUrl);
        var second = core.Resolve(ObservationUrl);

        var definition = Assert.IsType<StructureDefinition>(first);
        Assert.Equal("Observation", definition.Type);
        Assert.Equal(50, definition.Snapshot!.Element.Count);
        Assert.NotEmpty(definition.Differential!.Element);
        Assert.Same(first, second);
        Assert.Equal(1, core.ParseCount);
    }

    [Fact]
    public void A_versioned_canonical_resolves_to_that_version()
    {
        var core = CoreDefinitionsSource.Open();

        var definition = core.Resolve(ObservationUrl + "|4.0.1");

        Assert.IsType<StructureDefinition>(definition);
        Assert.Null(core.Resolve(ObservationUrl + "|3.0.2"));
    }

    [Fact]
    public void The_R4_publication_version_also_finds_terminology_value_sets_with_their_own_version()
    {
        var core = CoreDefinitionsSource.Open();

        var nullFlavor = Assert.IsType<ValueSet>(core.Resolve("http://terminology.hl7.org/ValueSet/v3-NullFlavor|4.0.1"));

        Assert.Equal("2018-08-12", nullFlavor.Version);
        Assert.Null(core.Resolve("http://terminology.hl7.org/ValueSet/v3-NullFlavor|2016-11-11"));
    }

    [Fact]
    public void A_canonical_with_two_versions_resolves_to_the_latest_without_a_version()
    {
        var core = CoreDefinitionsSource.Open();
        const string url = "http://terminology.hl7.org/CodeSystem/v2-0360";

        var latest = Assert.IsType<CodeSystem>(core.Resolve(url));
        var older = Assert.IsType<CodeSystem>(core.Resolve(url + "|2.3.1"));

        Assert.Equal("2.7", latest.Version);
        Assert.Equal("2.3.1", older.Version);
    }

    [Fact]
    public async Task Unknown_canonical_resolves_to_null_and_a_not_found_result()
    {
        var core = CoreDefinitionsSource.Open();

        var resolved = core.Resolve("http://example.org/StructureDefinition/nothing-here");
        var result = await core.TryResolveByCanonicalUriAsync("http://example.org/StructureDefinition/nothing-here");

        Assert.Null(resolved);
        Assert.False(result.Success);
        Assert.Null(result.Value);
        Assert.Equal(0, core.ParseCount);
    }

    [Fact]
    public void A_resource_resolves_by_its_relative_type_and_id()
    {
        var core = CoreDefinitionsSource.Open();

        var result = core.TryResolveByUri("ValueSet/administrative-gender");

        var valueSet = Assert.IsType<ValueSet>(result.Value);
        Assert.Equal("http://hl7.org/fhir/ValueSet/administrative-gender", valueSet.Url);
    }

    [Fact]
    public async Task Concurrent_resolution_of_one_canonical_parses_it_once()
    {
        var core = CoreDefinitionsSource.Open();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            Task.Run(() => core.Resolve("http://hl7.org/fhir/StructureDefinition/Patient"))));

        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Equal(1, core.ParseCount);
    }

    [Fact]
    public void Every_core_entry_deserializes_in_strict_mode_without_issues()
    {
        var core = CoreDefinitionsSource.Open();

        // In parallel: faster on a multi-core runner, and it exercises the archive lock.
        var parsed = core.Artifacts.AsParallel().Select(a => core.Resolve(a.VersionedCanonical)).ToList();

        Assert.All(parsed, Assert.NotNull);
        Assert.Empty(core.Issues);
        Assert.Equal(649, parsed.OfType<StructureDefinition>().Count());
        Assert.All(parsed.OfType<StructureDefinition>(), sd => Assert.NotEmpty(sd.Snapshot!.Element));
    }

    [Fact]
    public void The_index_describes_core_structure_definitions_without_parsing_them()
    {
        var core = CoreDefinitionsSource.Open();

        var observation = core.StructureDefinitions[ObservationUrl];
        var vitalSigns = core.StructureDefinitions["http://hl7.org/fhir/StructureDefinition/vitalsigns"];

        Assert.Equal(("Observation", "resource", "specialization", false),
            (observation.Type, observation.Kind, observation.Derivation, observation.IsAbstract));
        Assert.Equal(("Observation", "constraint"), (vitalSigns.Type, vitalSigns.Derivation));
        Assert.Equal(0, core.ParseCount);
    }

    [Fact]
    public void The_core_lists_canonicals_by_resource_type()
    {
        var core = CoreDefinitionsSource.Open();

        var structureDefinitions = core.ListCanonicals("StructureDefinition").ToList();

        Assert.Equal(649, structureDefinitions.Count);
        Assert.Contains("http://hl7.org/fhir/StructureDefinition/bodySite", structureDefinitions);
        Assert.Contains("http://hl7.org/fhir/ValueSet/administrative-gender", core.ListCanonicals("ValueSet"));
    }

    [Fact]
    public void The_core_archive_was_packed_from_the_specification_zip_the_build_restores()
    {
        var core = CoreDefinitionsSource.Open();
        var restored = Path.Combine(AppContext.BaseDirectory, "specification.zip");

        using var stream = File.OpenRead(restored);
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));

        // A package upgrade without `tools/regenerate-core-definitions.sh` fails here.
        Assert.Equal(digest, core.Provenance["sourceSha256"]);
    }

    [Fact]
    public void Provenance_names_the_official_specification_package_and_its_digest()
    {
        var core = CoreDefinitionsSource.Open();

        Assert.Equal("Hl7.Fhir.Specification.Data.R4", core.Provenance["package"]);
        Assert.Equal("6.8.0", core.Provenance["packageVersion"]);
        Assert.Equal("4.0.1", core.Provenance["version"]);
        Assert.Equal(64, core.Provenance["sourceSha256"].Length);
    }

    [Fact]
    public void Search_parameters_for_Observation_include_code_with_its_expression()
    {
        var core = CoreDefinitionsSource.Open();

        var parameters = core.SearchParametersFor("Observation");

        var code = Assert.Single(parameters, p => p.Code == "code");
        // Core R4 shares one "code" parameter across resources; the Observation part is one branch of the union.
        Assert.Contains("Observation.code", code.Expression!.Split(" | "));
        Assert.Equal(SearchParamType.Token, code.Type);
        Assert.Contains(parameters, p => p.Code == "_lastUpdated");
        Assert.DoesNotContain(core.SearchParametersFor("Observation", includeInherited: false), p => p.Code == "_lastUpdated");
    }
}
