using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>The text form of generated Bundles: the shared FHIR serializer, pretty-printed, '\n' line ends, final newline.</summary>
public static class CaseSeriesJson
{
    public static string Serialize(Resource resource) =>
        FhirSerialization.ToJson(resource, pretty: true).ReplaceLineEndings("\n") + "\n";
}
