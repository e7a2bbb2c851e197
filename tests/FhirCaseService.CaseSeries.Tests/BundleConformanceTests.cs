using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.CaseSeries.Tests.Support;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>
/// Structural checks of generated Bundles: strict SDK round-trip, references resolvable inside the
/// Bundle, and each resource against the differential of its profile in profiles/.
/// </summary>
public sealed class BundleConformanceTests
{
    public static TheoryData<string> Bundles => new()
    {
        "test record",
        "test record, everything optional not reported",
        "examples/case-series",
    };

    private static IEnumerable<Bundle> Load(string name) => name switch
    {
        "test record" => [TestRecords.Convert(TestRecords.Valid)],
        "test record, everything optional not reported" => [TestRecords.Convert(TestRecords.With(root =>
        {
            var patient = TestRecords.Patient(root);
            patient["sex"] = "not-reported";
            patient["birthYear"] = "not-reported";
            patient["diagnosis"]!["date"] = "not-reported";
            patient["relapses"]![0]!["sites"] = "not-reported";
            patient["responseAssessments"]![0]!["response"] = "not-reported";
            patient["responseAssessments"]![0]!["mrd"]!["method"] = "not-reported";
            patient["responseAssessments"]![0]!["mrd"]!["limitOfDetectionPercent"] = "not-reported";
            patient["hsct"]!["donorType"] = "not-reported";
            patient["radiotherapy"]![0]!["intent"] = "not-reported";
            patient["followUp"]!["diseaseStatus"] = "not-reported";
        }))],
        _ => Directory.EnumerateFiles(RepositoryPaths.Examples("case-series"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => TestRecords.Convert(File.ReadAllText(f))),
    };

    [Theory]
    [MemberData(nameof(Bundles))]
    public void Bundle_survives_a_strict_parse_round_trip(string name)
    {
        foreach (var bundle in Load(name))
        {
            var json = CaseSeriesJson.Serialize(bundle);

            var parsed = FhirSerialization.StrictJson.TryDeserializeResource(json, out var resource, out var issues);

            Assert.True(parsed, string.Join("\n", issues?.Select(i => i.Message) ?? []));
            Assert.Equal(json, CaseSeriesJson.Serialize(resource!));
        }
    }

    [Theory]
    [MemberData(nameof(Bundles))]
    public void Every_reference_resolves_to_an_entry_of_the_bundle(string name)
    {
        foreach (var bundle in Load(name))
        {
            var fullUrls = bundle.Entry.Select(e => e.FullUrl).ToHashSet(StringComparer.Ordinal);

            var references = bundle.Entry
                .SelectMany(e => e.Resource.Select("descendants()").OfType<ResourceReference>())
                .Where(r => r.Reference is not null)
                .Select(r => r.Reference)
                .ToList();

            Assert.NotEmpty(references);
            Assert.All(references, r => Assert.Contains(r, fullUrls));
        }
    }

    [Theory]
    [MemberData(nameof(Bundles))]
    public void Every_clinical_resource_declares_its_profile_and_every_resource_its_provenance_tag(string name)
    {
        foreach (var bundle in Load(name))
        {
            Assert.All(bundle.Entry.Select(e => e.Resource), resource =>
            {
                Assert.Single(resource.Meta.Tag, t => t.System == FhirCaseCanonicals.CodeSystems.DataProvenance);
                if (resource is not (Group or Provenance))
                    Assert.Single(resource.Meta.Profile);
            });
        }
    }

    [Theory]
    [MemberData(nameof(Bundles))]
    public void Every_resource_meets_the_differential_of_its_profile(string name)
    {
        var checks = new ProfileChecks(Path.Combine(RepositoryPaths.Root, "profiles"));

        foreach (var bundle in Load(name))
        {
            var problems = bundle.Entry.SelectMany(e => checks.Check(e.Resource)).ToList();

            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
    }

    [Fact]
    public void Profile_checks_catch_a_resource_that_breaks_its_profile()
    {
        var checks = new ProfileChecks(Path.Combine(RepositoryPaths.Root, "profiles"));
        var bundle = TestRecords.Convert(TestRecords.Valid);
        var dose = bundle.Entry.Select(e => e.Resource).OfType<MedicationAdministration>().First(m => m.Id.EndsWith("-ino-c1-d1", StringComparison.Ordinal));
        ((Quantity)dose.Dosage.Dose).Value = 1.8m;
        var patient = bundle.Entry.Select(e => e.Resource).OfType<Patient>().Single();
        patient.Name.Add(new HumanName { Family = "Identifiable" });
        patient.BirthDate = "2010-05-17";

        var problems = checks.Check(dose).Concat(checks.Check(patient)).ToList();

        Assert.Contains(problems, p => p.Contains("fhircase-ino-2", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Patient.name is not allowed", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("fhircase-patient-1", StringComparison.Ordinal));
    }
}
