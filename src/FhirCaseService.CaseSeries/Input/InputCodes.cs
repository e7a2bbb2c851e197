namespace FhirCaseService.CaseSeries.Input;

/// <summary>The closed code lists of the input format (docs/case-series-format.md and the JSON Schema list the same).</summary>
public static class InputCodes
{
    public static readonly IReadOnlyList<string> Sex = ["female", "male", "other"];
    public static readonly IReadOnlyList<string> Immunophenotype = ["b-cell-precursor", "pro-b", "common-b", "pre-b"];
    public static readonly IReadOnlyList<string> RelapseSite = ["marrow", "cns", "testis", "eye", "other-extramedullary"];
    public static readonly IReadOnlyList<string> AntigenStatus = ["positive", "negative"];
    public static readonly IReadOnlyList<string> CarTProduct = ["tisagenlecleucel"];
    public static readonly IReadOnlyList<string> DiseaseStatus = ["CR", "CRi", "no-response", "relapse", "refractory"];
    public static readonly IReadOnlyList<string> MrdMethod = ["flow-cytometry", "pcr", "ngs"];
    public static readonly IReadOnlyList<string> MrdSpecimen = ["bone-marrow"];
    public static readonly IReadOnlyList<string> DonorType = ["matched-sibling", "matched-unrelated", "mismatched-unrelated", "haploidentical", "cord-blood"];
    public static readonly IReadOnlyList<string> RadiotherapySite = ["eye", "cns", "testis", "other"];
    public static readonly IReadOnlyList<string> Laterality = ["right", "left", "both"];
    public static readonly IReadOnlyList<string> TreatmentIntent = ["palliative", "curative"];
    public static readonly IReadOnlyList<string> VitalStatus = ["alive", "dead"];

    /// <summary>The value of an MRD result meaning "below the limit of detection".</summary>
    public const string MrdNotDetected = "not-detected";

    /// <summary>Top-level fields of a patient, which are also the first segments an "illustrative" path may start with.</summary>
    public static readonly IReadOnlyList<string> PatientFields =
    [
        "pseudonym", "illustrative", "sex", "birthYear", "ageAtDiagnosisYears", "diagnosis", "relapses", "priorTherapyLines",
        "carT", "inotuzumabCycles", "responseAssessments", "hsct", "radiotherapy", "followUp",
    ];
}
