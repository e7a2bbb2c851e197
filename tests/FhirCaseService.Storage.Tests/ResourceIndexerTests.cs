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
            AssertSameEntries(b, a);
            walked += SearchParameterCatalog.Shared.For(resource.TypeName).Values.Count(p => p.Path is not null);
        }
        // The comparison means something only where the walk is used.
        Assert.True(walked > 0);
    }

    /// <summary>
    /// Instances holding each type the choice elements filtered by a type in the core parameters offer (value[x],
    /// onset[x], abatement[x], deceased[x], occurred[x], characteristic.value[x]), so every kind of filter the walk
    /// applies (complex, derived complex, primitive) meets values it must keep and values it must drop.
    /// </summary>
    public static TheoryData<string> ChoiceInstances()
    {
        var data = new TheoryData<string>();
        foreach (var name in ChoiceResources().Keys)
            data.Add(name);
        return data;
    }

    private static Dictionary<string, Resource> ChoiceResources()
    {
        var period = new Period { Start = "2024-01-02", End = "2024-02-03T10:00:00Z" };
        var age = new Age { Value = 42, Unit = "a", System = "http://unitsofmeasure.org", Code = "a" };
        var range = new Hl7.Fhir.Model.Range { Low = new Quantity(1, "mg"), High = new Quantity(3, "mg") };
        var concept = new CodeableConcept("http://snomed.info/sct", "260385009", "Negative", "no growth");
        var values = new Dictionary<string, DataType>
        {
            ["string"] = new FhirString("relapse suspected"),
            ["dateTime"] = new FhirDateTime("2024-03-04T05:06:07+01:00"),
            ["Period"] = period,
            ["Age"] = age,
            ["Range"] = range,
            ["Quantity"] = new Quantity(5.5m, "mmol/L"),
            ["CodeableConcept"] = concept,
            ["boolean"] = new FhirBoolean(true),
            ["integer"] = new Integer(7),
            ["time"] = new Time("10:11:12"),
        };
        var resources = new Dictionary<string, Resource>();
        foreach (var (type, value) in values)
        {
            resources[$"Observation.value {type}"] = new Observation
            {
                Id = "o", Status = ObservationStatus.Final, Code = concept, Value = value,
                // The parameters of every resource read meta (Resource.meta.tag, .profile, .security, .source).
                Meta = new Meta
                {
                    Profile = ["https://fhircase.example.org/fhir/StructureDefinition/fhircase-disease-status"],
                    Tag = [new Coding("https://fhircase.example.org/fhir/CodeSystem/fhircase-data-provenance", "synthetic", "Synthetic")],
                    Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")],
                    Source = "urn:uuid:6f1c6a8e-0f5e-4c35-9d3e-8c7a6a2f0b11",
                },
            };
            if (type is "dateTime" or "Age" or "Period" or "Range" or "string")
            {
                resources[$"Condition.onset {type}"] = new Condition { Id = "c", Subject = new ResourceReference("Patient/p"), Onset = value };
                resources[$"Condition.abatement {type}"] = new Condition { Id = "c", Subject = new ResourceReference("Patient/p"), Abatement = value };
            }
            if (type is "dateTime" or "Period")
                resources[$"Provenance.occurred {type}"] = new Provenance { Id = "v", Occurred = value, Recorded = DateTimeOffset.UnixEpoch };
            if (type is "boolean" or "dateTime")
                resources[$"Patient.deceased {type}"] = new Patient { Id = "p", Deceased = value };
            if (type is "boolean" or "CodeableConcept" or "Quantity" or "Range")
                resources[$"Group.characteristic.value {type}"] = new Group
                {
                    Id = "g", Type = Group.GroupType.Person, Actual = true,
                    Characteristic = [new Group.CharacteristicComponent { Code = concept, Value = value, Exclude = false }],
                };
        }
        // Patient.deceased as "deceased.exists() and deceased != false", and the code filters (telecom.where(system='email')).
        var noValue = new Extension("http://hl7.org/fhir/StructureDefinition/data-absent-reason", new Code("unknown"));
        resources["Patient.deceased false"] = new Patient { Id = "p", Deceased = new FhirBoolean(false) };
        resources["Patient.deceased absent"] = new Patient { Id = "p", Gender = AdministrativeGender.Female };
        resources["Patient.deceased boolean without a value"] = new Patient { Id = "p", Deceased = new FhirBoolean { Extension = [noValue] } };
        resources["Patient.deceased dateTime without a value"] = new Patient { Id = "p", Deceased = new FhirDateTime { Extension = [noValue] } };
        resources["Patient.telecom systems"] = new Patient
        {
            Id = "p",
            Telecom =
            [
                new ContactPoint(ContactPoint.ContactPointSystem.Email, ContactPoint.ContactPointUse.Home, "a@example.org"),
                new ContactPoint(ContactPoint.ContactPointSystem.Phone, null, "+41 00 000 00 00"),
                new ContactPoint(ContactPoint.ContactPointSystem.Email, null, "b@example.org"),
                new ContactPoint(ContactPoint.ContactPointSystem.Fax, null, "+41 00 000 00 01"),
                new ContactPoint { Value = "no system" },
                new ContactPoint { SystemElement = new Code<ContactPoint.ContactPointSystem> { Extension = [noValue] }, Value = "system without a value" },
            ],
        };
        resources["Practitioner.telecom email only"] = new Practitioner
        {
            Id = "r", Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Email, null, "c@example.org")],
        };
        resources["Library.relatedArtifact types"] = new Library
        {
            Id = "l", Status = PublicationStatus.Active, Type = concept,
            RelatedArtifact =
            [
                new RelatedArtifact { Type = RelatedArtifact.RelatedArtifactType.DependsOn, Resource = "http://example.org/Library/a" },
                new RelatedArtifact { Type = RelatedArtifact.RelatedArtifactType.ComposedOf, Resource = "http://example.org/Library/b" },
                new RelatedArtifact { Type = RelatedArtifact.RelatedArtifactType.DependsOn, Resource = "http://example.org/Library/c" },
                new RelatedArtifact { Type = RelatedArtifact.RelatedArtifactType.Citation, Citation = "no resource" },
            ],
        };
        return resources;
    }

    [Theory]
    [MemberData(nameof(ChoiceInstances))]
    public void The_walk_filters_choice_types_as_FHIRPath_does(string instance)
    {
        var resource = ChoiceResources()[instance];
        var a = new ResourceIndexer(SearchParameterCatalog.Shared, SortableTokens.None).Extract(resource);
        var b = new ResourceIndexer(SearchParameterCatalog.Shared, SortableTokens.None, fastPaths: false).Extract(resource);
        AssertSameEntries(b, a);
    }

    /// <summary>The walk's index entries equal FHIRPath's, kind by kind, in any order.</summary>
    private static void AssertSameEntries(IndexEntries expected, IndexEntries actual)
    {
        Assert.Equal(expected.Tokens.OrderBy(e => e.ToString()), actual.Tokens.OrderBy(e => e.ToString()));
        Assert.Equal(expected.Strings.OrderBy(e => e.ToString()), actual.Strings.OrderBy(e => e.ToString()));
        Assert.Equal(expected.Dates.OrderBy(e => e.ToString()), actual.Dates.OrderBy(e => e.ToString()));
        Assert.Equal(expected.References.OrderBy(e => e.ToString()), actual.References.OrderBy(e => e.ToString()));
        Assert.Equal(expected.Quantities.OrderBy(e => e.ToString()), actual.Quantities.OrderBy(e => e.ToString()));
        Assert.Equal(expected.Numbers.OrderBy(e => e.ToString()), actual.Numbers.OrderBy(e => e.ToString()));
        Assert.Equal(expected.Uris.OrderBy(e => e.ToString()), actual.Uris.OrderBy(e => e.ToString()));
    }

    [Fact]
    public void The_choice_filters_of_the_core_parameters_are_walked()
    {
        foreach (var (type, parameter) in new[] { ("Observation", "value-date"), ("Observation", "value-string"), ("Condition", "onset-age"), ("Condition", "onset-date"),
                     ("Condition", "onset-info"), ("Condition", "abatement-date"), ("Patient", "death-date"), ("Provenance", "when"), ("Group", "value") })
            Assert.True(SearchParameterCatalog.Shared.Find(type, parameter)?.Path is not null, $"{type}.{parameter} is not walked");
        // The code filters and Patient.deceased's boolean (walked since session 9).
        foreach (var (type, parameter) in new[] { ("Patient", "email"), ("Patient", "phone"), ("Patient", "deceased"), ("Practitioner", "email"),
                     ("Library", "depends-on"), ("Library", "composed-of") })
            Assert.True(SearchParameterCatalog.Shared.Find(type, parameter)?.Path is not null, $"{type}.{parameter} is not walked");
        // The parameters of every resource (Resource.meta.*) too.
        foreach (var parameter in new[] { "_tag", "_profile", "_security", "_source" })
            Assert.True(SearchParameterCatalog.Shared.Find("Observation", parameter)?.Path is not null, $"Observation.{parameter} is not walked");
    }

    [Theory]
    [InlineData("Condition", "Condition.onset.as(Age) | Condition.onset.as(Range)", true)]
    [InlineData("Observation", "(Observation.value as dateTime)", true)]
    [InlineData("Observation", "(Observation.value as string) | (Observation.value as CodeableConcept).text", true)]
    [InlineData("Observation", "Observation.value.as(dateTime).extension", true)]
    [InlineData("Observation", "Observation.value.as(Unknown)", false)]
    [InlineData("Observation", "Observation.value.as(code2)", false)]
    [InlineData("Observation", "(Observation.value as dateTime", false)]
    [InlineData("Patient", "Patient.telecom.where(system='email')", true)]
    [InlineData("Patient", "Patient.deceased.exists() and Patient.deceased != false", true)]
    [InlineData("Patient", "Patient.deceased.exists() and Patient.gender != false", false)]
    [InlineData("Patient", "Patient.deceased.exists() or Patient.deceased != false", false)]
    [InlineData("Patient", "Patient.deceased.exists() and Patient.deceased != true", false)]
    [InlineData("Patient", "Patient.deceased.exists() and Patient.deceased != false | Patient.gender", false)]
    [InlineData("Library", "Library.relatedArtifact.where(type='depends-on').resource", true)]
    [InlineData("Patient", "Patient.telecom.where(system=email)", false)]
    [InlineData("Patient", "Patient.telecom.where(system='e\\'mail')", false)]
    [InlineData("Patient", "Patient.telecom.where(system.exists())", false)]
    [InlineData("Observation", "Resource.meta.tag", true)]
    [InlineData("Observation", "DomainResource.text", true)]
    [InlineData("Bundle", "DomainResource.text", false)]
    [InlineData("Observation", "Element.id", false)]
    [InlineData("Observation", "Observation.subject.where(resolve() is Patient)", true)]
    [InlineData("Patient", "Patient.name.family", true)]
    [InlineData("Patient", "Patient.name | Patient.address", true)]
    [InlineData("Observation", "(Observation.value as Quantity)", true)]
    [InlineData("Observation", "(Observation.value as quantity)", false)]
    [InlineData("Observation", "(Observation.value)", false)]
    [InlineData("Patient", "Patient.name.where(use = 'official')", true)]
    [InlineData("Patient", "Patient.name.where(use = 'official' or use = 'usual')", false)]
    [InlineData("Patient", "Observation.subject", false)]
    [InlineData("Patient", "Patient.extension.exists()", false)]
    public void Only_plain_paths_are_walked(string type, string expression, bool walked) =>
        Assert.Equal(walked, SimplePath.TryParse(type, SearchParameterCatalog.SplitTopLevelUnion(expression)) is not null);
}
