namespace FhirCaseService.CaseSeries.Input;

// The input model of one case-series file, as documented in docs/case-series-format.md.
// Immutable; built by CaseSeriesReader, which has already checked every rule the format states, or by the synthetic
// cohort generator (Synthetic/), whose clinical courses keep the same rules.
// Each part keeps its Path (e.g. "patients[1].relapses[0]") so the mapper can tell which facts are illustrative.

public sealed record CaseSeriesRecord(
    string SeriesId,
    string Title,
    string Citation,
    string? Doi,
    PartialDate PublicationDate,
    Timeline Timeline,
    string CompiledBy,
    IReadOnlyList<CasePatient> Patients)
{
    /// <summary>
    /// A generated cohort rather than a transcription: every resource is tagged <c>synthetic</c> instead of
    /// reported/illustrative. Not a field of the file format; only the generator sets it.
    /// </summary>
    public bool Synthetic { get; init; }
}

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
    AntigenResult Cd19,
    AntigenResult Cd22);

/// <summary>
/// An antigen on the blasts at a relapse: the status (positive / negative) and, when flow cytometry gives them, the
/// percent of blasts carrying it and the molecules per blast. Field names in the file: <c>cd19</c>,
/// <c>cd19PercentOfBlasts</c>, <c>cd19AntigenDensity</c> (and the same for cd22).
/// </summary>
public sealed record AntigenResult(Fact<string> Status, Fact<decimal> PercentOfBlasts, Fact<decimal> AntigenDensity)
{
    public static AntigenResult OfStatus(Fact<string> status) => new(status, Fact<decimal>.NotReported, Fact<decimal>.NotReported);
}

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
