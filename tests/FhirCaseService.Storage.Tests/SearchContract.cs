using FhirCaseService.Storage.Search;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>Every parameter kind, prefix and modifier the store supports, chains, _has, includes and sort; on every backend.</summary>
public abstract class SearchContract<TBackend>(SeededStore<TBackend> seeded) : IClassFixture<SeededStore<TBackend>>
    where TBackend : IStoreBackend, new()
{
    private const string Pseudonym = "https://fhircase.example.org/fhir/sid/case-series-pseudonym";

    [Theory]
    // token: code, system|code, |code, system|, :text, :not, OR
    [InlineData("Observation", "code=51124-6", "a-cd22 b-cd22")]
    [InlineData("Observation", "code=http://loinc.org|97509-4", "a-relapse a-response-cr b-relapse b-response-cr")]
    [InlineData("Observation", "code=|51124-6", "")]
    [InlineData("Observation", "subject=a-patient&code=http://loinc.org|", "a-cd22 a-relapse a-response-cr")]
    [InlineData("Observation", "subject=a-patient&code:text=RESIDUAL", "a-mrd-flow a-mrd-not-detected")]
    [InlineData("Observation", "subject=a-patient&code:not=mrd", "a-cd19 a-cd22 a-relapse a-response-cr")]
    [InlineData("Observation", "code=51124-6,mrd&subject=b-patient", "b-cd22 b-mrd-flow b-mrd-not-detected")]
    [InlineData("Observation", "status=amended", "b-cd22")]
    [InlineData("Observation", "subject=a-patient&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "a-cd19 a-cd22 a-mrd-flow a-mrd-not-detected")]
    [InlineData("Patient", "identifier=" + Pseudonym + "|a", "a-patient")]
    [InlineData("Patient", "identifier=b", "b-patient")]
    [InlineData("Patient", "gender=female", "b-patient")]
    [InlineData("Observation", "_id=a-cd22,b-cd19", "a-cd22 b-cd19")]
    [InlineData("Observation", "_id:not=a-cd22&subject=a-patient&code=51124-6,cd19-blasts", "a-cd19")]
    // reference: Type/id, id, :Type, non-patient targets
    [InlineData("Observation", "subject=Patient/a-patient&category=laboratory", "a-cd19 a-cd22 a-mrd-flow a-mrd-not-detected")]
    [InlineData("Observation", "patient=a-patient&code=97509-4", "a-relapse a-response-cr")]
    [InlineData("Observation", "subject:Patient=b-patient&code=51124-6", "b-cd22")]
    [InlineData("Condition", "subject=b-patient", "b-diagnosis")]
    [InlineData("Observation", "focus=Condition/a-diagnosis", "a-relapse a-response-cr")]
    [InlineData("Observation", "subject=Patient/nobody", "")]
    // date: partial dates and every prefix
    [InlineData("Observation", "subject=a-patient&date=2021-01", "a-cd19 a-cd22 a-relapse")]
    [InlineData("Observation", "subject=a-patient&date=2021", "a-cd19 a-cd22 a-mrd-flow a-mrd-not-detected a-relapse a-response-cr")]
    [InlineData("Observation", "subject=a-patient&date=ge2021-02-08", "a-mrd-flow a-mrd-not-detected a-response-cr")]
    [InlineData("Observation", "subject=a-patient&date=gt2021-02-08", "a-mrd-not-detected a-response-cr")]
    [InlineData("Observation", "subject=a-patient&date=lt2021-02-08", "a-cd19 a-cd22 a-relapse")]
    [InlineData("Observation", "subject=a-patient&date=le2021-02-08", "a-cd19 a-cd22 a-mrd-flow a-relapse")]
    [InlineData("Observation", "subject=a-patient&date=ne2021-01-20", "a-mrd-flow a-mrd-not-detected a-response-cr")]
    [InlineData("Observation", "subject=a-patient&date=sa2021-02", "a-mrd-not-detected a-response-cr")]
    [InlineData("Observation", "subject=a-patient&date=eb2021-02", "a-cd19 a-cd22 a-relapse")]
    [InlineData("Observation", "subject=a-patient&date=ge2021-02&date=lt2021-03", "a-mrd-flow")]
    [InlineData("Condition", "onset-date=ap2021-03-22", "b-diagnosis")]
    [InlineData("Condition", "onset-date=2019-06", "a-diagnosis")]
    [InlineData("Condition", "clinical-status=relapse", "a-diagnosis")]
    [InlineData("Patient", "birthdate=2012&gender=male", "a-patient")]
    [InlineData("Patient", "_lastUpdated=lt2000-01-01", "")]
    [InlineData("Procedure", "subject=a-patient&date=2021", "a-hsct a-radiotherapy")]
    [InlineData("Procedure", "subject=a-patient&date=2021-02", "")]
    [InlineData("Procedure", "subject=a-patient&date=lt2021-02", "a-radiotherapy")]
    [InlineData("Procedure", "subject=a-patient&date=sa2021-02-05", "a-hsct")]
    [InlineData("MedicationAdministration", "effective-time=2021-02-10", "a-ino-c1d1 b-ino-c1d1")]
    [InlineData("MedicationAdministration", "subject=b-patient&effective-time=ge2021-09", "b-cart")]
    [InlineData("MedicationAdministration", "code=http://www.whocc.no/atc|L01XL04", "a-cart b-cart")]
    [InlineData("MedicationAdministration", "medication=Medication/tisagenlecleucel", "by-reference")]
    // quantity and number: prefixes, precision, |system|code
    [InlineData("Observation", "subject=a-patient&value-quantity=gt50", "a-cd19 a-cd22")]
    [InlineData("Observation", "value-quantity=85|http://unitsofmeasure.org|%", "a-cd19 b-cd19")]
    [InlineData("Observation", "subject=a-patient&value-quantity=0.05", "a-mrd-flow")]
    [InlineData("Observation", "subject=a-patient&value-quantity=0.2", "")]
    [InlineData("Observation", "value-quantity=le40||%", "a-mrd-flow b-cd22 b-mrd-flow")]
    [InlineData("Observation", "subject=a-patient&value-quantity=ap90", "a-cd19 a-cd22")]
    [InlineData("Observation", "value-quantity=ne85&code=cd19-blasts,51124-6", "a-cd22 b-cd22")]
    [InlineData("RiskAssessment", "probability=gt0.2", "risk")]
    [InlineData("RiskAssessment", "probability=lt0.2", "")]
    [InlineData("Observation", "value-concept=http://snomed.info/sct|263855007", "a-relapse b-relapse")]
    // string: accent- and case-insensitive prefix, :exact, :contains; uri
    [InlineData("Patient", "name=zoe", "named")]
    [InlineData("Patient", "family=MUL", "named")]
    [InlineData("Patient", "name:exact=Müller", "named")]
    [InlineData("Patient", "name:exact=muller", "")]
    [InlineData("Patient", "name:contains=ll", "named")]
    [InlineData("Observation", "_profile=https://fhircase.example.org/fhir/StructureDefinition/fhircase-mrd&subject=b-patient", "b-mrd-flow b-mrd-not-detected")]
    // :missing
    [InlineData("Observation", "subject=a-patient&value-quantity:missing=true", "a-mrd-not-detected a-relapse a-response-cr")]
    [InlineData("Observation", "subject=a-patient&category:missing=false", "a-cd19 a-cd22 a-mrd-flow a-mrd-not-detected")]
    // chains and reverse chains
    [InlineData("Observation", "code=51124-6&subject:Patient.identifier=" + Pseudonym + "|b", "b-cd22")]
    [InlineData("Condition", "patient.gender=male", "a-diagnosis")]
    [InlineData("Patient", "_has:Observation:subject:value-quantity=gt90", "a-patient")]
    [InlineData("Patient", "_has:Condition:subject:clinical-status=remission", "b-patient")]
    [InlineData("Patient", "_has:Observation:patient:code=51124-6", "a-patient b-patient")]
    public async Task Search_finds_exactly_the_matching_resources(string type, string query, string expected)
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse(type, Pairs(query + "&_count=100")));

        Assert.Equal(Ids(expected), result.Matches.Select(m => m.Id).Order(StringComparer.Ordinal));
        Assert.All(result.Matches, m => Assert.Equal(type, m.ResourceType));
    }

    [Fact]
    public async Task Sort_orders_by_several_keys_with_descending_and_the_id_breaking_ties()
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("subject=a-patient&_sort=-date,_id")));

        Assert.Equal(["a-mrd-not-detected", "a-response-cr", "a-mrd-flow", "a-cd19", "a-cd22", "a-relapse"], result.Matches.Select(m => m.Id));
    }

    [Fact]
    public async Task Sort_by_a_quantity_puts_resources_without_one_last()
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("subject=a-patient&_sort=value-quantity")));

        Assert.Equal(["a-mrd-flow", "a-cd19", "a-cd22", "a-mrd-not-detected", "a-relapse", "a-response-cr"], result.Matches.Select(m => m.Id));
    }

    [Fact]
    public async Task Count_pages_and_accurate_total_counts_every_match()
    {
        var first = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("_count=5&_total=accurate&_sort=_id")));
        var second = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs($"_count=5&_total=accurate&_sort=_id&_cursor={first.Next}")));
        var third = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs($"_count=5&_sort=_id&_cursor={second.Next}")));

        Assert.Equal(12, first.Total);
        Assert.Null(third.Total);
        Assert.Equal([5, 5, 2], new[] { first.Matches.Count, second.Matches.Count, third.Matches.Count });
        Assert.Null(third.Next);
        Assert.Null(first.Previous);
        Assert.Equal(12, first.Matches.Concat(second.Matches).Concat(third.Matches).Select(m => m.Id).Distinct().Count());
    }

    [Fact]
    public async Task Count_zero_returns_only_the_total()
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("_count=0&code=mrd")));
        Assert.Empty(result.Matches);
        Assert.Equal(4, result.Total);
    }

    [Fact]
    public async Task Include_adds_the_referenced_patient_once_as_an_include()
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("subject=a-patient&category=laboratory&_include=Observation:subject")));

        Assert.Equal(4, result.Matches.Count);
        Assert.Equal(["a-patient"], result.Included.Select(i => i.Id));
    }

    [Fact]
    public async Task Include_iterate_follows_references_of_included_resources()
    {
        var once = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("_id=a-cd22&_include=Observation:focus")));
        var iterated = await seeded.Store.SearchAsync(SearchQuery.Parse("Observation", Pairs("_id=a-cd22&_include=Observation:focus&_include:iterate=Observation:focus")));

        Assert.Equal(["Observation/a-relapse"], once.Included.Select(i => i.ResourceType + "/" + i.Id));
        Assert.Equal(["Observation/a-relapse", "Condition/a-diagnosis"], iterated.Included.Select(i => i.ResourceType + "/" + i.Id));
    }

    [Fact]
    public async Task Revinclude_adds_the_resources_that_point_at_the_matches()
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse("Patient", Pairs("_id=a-patient&_revinclude=Condition:subject&_revinclude=MedicationAdministration:patient")));

        Assert.Equal(["Condition/a-diagnosis", "MedicationAdministration/a-cart", "MedicationAdministration/a-ino-c1d1"],
            result.Included.Select(i => i.ResourceType + "/" + i.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Revinclude_iterate_reaches_resources_two_steps_away()
    {
        var result = await seeded.Store.SearchAsync(SearchQuery.Parse("Patient", Pairs("_id=b-patient&_revinclude=Condition:subject&_revinclude:iterate=Procedure:reason-reference")));

        Assert.Equal(["Condition/b-diagnosis", "Procedure/b-hsct", "Procedure/b-radiotherapy"],
            result.Included.Select(i => i.ResourceType + "/" + i.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Unknown_parameters_are_reported_and_do_not_filter()
    {
        var query = SearchQuery.Parse("Patient", Pairs("shoe-size=42&gender=female&_summary=true"));
        var result = await seeded.Store.SearchAsync(query);

        Assert.Equal(["shoe-size"], query.UnknownParameters);
        Assert.Equal(["b-patient"], result.Matches.Select(m => m.Id));
    }

    internal static IEnumerable<KeyValuePair<string, string>> Pairs(string query) =>
        query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p =>
        {
            var eq = p.IndexOf('=');
            return new KeyValuePair<string, string>(p[..eq], p[(eq + 1)..]);
        });

    private static IEnumerable<string> Ids(string expected) =>
        expected.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
}

public sealed class SqliteSearchTests(SeededStore<SqliteBackend> seeded) : SearchContract<SqliteBackend>(seeded);

public sealed class PostgresSearchTests(SeededStore<PostgresBackend> seeded) : SearchContract<PostgresBackend>(seeded);
