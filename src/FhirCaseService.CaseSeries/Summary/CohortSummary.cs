namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// The headline numbers of a CAR-T / inotuzumab / HSCT case series, computed from FHIR resources only.
/// Counts are numbers of patients. Immutable; rendered as a table or JSON at the CLI boundary.
/// </summary>
public sealed record CohortSummary(
    int Patients,
    IReadOnlyList<CategoryCount> CarTIndication,
    IReadOnlyList<CategoryCount> PostCarTRelapsePhenotype,
    int CompleteRemissionAfterFirstInoCycle,
    int MrdNegativeAfterIno,
    int? FewestInoCyclesBeforeHsct,
    int? MostInoCyclesBeforeHsct,
    int AlloHsct,
    IReadOnlyList<ExtramedullaryRelapseAfterHsct> IsolatedExtramedullaryRelapsesAfterHsct,
    IReadOnlyList<CategoryCount> StatusAtLastFollowUp,
    decimal? MeanFollowUpMonthsAfterHsctWithoutRelapse,
    IReadOnlyList<PatientCourse> PerPatient);

public sealed record CategoryCount(string Category, int Count);

/// <summary>A patient whose relapse after HSCT involved only extramedullary sites, and what followed.</summary>
/// <param name="MonthsAfterHsct">Whole months from HSCT to each such relapse.</param>
/// <param name="MonthsFromLastRelapseToLastFollowUp">Whole months from the last of these relapses to the last disease status.</param>
public sealed record ExtramedullaryRelapseAfterHsct(
    string Patient,
    IReadOnlyList<int> MonthsAfterHsct,
    IReadOnlyList<string> Sites,
    IReadOnlyList<string> RadiotherapyBodySites,
    bool PalliativeRadiotherapy,
    int? MonthsFromLastRelapseToLastFollowUp,
    string? StatusAtLastFollowUp);

/// <summary>The per-patient facts the cohort numbers are made of.</summary>
public sealed record PatientCourse(
    string Patient,
    string? CarTIndication,
    string? PostCarTRelapsePhenotype,
    bool CompleteRemissionAfterFirstInoCycle,
    bool MrdNegativeAfterIno,
    int InoCyclesBeforeHsct,
    bool AlloHsct,
    bool RelapseAfterHsct,
    bool IsolatedExtramedullaryRelapseAfterHsct,
    int? FollowUpMonthsAfterHsct,
    string? StatusAtLastFollowUp);
