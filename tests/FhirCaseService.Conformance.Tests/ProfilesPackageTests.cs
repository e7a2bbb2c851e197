using System.Text.Json;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.FhirPath;

namespace FhirCaseService.Conformance.Tests;

/// <summary>
/// Our FHIR package (profiles/, embedded in the Conformance assembly) against its own promises:
/// snapshots generate cleanly from the differentials, every invariant compiles and means what its
/// text says, and the examples in examples/ agree with the profiles they claim.
/// </summary>
public sealed class ProfilesPackageTests
{
    private const string Canonical = "https://fhircase.example.org/fhir";

    private static FhirPackage Package => BundledPackages.FhirCaseProfiles();

    // One context for the class: snapshots and expansions are computed once per canonical.
    private static readonly Lazy<ConformanceContext> Context = new(ConformanceContext.CreateDefault);

    public static TheoryData<string> StructureDefinitionUrls() =>
        new(Package.Source.Artifacts.Where(a => a.ResourceType == "StructureDefinition").Select(a => a.Url).Order(StringComparer.Ordinal));

    [Fact]
    public void Manifest_names_the_package_its_canonical_base_and_the_R4_core_dependency()
    {
        var manifest = Package.Manifest;

        Assert.NotNull(manifest);
        Assert.Equal("fhircase.bcpall", manifest.Name);
        Assert.Equal("0.1.0", manifest.Version);
        Assert.Equal(Canonical, manifest.Canonical);
        Assert.Equal(["4.0.1"], manifest.FhirVersions);
        Assert.Equal("4.0.1", manifest.Dependencies["hl7.fhir.r4.core"]);
    }

    [Fact]
    public void Every_artifact_url_is_the_canonical_base_then_its_type_and_id()
    {
        var artifacts = Package.Source.Artifacts;

        Assert.True(artifacts.Count >= 30, $"expected the package's profiles, extensions, value sets and code systems, found {artifacts.Count}");
        Assert.All(artifacts, a => Assert.Equal($"{Canonical}/{a.ResourceType}/{a.Id}", a.Url));
        Assert.All(artifacts, a => Assert.Equal($"{a.ResourceType}-{a.Id}.json", a.Location.Split('/', '\\')[^1]));
    }

