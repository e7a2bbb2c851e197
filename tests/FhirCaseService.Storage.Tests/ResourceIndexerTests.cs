using FhirCaseService.Storage.Indexing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Tests;

public sealed class ResourceIndexerTests
{
    private readonly ResourceIndexer _indexer = new(SearchParameterCatalog.Shared, SortableTokens.None);

    [Fact]
    public void Names_are_indexed_lowercase_without_accents_and_exact()
    {
        var entries = _indexer.Extract(new Patient { Name = [new HumanName { Family = "Müller", Given = ["Zoë"] }] });

        Assert.Contains(new StringEntry("family", "muller", "Müller"), entries.Strings);
        Assert.Contains(new StringEntry("name", "zoe", "Zoë"), entries.Strings);
    }

    [Fact]
    public void A_subject_pointing_at_a_patient_is_indexed_for_subject_and_patient()
    {
        var entries = _indexer.Extract(Examples.Load<Observation>("Observation-example-cd22.json"));

        Assert.Contains(new ReferenceEntry("subject", "Patient", "example-patient", null), entries.References);
        Assert.Contains(new ReferenceEntry("patient", "Patient", "example-patient", null), entries.References);
        Assert.Contains(new QuantityEntry("value-quantity", 92m, "http://unitsofmeasure.org", "%"), entries.Quantities);
        Assert.Contains(entries.Tokens, t => t is { Param: "code", System: "http://loinc.org", Code: "51124-6" });
    }

    [Fact]
    public void A_period_is_indexed_from_the_start_of_its_first_day_to_the_end_of_its_last()
    {
        var entries = _indexer.Extract(Examples.Load<Procedure>("Procedure-example-radiotherapy.json"));

        var date = Assert.Single(entries.Dates, d => d.Param == "date");
        Assert.Equal(DateTimeOffset.Parse("2021-01-25T00:00:00Z").ToUnixTimeMilliseconds(), date.Low);
        Assert.Equal(DateTimeOffset.Parse("2021-02-05T23:59:59.999Z").ToUnixTimeMilliseconds(), date.High);
    }

    [Theory]
    [InlineData("2021", "2021-01-01T00:00:00.000Z", "2021-12-31T23:59:59.999Z")]
    [InlineData("2021-02", "2021-02-01T00:00:00.000Z", "2021-02-28T23:59:59.999Z")]
    [InlineData("2020-02", "2020-02-01T00:00:00.000Z", "2020-02-29T23:59:59.999Z")]
    [InlineData("2021-03-04", "2021-03-04T00:00:00.000Z", "2021-03-04T23:59:59.999Z")]
    [InlineData("2021-03-04T10:30+02:00", "2021-03-04T08:30:00.000Z", "2021-03-04T08:30:59.999Z")]
    [InlineData("2021-03-04T10:30:15.123Z", "2021-03-04T10:30:15.123Z", "2021-03-04T10:30:15.123Z")]
    public void Partial_dates_cover_their_whole_span(string value, string low, string high)
    {
        Assert.True(FhirInstantRange.TryParse(value, out var l, out var h));
        Assert.Equal(DateTimeOffset.Parse(low).ToUnixTimeMilliseconds(), l);
        Assert.Equal(DateTimeOffset.Parse(high).ToUnixTimeMilliseconds(), h);
    }

    [Theory]
    [InlineData("2021-13")]
    [InlineData("2021-02-30")]
    [InlineData("21-01-01")]
    [InlineData("yesterday")]
    public void Impossible_dates_are_rejected(string value) => Assert.False(FhirInstantRange.TryParse(value, out _, out _));

    [Fact]
    public void A_shared_parameter_keeps_only_the_branch_of_the_type()
    {
        var narrowed = SearchParameterCatalog.NarrowTo("Observation",
            "AllergyIntolerance.patient | Observation.subject.where(resolve() is Patient) | (Procedure.subject.where(resolve() is Patient))");
        Assert.Equal("Observation.subject.where(resolve() is Patient)", narrowed);
    }
}

/// <summary>
/// The index extraction's walk of plain paths (<see cref="SimplePath"/>) against FHIRPath itself: the same entries for
/// every core parameter of every resource of the examples and of the case-series Bundle.
/// </summary>
public sealed class SimplePathEquivalenceTests
{
    public static TheoryData<string> Resources()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepositoryRoot.Combine("examples", "resources"), "*.json").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        data.Add("bundle");
        return data;
    }

    [Theory]
    [MemberData(nameof(Resources))]
    public void The_walk_indexes_what_FHIRPath_indexes(string source)
    {
        var resources = source == "bundle"
            ? Hl7.Fhir.Serialization.PocoDeserializationExtensions.DeserializeResource(FhirCaseService.Conformance.Serialization.FhirSerialization.StrictJson,
                    File.ReadAllText(RepositoryRoot.Combine("examples", "bundles", "aertgeerts-2025-ino-bridge.json")))
                is Bundle bundle ? bundle.Entry.Select(e => e.Resource).OfType<Resource>().ToList() : []
            : [Hl7.Fhir.Serialization.PocoDeserializationExtensions.DeserializeResource(FhirCaseService.Conformance.Serialization.FhirSerialization.StrictJson,
                File.ReadAllText(RepositoryRoot.Combine("examples", "resources", source)))];
        Assert.NotEmpty(resources);
        var fast = new ResourceIndexer(SearchParameterCatalog.Shared, SortableTokens.None);
        var fhirPath = new ResourceIndexer(SearchParameterCatalog.Shared, SortableTokens.None, fastPaths: false);
        var walked = 0;
        foreach (var resource in resources)
        {
            var a = fast.Extract(resource);
            var b = fhirPath.Extract(resource);
            Assert.Equal(b.Tokens.OrderBy(e => e.ToString()), a.Tokens.OrderBy(e => e.ToString()));
            Assert.Equal(b.Strings.OrderBy(e => e.ToString()), a.Strings.OrderBy(e => e.ToString()));
            Assert.Equal(b.Dates.OrderBy(e => e.ToString()), a.Dates.OrderBy(e => e.ToString()));
            Assert.Equal(b.References.OrderBy(e => e.ToString()), a.References.OrderBy(e => e.ToString()));
            Assert.Equal(b.Quantities.OrderBy(e => e.ToString()), a.Quantities.OrderBy(e => e.ToString()));
            Assert.Equal(b.Numbers.OrderBy(e => e.ToString()), a.Numbers.OrderBy(e => e.ToString()));
            Assert.Equal(b.Uris.OrderBy(e => e.ToString()), a.Uris.OrderBy(e => e.ToString()));
            walked += SearchParameterCatalog.Shared.For(resource.TypeName).Values.Count(p => p.Path is not null);
        }
        // The comparison means something only where the walk is used.
        Assert.True(walked > 0);
    }

    [Theory]
    [InlineData("Observation", "Observation.subject.where(resolve() is Patient)", true)]
    [InlineData("Patient", "Patient.name.family", true)]
    [InlineData("Patient", "Patient.name | Patient.address", true)]
    [InlineData("Observation", "(Observation.value as Quantity)", true)]
    [InlineData("Observation", "(Observation.value as quantity)", false)]
    [InlineData("Observation", "(Observation.value)", false)]
    [InlineData("Patient", "Patient.name.where(use = 'official')", false)]
    [InlineData("Patient", "Observation.subject", false)]
    [InlineData("Patient", "Patient.extension.exists()", false)]
    public void Only_plain_paths_are_walked(string type, string expression, bool walked) =>
        Assert.Equal(walked, SimplePath.TryParse(type, SearchParameterCatalog.SplitTopLevelUnion(expression)) is not null);
}
