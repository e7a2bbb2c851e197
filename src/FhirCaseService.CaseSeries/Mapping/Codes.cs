using Hl7.Fhir.Model;
using static FhirCaseService.CaseSeries.Mapping.FhirCaseCanonicals.CodeSystems;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>
/// Every code the converter emits, in one place. Standard codes are those listed as verified in the
/// project's terminology notes (or enumerated by a core R4 value set); concepts without a verified
/// standard code come from our own CodeSystems (profiles/CodeSystem-*.json), whose definitions say so.
/// </summary>
internal static class Codes
{
    public static Coding Snomed(string code, string display) => new(FhirCaseCanonicals.CodeSystems.Snomed, code, display);

    public static readonly Coding BcpAll = Snomed("277571004", "B-cell acute lymphoblastic leukemia");
    public static readonly Coding CancerDiseaseStatus = new(Loinc, "97509-4", "Cancer disease progression");
    public static readonly Coding Cd22Blasts = new(Loinc, "51124-6", null);
    public static readonly Coding Cd19Blasts = new(Concepts, "cd19-blasts", "CD19 positive blasts / 100 blasts");
    public static readonly Coding AntigenDensity = new(Concepts, "antigen-density", "Antigen density on blasts");
    public static readonly Coding Mrd = new(Concepts, "mrd", "Measurable residual disease");
    public static readonly Coding BoneMarrow = Snomed("14016003", "Bone marrow structure");
    public static readonly Coding Inotuzumab = new(RxNorm, "1942950", "inotuzumab ozogamicin");
    public static readonly Coding Tisagenlecleucel = new(Atc, "L01XL04", "tisagenlecleucel");
    public static readonly Coding Hsct = Snomed("234336002", "Hemopoietic stem cell transplant");
    public static readonly Coding RadiotherapyCourse = Snomed("1217123003", "Radiotherapy course of treatment");
    public static readonly Coding EyeProper = Snomed("81745001", "Structure of eye proper");

    public static readonly Coding Laboratory = new(ObservationCategory, "laboratory", "Laboratory");
    public static readonly Coding ProblemListItem = new(ConditionCategory, "problem-list-item", "Problem List Item");
    public static readonly Coding ClinicalActive = new(ConditionClinical, "active", "Active");
    public static readonly Coding ClinicalRemission = new(ConditionClinical, "remission", "Remission");
    public static readonly Coding ClinicalRelapse = new(ConditionClinical, "relapse", "Relapse");
    public static readonly Coding Confirmed = new(ConditionVerification, "confirmed", "Confirmed");

    public static readonly Coding Positive = new(ObservationInterpretation, "POS", "Positive");
    public static readonly Coding Negative = new(ObservationInterpretation, "NEG", "Negative");
    public static readonly Coding NotDetected = new(ObservationInterpretation, "ND", "Not detected");

    public static readonly Coding Author = new(ProvenanceParticipantType, "author", "Author");
    public static readonly Coding Assembler = new(ProvenanceParticipantType, "assembler", "Assembler");

    /// <summary>Input response / disease status -> the disease-status value set (fhircase-disease-status).</summary>
    public static Coding DiseaseStatus(string inputCode) => inputCode switch
    {
        "CR" => Snomed("103338009", "In full remission"),
        "CRi" => new Coding(Concepts, "cri", "Complete remission with incomplete hematologic recovery"),
        "no-response" => new Coding(Concepts, "no-response", "No response"),
        "refractory" => new Coding(Concepts, "refractory", "Refractory disease"),
        "relapse" => RelapsePhase,
        _ => throw new ArgumentOutOfRangeException(nameof(inputCode), inputCode, "not a disease status code of the input format"),
    };

    public static readonly Coding RelapsePhase = Snomed("263855007", "Relapse phase");

    /// <summary>The relapse-site concept for a site the source does not report (the extension's binding is required).</summary>
    public static readonly Coding RelapseSiteNotReported = new(FhirCaseCanonicals.CodeSystems.RelapseSite, "not-reported", "Not reported");

    /// <summary>The MRD-method concept for a method the source does not report (Observation.method is required, bound required).</summary>
    public static readonly Coding MrdMethodNotReported = new(FhirCaseCanonicals.CodeSystems.MrdMethod, "not-reported", "Not reported");

