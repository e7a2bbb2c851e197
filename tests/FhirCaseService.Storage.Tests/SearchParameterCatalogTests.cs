using FhirCaseService.Storage.Indexing;

namespace FhirCaseService.Storage.Tests;

public sealed class SearchParameterCatalogTests
{
    [Theory]
    // R4 declares clinical-patient for Patient and Group, but each type's branch filters to Patient.
    [InlineData("Condition", "patient", new[] { "Patient" })]
    [InlineData("Observation", "patient", new[] { "Patient" })]
    [InlineData("MedicationAdministration", "patient", new[] { "Patient" })]
    // No filter in the expression: the declared targets stand.
    [InlineData("Observation", "subject", new[] { "Device", "Group", "Location", "Patient" })]
    public void A_reference_parameter_targets_what_its_expression_can_point_at(string type, string name, string[] expected)
    {
        var parameter = SearchParameterCatalog.Shared.Find(type, name)!;

        Assert.Equal(expected, parameter.Targets.Order(StringComparer.Ordinal));
    }
}