    [Theory]
    [MemberData(nameof(StructureDefinitionUrls))]
    public async System.Threading.Tasks.Task Snapshot_is_generated_from_the_differential_without_errors(string url)
    {
        var result = await Context.Value.Snapshots.GetAsync(url);

        Assert.NotNull(result);
        var errors = result.Issues
            .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => $"{i.Details?.Text} at {string.Join(",", i.Location)}");
        Assert.Empty(errors);
        var definition = result.Definition;
        var snapshot = Assert.IsType<StructureDefinition.SnapshotComponent>(definition.Snapshot).Element;
        Assert.True(snapshot.Count > definition.Differential!.Element.Count);
        Assert.All(definition.Differential!.Element, d => Assert.Contains(snapshot, s => s.ElementId == d.ElementId));
    }

    public static TheoryData<string> ValueSetUrls() =>
        new(Package.Source.Artifacts.Where(a => a.ResourceType == "ValueSet").Select(a => a.Url).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(ValueSetUrls))]
    public async System.Threading.Tasks.Task Value_set_expands_completely_with_local_terminology(string url)
    {
        // Our bindings must be checkable offline: every value set enumerates its codes.
        var expansion = await Context.Value.Terminology.ExpandAsync(url);

        Assert.NotNull(expansion);
        Assert.True(expansion.IsComplete, string.Join("; ", expansion.OpenParts.Select(p => $"{p.System}: {p.Reason}")));
        Assert.NotEmpty(expansion.Concepts);
    }

    [Theory]
    [MemberData(nameof(StructureDefinitionUrls))]
    public void Every_invariant_compiles_and_reads_as_an_error_a_data_manager_can_act_on(string url)
    {
        var definition = (StructureDefinition)Package.Source.Resolve(url)!;
        var compiler = new FhirPathCompiler();

        foreach (var constraint in definition.Differential!.Element.SelectMany(e => e.Constraint))
        {
            Assert.Matches("^fhircase-[a-z0-9]+-[0-9]+$", constraint.Key);
            Assert.Equal(ConstraintSeverity.Error, constraint.Severity);
            Assert.False(string.IsNullOrWhiteSpace(constraint.Human), $"{constraint.Key} has no human text");
            Assert.Equal(url, constraint.Source);
            var exception = Record.Exception(() => compiler.Compile(constraint.Expression));
            Assert.Null(exception);
        }
    }

    [Fact]
    public void Extensions_declare_where_they_may_be_used_and_fix_their_own_url()
    {
        var extensions = Package.Source.Artifacts
            .Where(a => a.ResourceType == "StructureDefinition")
            .Select(a => (StructureDefinition)Package.Source.Resolve(a.Url)!)
            .Where(sd => sd.Type == "Extension")
            .ToList();

        Assert.True(extensions.Count >= 2);
        Assert.All(extensions, sd =>
        {
            Assert.NotEmpty(sd.Context);
            Assert.All(sd.Context, c => Assert.Equal(StructureDefinition.ExtensionContextType.Element, c.Type));
            var url = sd.Differential!.Element.Single(e => e.ElementId == "Extension.url");
            Assert.Equal(sd.Url, Assert.IsType<FhirUri>(url.Fixed).Value);
        });
    }

    [Fact]
    public void Every_code_a_value_set_takes_from_our_code_systems_is_defined_there()
    {
        var ourCodeSystems = Package.Source.Artifacts
            .Where(a => a.ResourceType == "CodeSystem")
            .Select(a => (CodeSystem)Package.Source.Resolve(a.Url)!)
            .ToDictionary(cs => cs.Url!, cs => cs.Concept.Select(c => c.Code).ToHashSet(StringComparer.Ordinal));
        var valueSets = Package.Source.Artifacts
            .Where(a => a.ResourceType == "ValueSet")
            .Select(a => (ValueSet)Package.Source.Resolve(a.Url)!);

        foreach (var include in valueSets.SelectMany(vs => vs.Compose!.Include).Where(i => ourCodeSystems.ContainsKey(i.System!)))
        {
            Assert.All(include.Concept, c => Assert.Contains(c.Code, ourCodeSystems[include.System!]));
        }
    }

    // ---- Invariants proven on small instances: each key has cases that must pass and cases that must fail.

    public static TheoryData<InvariantCase> InvariantCases() => new(Cases);

    private static readonly InvariantCase[] Cases =
    [
        new("fhircase-patient-1", "birth year only", true, Patient(birthDate: "2012")),
        new("fhircase-patient-1", "birth year and month", true, Patient(birthDate: "2012-03")),
        new("fhircase-patient-1", "full birth date", false, Patient(birthDate: "2012-03-14")),
        new("fhircase-patient-2", "alive", true, Patient(birthDate: "2012-03")),
        new("fhircase-patient-2", "died years after birth", true, Patient(birthDate: "2012-03", deceased: "2020-05-01")),
        new("fhircase-patient-2", "died in the birth month (undecidable at month precision)", true, Patient(birthDate: "2012-03", deceased: "2012-03-20")),
        new("fhircase-patient-2", "died before birth", false, Patient(birthDate: "2012-03", deceased: "2011-11-02")),
        new("fhircase-status-1", "value present", true, DiseaseStatus(Sct("103338009"))),
        new("fhircase-status-1", "data absent reason instead of value", true, DiseaseStatus(null, dataAbsent: true)),
        new("fhircase-status-1", "neither value nor reason", false, DiseaseStatus(null)),
        new("fhircase-status-2", "relapse with a site", true, DiseaseStatus(Sct("263855007"), relapseSite: true)),
        new("fhircase-status-2", "remission without a site", true, DiseaseStatus(Sct("103338009"))),
        new("fhircase-status-2", "relapse without a site", false, DiseaseStatus(Sct("263855007"))),
        new("fhircase-mrd-1", "0.05 %", true, Mrd(Percent(0.05m))),
        new("fhircase-mrd-1", "100 %, the upper bound", true, Mrd(Percent(100m))),
        new("fhircase-mrd-1", "qualitative value", true, Mrd(Interpretation("DET"))),
        new("fhircase-mrd-1", "140 %", false, Mrd(Percent(140m))),
        new("fhircase-mrd-1", "negative percent", false, Mrd(Percent(-1m))),
        new("fhircase-mrd-1", "fraction not in UCUM %", false, Mrd(Ucum(0.1m, "10*-3"))),
        new("fhircase-mrd-2", "not detected with limit of detection", true, Mrd(Interpretation("ND"), limitOfDetection: true)),
        new("fhircase-mrd-2", "detected without limit of detection", true, Mrd(Interpretation("DET"))),
        new("fhircase-mrd-2", "not detected without limit of detection", false, Mrd(Interpretation("ND"))),
        new("fhircase-cd22-1", "92 % of blasts", true, Antigen(Percent(92m))),
        new("fhircase-cd22-1", "no percentage, interpretation only", true, Antigen(null)),
        new("fhircase-cd22-1", "120 % of blasts", false, Antigen(Percent(120m))),
        new("fhircase-cd19-1", "85 % of blasts", true, Antigen(Percent(85m))),
        new("fhircase-cd19-1", "-5 % of blasts", false, Antigen(Percent(-5m))),
        new("fhircase-ino-1", "0.8 mg/m2", true, Ino(Ucum(0.8m, "mg/m2"))),
        new("fhircase-ino-1", "1.2 mg (flat dose)", false, Ino(Ucum(1.2m, "mg"))),
        new("fhircase-ino-2", "0.5 mg/m2", true, Ino(Ucum(0.5m, "mg/m2"))),
        new("fhircase-ino-2", "0.8 mg/m2, the labelled maximum", true, Ino(Ucum(0.8m, "mg/m2"))),
        new("fhircase-ino-2", "flat dose left to fhircase-ino-1", true, Ino(Ucum(1.2m, "mg"))),
        new("fhircase-ino-2", "1.8 mg/m2 (a cycle total as one dose)", false, Ino(Ucum(1.8m, "mg/m2"))),
        new("fhircase-ino-2", "dose not reported, with a data-absent-reason", true, Ino(NotReportedDose())),
        new("fhircase-ino-2", "dose without a value and without a reason", false, Ino(new Quantity { System = "http://unitsofmeasure.org", Code = "mg/m2", Unit = "mg/m2" })),
    ];

    [Theory]
    [MemberData(nameof(InvariantCases))]
    public void Invariant_holds_exactly_when_the_instance_is_plausible(InvariantCase example)
    {
        var expression = InvariantExpressions.Value[example.Key];

        Assert.Equal(example.Holds, example.Instance.Predicate(expression));
    }

    [Fact]
    public void Every_invariant_of_the_package_has_passing_and_failing_cases()
    {
        Assert.All(InvariantExpressions.Value.Keys, key =>
        {
            Assert.Contains(Cases, c => c.Key == key && c.Holds);
            Assert.Contains(Cases, c => c.Key == key && !c.Holds);
        });
    }

    // ---- examples/: valid resources satisfy their profile's invariants; each invalid one breaks its own rule.

    public static TheoryData<string> ValidExampleFiles() => new(ExampleFileNames("resources"));

    public static TheoryData<string> InvalidExampleFiles() => new(ExampleFileNames("invalid"));

    [Theory]
    [MemberData(nameof(ValidExampleFiles))]
    public void Valid_example_claims_one_of_our_profiles_and_satisfies_its_invariants(string fileName)
    {
        var resource = ReadResource(Path.Combine(RepositoryRoot.Path, "examples", "resources", fileName));
        var profile = ClaimedProfile(resource);

        Assert.Equal($"{resource.TypeName}-{resource.Id}.json", fileName);
        Assert.Equal(resource.TypeName, profile.Type);
        Assert.All(Invariants(profile), c => Assert.True(resource.Predicate(c.Expression!), $"{c.Key}: {c.Human}"));
    }

    [Fact]
    public void Every_profile_has_a_valid_example()
    {
        var claimed = ExampleFileNames("resources")
            .Select(name => ReadResource(Path.Combine(RepositoryRoot.Path, "examples", "resources", name)).Meta!.Profile.Single())
            .ToHashSet(StringComparer.Ordinal);
        var profiles = Package.Source.Artifacts
            .Where(a => a.ResourceType == "StructureDefinition")
            .Select(a => (StructureDefinition)Package.Source.Resolve(a.Url)!)
            .Where(sd => sd.Kind == StructureDefinition.StructureDefinitionKind.Resource)
            .Select(sd => sd.Url);

        Assert.All(profiles, url => Assert.Contains(url, claimed));
    }

    [Fact]
    public void Valid_examples_reference_only_each_other()
    {
        var files = ExampleFileNames("resources");
        // File names are {ResourceType}-{id}.json; a reference is {ResourceType}/{id}.
        var available = files.Select(f => Path.GetFileNameWithoutExtension(f).Split('-', 2)).Select(p => $"{p[0]}/{p[1]}").ToHashSet(StringComparer.Ordinal);

        var references = files
            .SelectMany(f => ReferencesIn(JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepositoryRoot.Path, "examples", "resources", f))).RootElement))
            .ToList();

        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.Contains(r, available));
    }

    [Theory]
    [MemberData(nameof(InvalidExampleFiles))]
    public void Invalid_example_has_a_sidecar_and_breaks_no_invariant_but_the_one_it_names(string fileName)
    {
        var path = Path.Combine(RepositoryRoot.Path, "examples", "invalid", fileName);
        var expected = ReadSidecar(Path.ChangeExtension(path, ".expected.json"));
        if (expected.Rule == "primitive-format")
        {
            // A malformed primitive is a parse error; the strict parser must say so.
            Assert.Throws<Hl7.Fhir.Serialization.DeserializationFailedException>(() => ReadResource(path));
            return;
        }

        var resource = ReadResource(path);
        var broken = Invariants(ClaimedProfile(resource)).Where(c => !resource.Predicate(c.Expression!)).Select(c => c.Key).ToList();

        Assert.Equal(InvariantExpressions.Value.ContainsKey(expected.Rule) ? [expected.Rule] : [], broken);
    }

    [Fact]
    public void Invalid_examples_cover_every_kind_of_rule_and_every_invariant()
    {
        var rules = ExampleFileNames("invalid")
            .Select(name => ReadSidecar(Path.Combine(RepositoryRoot.Path, "examples", "invalid", Path.ChangeExtension(name, ".expected.json"))))
            .ToList();
        string[] kinds =
        [
            "cardinality-min", "cardinality-max", "pattern", "binding-required", "binding-extensible", "slice-cardinality",
            "slice-pattern", "extension-value-type", "unknown-modifier-extension", "reference-target", "primitive-format",
        ];

        Assert.True(rules.Count >= 15, $"{rules.Count} invalid examples");
        Assert.All(kinds.Concat(InvariantExpressions.Value.Keys), kind => Assert.Contains(rules, r => r.Rule == kind));
        Assert.All(rules, r => Assert.Contains(r.Severity, new[] { "error", "warning" }));
        Assert.All(rules, r => Assert.False(string.IsNullOrWhiteSpace(r.Expression) || string.IsNullOrWhiteSpace(r.Description)));
        Assert.Equal("warning", rules.Single(r => r.Rule == "binding-extensible").Severity);
    }

    public sealed record InvariantCase(string Key, string Name, bool Holds, Resource Instance)
    {
        public override string ToString() => $"{Key}: {Name} -> {(Holds ? "holds" : "violated")}";
    }

    private sealed record Sidecar(string Rule, string Severity, string Expression, string Description);

    private static readonly Lazy<IReadOnlyDictionary<string, string>> InvariantExpressions = new(() =>
        Package.Source.Artifacts
            .Where(a => a.ResourceType == "StructureDefinition")
            .SelectMany(a => Invariants((StructureDefinition)Package.Source.Resolve(a.Url)!))
            .ToDictionary(c => c.Key!, c => c.Expression!, StringComparer.Ordinal));

    // Instance files of examples/<folder>, sidecars excluded, by file name.
    private static string[] ExampleFileNames(string folder) =>
        Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "examples", folder), "*.json")
            .Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f))
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static IEnumerable<ElementDefinition.ConstraintComponent> Invariants(StructureDefinition profile) =>
        profile.Differential!.Element.SelectMany(e => e.Constraint);

    private static StructureDefinition ClaimedProfile(Resource resource)
    {
        var url = Assert.Single(Assert.IsType<Meta>(resource.Meta).Profile);
        return Assert.IsType<StructureDefinition>(Package.Source.Resolve(url!));
    }

    private static Resource ReadResource(string path) => FhirSerialization.StrictJson.Deserialize<Resource>(File.ReadAllText(path));

    private static Sidecar ReadSidecar(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        Assert.Equal(4, root.EnumerateObject().Count());
        return new Sidecar(
            root.GetProperty("rule").GetString()!, root.GetProperty("severity").GetString()!,
            root.GetProperty("expression").GetString()!, root.GetProperty("description").GetString()!);
    }

    private static IEnumerable<string> ReferencesIn(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name == "reference" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : ReferencesIn(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(ReferencesIn),
        _ => [],
    };

    // ---- Small instance builders: only the elements an invariant reads.

    private static Patient Patient(string birthDate, string? deceased = null) => new()
    {
        BirthDate = birthDate,
        Deceased = deceased is null ? null : new FhirDateTime(deceased),
    };

    private static Observation DiseaseStatus(CodeableConcept? value, bool dataAbsent = false, bool relapseSite = false)
    {
        var observation = new Observation
        {
            Value = value,
            DataAbsentReason = dataAbsent ? new CodeableConcept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown") : null,
        };
        if (relapseSite)
        {
            observation.SetExtension($"{Canonical}/StructureDefinition/relapse-site", new CodeableConcept($"{Canonical}/CodeSystem/fhircase-relapse-site", "marrow"));
        }
        return observation;
    }

    private static Observation Mrd(DataType value, bool limitOfDetection = false)
    {
        var observation = new Observation { Value = value };
        if (limitOfDetection)
        {
            observation.SetExtension($"{Canonical}/StructureDefinition/mrd-limit-of-detection", Percent(0.01m));
        }
        return observation;
    }

    private static Observation Antigen(Quantity? percentPositive) => new()
    {
        Value = percentPositive,
        Interpretation = [Interpretation("POS")],
    };

    private static MedicationAdministration Ino(Quantity dose) => new() { Dosage = new MedicationAdministration.DosageComponent { Dose = dose } };

    private static Quantity NotReportedDose() => new()
    {
        System = "http://unitsofmeasure.org",
        Code = "mg/m2",
        Unit = "mg/m2",
        Extension = [new Extension("http://hl7.org/fhir/StructureDefinition/data-absent-reason", new Code("unknown"))],
    };

    private static CodeableConcept Sct(string code) => new("http://snomed.info/sct", code);

    private static CodeableConcept Interpretation(string code) => new("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", code);

    private static Quantity Percent(decimal value) => Ucum(value, "%");

    private static Quantity Ucum(decimal value, string code) => new() { Value = value, System = "http://unitsofmeasure.org", Code = code, Unit = code };
}
