using FhirCaseService.CaseSeries.Input;
using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// Computes <see cref="CohortSummary"/> from FHIR resources alone (never from the input records), so it
/// works the same on a converter Bundle, on a server's export, or on data from elsewhere. Resources are
/// recognised by their codes (docs/resource-model.md), not by meta.profile, and linked by their references.
/// </summary>
public static class CohortSummaryCalculator
{
    public static CohortSummary Compute(ResourceSet resources)
    {
        // Each resource is attributed to its patient once, so the work grows with the number of resources, not patients x resources.
        var bySubject = resources.Resources
            .Select(r => (Resource: r, Subject: SubjectOf(r, resources)))
            .Where(x => x.Subject is not null)
            .ToLookup(x => (object)x.Subject!, x => x.Resource, ReferenceEqualityComparer.Instance);
        var courses = resources.OfType<Patient>()
            .Select(p => PatientTimeline.For(p, bySubject[p].ToList(), resources))
            .OrderBy(t => t.Label, StringComparer.Ordinal)
            .ToList();
        var perPatient = courses.Select(c => c.ToCourse()).ToList();
        var cycles = perPatient.Where(p => p.AlloHsct).Select(p => p.InoCyclesBeforeHsct).ToList();
        var followUps = perPatient
            .Where(p => p.AlloHsct && !p.RelapseAfterHsct && p.FollowUpMonthsAfterHsct is not null)
            .Select(p => (decimal)p.FollowUpMonthsAfterHsct!.Value)
            .ToList();

        return new CohortSummary(
            Patients: perPatient.Count,
            CarTIndication: Count(perPatient.Select(p => p.CarTIndication)),
            PostCarTRelapsePhenotype: Count(perPatient.Select(p => p.PostCarTRelapsePhenotype)),
            CompleteRemissionAfterFirstInoCycle: perPatient.Count(p => p.CompleteRemissionAfterFirstInoCycle),
            MrdNegativeAfterIno: perPatient.Count(p => p.MrdNegativeAfterIno),
            FewestInoCyclesBeforeHsct: cycles.Count == 0 ? null : cycles.Min(),
            MostInoCyclesBeforeHsct: cycles.Count == 0 ? null : cycles.Max(),
            AlloHsct: perPatient.Count(p => p.AlloHsct),
            IsolatedExtramedullaryRelapsesAfterHsct: courses.Select(c => c.ExtramedullaryRelapse()).OfType<ExtramedullaryRelapseAfterHsct>().ToList(),
            StatusAtLastFollowUp: Count(perPatient.Select(p => p.StatusAtLastFollowUp)),
            MeanFollowUpMonthsAfterHsctWithoutRelapse: followUps.Count == 0 ? null : Math.Round(followUps.Average(), 1, MidpointRounding.AwayFromZero),
            PerPatient: perPatient);
    }

    private static Patient? SubjectOf(Resource resource, ResourceSet resources) => resources.Resolve(resource switch
    {
        Observation observation => observation.Subject,
        MedicationAdministration administration => administration.Subject,
        Procedure procedure => procedure.Subject,
        _ => null,
    }) as Patient;

    private static List<CategoryCount> Count(IEnumerable<string?> categories) => categories
        .Select(c => c ?? "not known")
        .GroupBy(c => c, StringComparer.Ordinal)
        .Select(g => new CategoryCount(g.Key, g.Count()))
        .OrderByDescending(c => c.Count)
        .ThenBy(c => c.Category, StringComparer.Ordinal)
        .ToList();

    /// <summary>Whole calendar months from <paramref name="from"/> to <paramref name="to"/> (a month counts once its day is reached).</summary>
    internal static int MonthsBetween(DateOnly from, DateOnly to) =>
        (to.Year - from.Year) * 12 + to.Month - from.Month - (to.Day < from.Day ? 1 : 0);

    /// <summary>The earliest day a FHIR date/dateTime may denote; null when absent or unreadable.</summary>
    internal static DateOnly? DateOf(DataType? value)
    {
        var text = value switch
        {
            FhirDateTime dateTime => dateTime.Value,
            Date date => date.Value,
            Period period => period.Start,
            _ => null,
        };
        return text is not null && PartialDate.TryParse(text.Length > 10 ? text[..10] : text, out var parsed) ? parsed.Earliest : null;
    }

    internal static bool Has(CodeableConcept? concept, Coding coding) =>
        concept?.Coding.Any(c => c.System == coding.System && c.Code == coding.Code) == true;

    internal static string? StatusLabel(Observation status)
    {
        if (status.Value is not CodeableConcept value)
            return null;
        if (Has(value, Codes.DiseaseStatus("CR"))) return "CR";
        if (Has(value, Codes.DiseaseStatus("CRi"))) return "CRi";
        if (Has(value, Codes.DiseaseStatus("no-response"))) return "no response";
        if (Has(value, Codes.DiseaseStatus("refractory"))) return "refractory";
        if (Has(value, Codes.RelapsePhase)) return "relapse";
        return value.Coding.FirstOrDefault()?.Code;
    }
}
