namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>The canonical URLs of docs/resource-model.md that generated resources point to.</summary>
public static class FhirCaseCanonicals
{
    public const string Base = "https://fhircase.example.org/fhir";

    public const string PseudonymSystem = Base + "/sid/case-series-pseudonym";
    public const string CaseSeriesSystem = Base + "/sid/case-series";

    public static string Profile(string id) => $"{Base}/StructureDefinition/{id}";

    public static string CodeSystem(string id) => $"{Base}/CodeSystem/{id}";

    public static class Profiles
    {
        public static readonly string Patient = Profile("fhircase-patient");
        public static readonly string Diagnosis = Profile("fhircase-bcpall-diagnosis");
        public static readonly string DiseaseStatus = Profile("fhircase-disease-status");
        public static readonly string Mrd = Profile("fhircase-mrd");
        public static readonly string Cd22 = Profile("fhircase-cd22-expression");
        public static readonly string Cd19 = Profile("fhircase-cd19-expression");
        public static readonly string InotuzumabAdministration = Profile("fhircase-ino-administration");
        public static readonly string CarTAdministration = Profile("fhircase-cart-administration");
        public static readonly string Hsct = Profile("fhircase-hsct");
        public static readonly string Radiotherapy = Profile("fhircase-radiotherapy");
    }

    public static class Extensions
    {
        public static readonly string RelapseNumber = Profile("relapse-number");
        public static readonly string RelapseSite = Profile("relapse-site");
        public static readonly string AssessedTreatment = Profile("assessed-treatment");
        public static readonly string MrdLimitOfDetection = Profile("mrd-limit-of-detection");
        public static readonly string InoCycle = Profile("ino-cycle");
        public const string InoCycleNumber = "cycleNumber";
        public const string InoCycleDay = "cycleDay";
        public static readonly string DonorType = Profile("donor-type");
        public static readonly string TreatmentIntent = Profile("treatment-intent");
        public static readonly string Laterality = Profile("laterality");
        public static readonly string RadiationDose = Profile("radiation-dose");

        /// <summary>Core R4 extension for "this value is missing, and why".</summary>
        public const string DataAbsentReason = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    }

    public static class CodeSystems
    {
        public static readonly string Concepts = CodeSystem("fhircase-concepts");
        public static readonly string RelapseSite = CodeSystem("fhircase-relapse-site");
        public static readonly string MrdMethod = CodeSystem("fhircase-mrd-method");
        public static readonly string DonorType = CodeSystem("fhircase-donor-type");
        public static readonly string DataProvenance = CodeSystem("fhircase-data-provenance");

        public const string Snomed = "http://snomed.info/sct";
        public const string Loinc = "http://loinc.org";
        public const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
        public const string Atc = "http://www.whocc.no/atc";
        public const string Ucum = "http://unitsofmeasure.org";
        public const string ObservationInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
        public const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
        public const string ConditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category";
        public const string ConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
        public const string ConditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
        public const string DataAbsentReason = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
        public const string ProvenanceParticipantType = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
        public const string Doi = "https://doi.org";
    }
}