    public static Coding RelapseSite(string inputCode) => inputCode switch
    {
        "marrow" => new Coding(FhirCaseCanonicals.CodeSystems.RelapseSite, "marrow", "Bone marrow"),
        "cns" => new Coding(FhirCaseCanonicals.CodeSystems.RelapseSite, "cns", "Central nervous system"),
        "testis" => new Coding(FhirCaseCanonicals.CodeSystems.RelapseSite, "testis", "Testis"),
        "eye" => new Coding(FhirCaseCanonicals.CodeSystems.RelapseSite, "eye", "Eye"),
        "other-extramedullary" => new Coding(FhirCaseCanonicals.CodeSystems.RelapseSite, "other-extramedullary", "Other extramedullary site"),
        _ => throw new ArgumentOutOfRangeException(nameof(inputCode), inputCode, "not a relapse site of the input format"),
    };

    public static Coding MrdMethod(string inputCode) => inputCode switch
    {
        "flow-cytometry" => new Coding(FhirCaseCanonicals.CodeSystems.MrdMethod, "flow-cytometry", "Multiparameter flow cytometry"),
        "pcr" => new Coding(FhirCaseCanonicals.CodeSystems.MrdMethod, "pcr", "Quantitative PCR"),
        "ngs" => new Coding(FhirCaseCanonicals.CodeSystems.MrdMethod, "ngs", "Next-generation sequencing"),
        _ => throw new ArgumentOutOfRangeException(nameof(inputCode), inputCode, "not an MRD method of the input format"),
    };

    public static Coding DonorType(string inputCode) => inputCode switch
    {
        "matched-sibling" => new Coding(FhirCaseCanonicals.CodeSystems.DonorType, inputCode, "Matched sibling donor"),
        "matched-unrelated" => new Coding(FhirCaseCanonicals.CodeSystems.DonorType, inputCode, "Matched unrelated donor"),
        "mismatched-unrelated" => new Coding(FhirCaseCanonicals.CodeSystems.DonorType, inputCode, "Mismatched unrelated donor"),
        "haploidentical" => new Coding(FhirCaseCanonicals.CodeSystems.DonorType, inputCode, "Haploidentical donor"),
        "cord-blood" => new Coding(FhirCaseCanonicals.CodeSystems.DonorType, inputCode, "Umbilical cord blood"),
        _ => throw new ArgumentOutOfRangeException(nameof(inputCode), inputCode, "not a donor type of the input format"),
    };

    /// <summary>Laterality from the core R4 ValueSet bodysite-laterality.</summary>
    public static Coding Laterality(string inputCode) => inputCode switch
    {
        "right" => Snomed("419465000", "Unilateral right"),
        "left" => Snomed("419161000", "Unilateral left"),
        "both" => Snomed("51440002", "Right and left"),
        _ => throw new ArgumentOutOfRangeException(nameof(inputCode), inputCode, "not a laterality of the input format"),
    };

    /// <summary>Our concept for an intent the source does not report, included in the treatment-intent ValueSet.</summary>
    public static readonly Coding TreatmentIntentNotReported = new(Concepts, "intent-not-reported", "Treatment intent not reported");

    public static Coding TreatmentIntent(string inputCode) => inputCode switch
    {
        "palliative" => Snomed("363676003", "Palliative - procedure intent"),
        "curative" => Snomed("373808002", "Curative - procedure intent"),
        _ => throw new ArgumentOutOfRangeException(nameof(inputCode), inputCode, "not a treatment intent of the input format"),
    };

    public static Coding DataProvenance(bool illustrative) => illustrative
        ? new Coding(FhirCaseCanonicals.CodeSystems.DataProvenance, "illustrative", "Illustrative")
        : new Coding(FhirCaseCanonicals.CodeSystems.DataProvenance, "reported", "Reported");

    /// <summary>The tag of every resource of a generated cohort; a fresh copy each time, since the SDK's elements are mutable.</summary>
    public static Coding Synthetic => new(FhirCaseCanonicals.CodeSystems.DataProvenance, "synthetic", "Synthetic");

    /// <summary>Data-absent-reason "unknown": the source does not report the value.</summary>
    public static readonly Coding AbsentUnknown = new(FhirCaseCanonicals.CodeSystems.DataAbsentReason, "unknown", "Unknown");

    public static CodeableConcept Concept(Coding coding) => new() { Coding = [(Coding)coding.DeepCopy()] };
}
