using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>
/// How "not reported" is written in FHIR: the core data-absent-reason extension (code "unknown") on an
/// element the profile requires, or Observation.dataAbsentReason for an observation's value. Optional
/// elements are simply left out, so no value is ever invented.
/// </summary>
internal static class Absent
{
    public static Extension Extension() => new(FhirCaseCanonicals.Extensions.DataAbsentReason, new Code("unknown"));

    /// <summary>Returns <paramref name="element"/> (empty of value) carrying the data-absent-reason extension.</summary>
    public static T Marked<T>(T element) where T : Element
    {
        element.Extension.Add(Extension());
        return element;
    }

    public static CodeableConcept ObservationReason() => Codes.Concept(Codes.AbsentUnknown);
}
