using FhirCaseService.Storage.Indexing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Tests;

/// <summary>Search:SortableTokenParameters: which token parameters get sort-key rows, and what a bad entry says.</summary>
public sealed class SortableTokensTests
{
    [Fact]
    public void Only_declared_token_parameters_get_a_sort_key_while_strings_and_dates_always_do()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept { Coding = [new Coding("http://loinc.org", "8867-4"), new Coding("http://loinc.org", "1234-5")] },
            Effective = new FhirDateTime("2021-03-01"),
            Meta = new Meta { Tag = [new Coding("urn:t", "b"), new Coding("urn:t", "a")] },
        };
        var patient = new Patient { Gender = AdministrativeGender.Female, Name = [new HumanName { Family = "Baker" }], Meta = new Meta { Tag = [new Coding("urn:t", "c")] } };
        var declared = SortableTokens.Parse(["Observation.code", " _tag ", "", "Observation.code"], SearchParameterCatalog.Shared);

        var none = new ResourceIndexer(SearchParameterCatalog.Shared, SortableTokens.None);
        var some = new ResourceIndexer(SearchParameterCatalog.Shared, declared);

        Assert.Equal(["Observation.code", "_tag"], declared.Entries);
        Assert.DoesNotContain(none.Extract(observation).TextSortKeys, k => k.Param is "status" or "code" or "_tag");
        Assert.Single(none.Extract(observation).DateSortKeys, k => k.Param == "date");
        Assert.Equal(
            [new TextSortKey("_tag", "a", "b"), new TextSortKey("code", "1234-5", "8867-4")],
            some.Extract(observation).TextSortKeys.OrderBy(k => k.Param, StringComparer.Ordinal));
        var patientKeys = some.Extract(patient).TextSortKeys;
        Assert.Contains(new TextSortKey("_tag", "c", "c"), patientKeys);
        Assert.Contains(patientKeys, k => k.Param == "family");
        Assert.DoesNotContain(patientKeys, k => k.Param == "gender");
    }

    [Theory]
    [InlineData("Observation.family", "Observation has no token search parameter 'family'")]
    [InlineData("Patient.name", "Patient has no token search parameter 'name'")]
    [InlineData("Nonsense.status", "is neither")]
    [InlineData("status;drop", "is neither")]
    [InlineData("Observation.", "is neither")]
    public void A_bad_entry_is_refused_with_what_is_wrong(string entry, string message)
    {
        var error = Assert.Throws<InvalidStorageRequestException>(() => SortableTokens.Parse([entry], SearchParameterCatalog.Shared));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidStorageRequestException>(() => new StorageOptions { SortableTokenParameters = [entry] }.Check());
    }
}
