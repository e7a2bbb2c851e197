using System.Globalization;
using FhirCaseService.CaseSeries.Input;
using FhirCaseService.CaseSeries.Mapping;

namespace FhirCaseService.CaseSeries.Synthetic;

/// <summary>
/// The identity of a generated cohort: its series (id <c>synthetic-s{seed}</c>, so cohorts of different seeds never
/// overwrite each other), and per patient index its pseudonym and clinical course. Nothing here depends on the other
/// patients, so any patient can be made on its own, in any order or thread.
/// </summary>
internal sealed class SyntheticCohort
{
    private readonly string _pseudonymFormat;

    public SyntheticCohort(int seed, int patients)
    {
        Seed = seed;
        Patients = patients;
        // Six digits at least, so the ids of a patient are the same in every cohort up to 999,999 patients.
        IndexWidth = Math.Max(6, patients.ToString(CultureInfo.InvariantCulture).Length);
        _pseudonymFormat = "D" + IndexWidth.ToString(CultureInfo.InvariantCulture);
        var anchor = new PartialDate(2005, 1, 1);
        Series = new CaseSeriesRecord(
            SeriesId: $"synthetic-s{seed.ToString(CultureInfo.InvariantCulture)}",
            Title: "Synthetic cohort: relapsed pediatric BCP-ALL after tisagenlecleucel, inotuzumab ozogamicin bridge to allo-HSCT",
            Citation: $"Synthetic data (fhircase generate, seed {seed.ToString(CultureInfo.InvariantCulture)}) shaped like the case series of Aertgeerts et al., Cancer Reports 2025, doi:10.1002/cnr2.70177",
            Doi: null,
            PublicationDate: anchor,
            Timeline: new Timeline(anchor, "Synthetic dates: each patient's diagnosis falls in 2005-2013 and every later event follows it; no date is real."),
            CompiledBy: $"fhircase generate (seed {seed.ToString(CultureInfo.InvariantCulture)})",
            Patients: [])
        {
            Synthetic = true,
        };
    }

    public int Seed { get; }

    public int Patients { get; }

    /// <summary>Digits of a patient index in pseudonyms and file names.</summary>
    public int IndexWidth { get; }

    public CaseSeriesRecord Series { get; }

    public string PaddedIndex(int index) => index.ToString(_pseudonymFormat, CultureInfo.InvariantCulture);

    public string Pseudonym(int index) => "p" + PaddedIndex(index);

    public CasePatient Patient(int index) => SyntheticCourse.Generate(Seed, index, Pseudonym(index));

    public ResourceKey PatientKey(int index) => ResourceKey.For("Patient", Series.SeriesId, Pseudonym(index));

    public ResourceKey GroupKey => ResourceKey.For("Group", Series.SeriesId);
}
