using FhirCaseService.Validation.Instance;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// The element names the fast read accepts ship as a table so start-up does not walk the whole model by reflection
/// (issue 13): the table must say exactly what the walk says. After an SDK upgrade, write it again with
/// FHIRCASE_WRITE_ELEMENT_NAMES=1 dotnet test tests/FhirCaseService.Validation.Tests --filter ElementNamesTableTests.
/// </summary>
public sealed class ElementNamesTableTests
{
    [Fact]
    public void EmbeddedTableHoldsWhatTheModelWalkGives()
    {
        var fromModel = ElementNames.WriteTable(ElementNames.FromModel());
        if (Environment.GetEnvironmentVariable("FHIRCASE_WRITE_ELEMENT_NAMES") == "1")
            File.WriteAllText(FhirCaseService.TestSupport.RepositoryRoot.Combine("src/FhirCaseService.Validation/Instance/ElementNames.R4.txt"), fromModel);

        var embedded = ElementNames.WriteTable((ElementNames.All, ElementNames.OtherSpellings));
        Assert.Equal(fromModel, embedded);
    }

    [Fact]
    public void TableKeepsTheTwoSpellingsApart()
    {
        IReadOnlySet<string> names = ElementNames.All;
        Assert.Contains("bodySite", names);
        Assert.DoesNotContain("bodysite", names);
        Assert.Contains(ElementNames.OtherSpellings, p => p.Value.Contains("bodysite"));
        Assert.Contains("resourceType", names);
        Assert.Contains("valueQuantity", names);
    }
}
