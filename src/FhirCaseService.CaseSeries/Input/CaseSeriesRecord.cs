namespace FhirCaseService.CaseSeries.Input;

// The input model of one case-series file, as documented in docs/case-series-format.md.
// Immutable; built only by CaseSeriesReader, which has already checked every rule the format states.
// Each part keeps its Path (e.g. "patients[1].relapses[0]") so the mapper can tell which facts are illustrative.

public sealed record CaseSeriesRecord(
    string SeriesId,
    string Title,
    string Citation,
    string? Doi,
    PartialDate PublicationDate,
    Timeline Timeline,
    string CompiledBy,
    IReadOnlyList<CasePatient> Patients);

/// <summary>How the dates of the record relate to real time (for published series: a shifted, relative timeline).</summary>
public sealed record Timeline(PartialDate AnchorDate, string Explanation);

public sealed record CasePatient(
    string Path,
    string Pseudonym,
    IllustrativeFields Illustrative,
    Fact<string> Sex,
    Fact<int> BirthYear,
    Fact<int> AgeAtDiagnosisYears,
    Diagnosis Diagnosis,
    IReadOnlyList<Relapse> Relapses,
    IReadOnlyList<PriorTherapyLine> PriorTherapyLines,
    CarTInfusion? CarT,
    IReadOnlyList<InotuzumabCycle> InotuzumabCycles,
    IReadOnlyList<ResponseAssessment> ResponseAssessments,
    Transplant? Hsct,
    IReadOnlyList<RadiotherapyCourse> Radiotherapy,
    FollowUp? FollowUp);

public sealed record Diagnosis(string Path, Fact<PartialDate> Date, Fact<string> Immunophenotype);

public sealed record Relapse(
    string Path,
    int Number,
    Fact<PartialDate> Date,
    Fact<IReadOnlyList<string>> Sites,
    Fact<string> Cd19,
    Fact<string> Cd22);

public sealed record PriorTherapyLine(string Path, int Line, Fact<string> Description);

public sealed record CarTInfusion(string Path, string Product, Fact<PartialDate> Date);

public sealed record InotuzumabCycle(string Path, int Cycle, IReadOnlyList<InotuzumabDose> Doses);

/// <summary>One dose; <see cref="Day"/> is the cycle day (1 = first dose of the cycle), given or derived from the dates.</summary>
public sealed record InotuzumabDose(string Path, Fact<PartialDate> Date, int Day, Fact<decimal> DoseMgPerM2);

public sealed record ResponseAssessment(
    string Path,
    PartialDate Date,
    Fact<string> Response,
    TreatmentReference? AfterTreatment,
    MrdResult? Mrd);

/// <summary>The treatment a response assessment follows: "car-t", "hsct", "inotuzumab-cycle-N" or "radiotherapy-N".</summary>
public sealed record TreatmentReference(string Kind, int? Number)
{
    public const string CarT = "car-t";
    public const string Hsct = "hsct";
    public const string InotuzumabCycle = "inotuzumab-cycle";
    public const string Radiotherapy = "radiotherapy";

    public override string ToString() => Number is int n ? $"{Kind}-{n}" : Kind;
}

/// <summary>An MRD result: a percentage, "not-detected", or not reported.</summary>
public sealed record MrdResult(
    string Path,
    Fact<decimal?> Percent,
    Fact<string> Method,
    Fact<decimal> LimitOfDetectionPercent,
    string Specimen)
{
    /// <summary>A reported result with no percentage means "not detected".</summary>
    public bool IsNotDetected => Percent.IsReported && Percent.Value is null;
}

public sealed record Transplant(string Path, Fact<PartialDate> Date, Fact<string> DonorType, Fact<string> Conditioning);

public sealed record RadiotherapyCourse(
    string Path,
    Fact<PartialDate> StartDate,
    Fact<PartialDate> EndDate,
    string Site,
    Fact<string> Laterality,
    string? SiteDescription,
    Fact<string> Intent,
    Fact<decimal> DoseGy,
    IReadOnlyList<int> ForRelapses);

public sealed record FollowUp(string Path, Fact<PartialDate> LastContactDate, Fact<string> DiseaseStatus, Fact<string> VitalStatus);
