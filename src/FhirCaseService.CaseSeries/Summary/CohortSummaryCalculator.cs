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
        var cohort = new CohortAccumulator(keepEvents: false);
        cohort.AddAll(resources);
        return cohort.Summary();
    }

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
