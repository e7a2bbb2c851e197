namespace FhirCaseService.Storage.Search;

/// <summary>
/// Which reference parameters put a resource in a patient's compartment, for the types this service stores.
/// Copied from the R4 CompartmentDefinition "patient" (compartmentdefinition-patient.json, FHIR 4.0.1): Patient:link,
/// Condition: patient, asserter; MedicationAdministration: patient, performer, subject; Procedure: patient, performer;
/// Observation: subject, performer; Provenance: patient; Group: member.
/// </summary>
public static class PatientCompartment
{
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ParametersByType { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["Patient"] = ["link"],
        ["Condition"] = ["patient", "asserter"],
        ["MedicationAdministration"] = ["patient", "performer", "subject"],
        ["Procedure"] = ["patient", "performer"],
        ["Observation"] = ["subject", "performer"],
        ["Provenance"] = ["patient"],
        ["Group"] = ["member"],
    };
}
