using FhirCaseService.CaseSeries.Summary;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Operations;

/// <summary>The FHIR form of a <see cref="CohortSummary"/>: a Parameters resource whose names follow the JSON form's properties.</summary>
public static class CaseSeriesSummaryParameters
{
    public static Parameters From(CohortSummary summary)
    {
        var result = new Parameters();
        result.Add("patients", new Integer(summary.Patients));
        result.Add("completeRemissionAfterFirstInoCycle", new Integer(summary.CompleteRemissionAfterFirstInoCycle));
        result.Add("mrdNegativeAfterIno", new Integer(summary.MrdNegativeAfterIno));
        AddIfKnown(result, "fewestInoCyclesBeforeHsct", summary.FewestInoCyclesBeforeHsct);
        AddIfKnown(result, "mostInoCyclesBeforeHsct", summary.MostInoCyclesBeforeHsct);
        result.Add("alloHsct", new Integer(summary.AlloHsct));
        if (summary.MeanFollowUpMonthsAfterHsctWithoutRelapse is decimal mean)
            result.Add("meanFollowUpMonthsAfterHsctWithoutRelapse", new FhirDecimal(mean));
        AddCounts(result, "carTIndication", summary.CarTIndication);
        AddCounts(result, "postCarTRelapsePhenotype", summary.PostCarTRelapsePhenotype);
        AddCounts(result, "statusAtLastFollowUp", summary.StatusAtLastFollowUp);
        foreach (var relapse in summary.IsolatedExtramedullaryRelapsesAfterHsct)
            result.Parameter.Add(Group("isolatedExtramedullaryRelapseAfterHsct",
            [
                Part("patient", new FhirString(relapse.Patient)),
                .. relapse.MonthsAfterHsct.Select(m => Part("monthsAfterHsct", new Integer(m))),
                .. relapse.Sites.Select(s => Part("site", new FhirString(s))),
                .. relapse.RadiotherapyBodySites.Select(s => Part("radiotherapyBodySite", new FhirString(s))),
                Part("palliativeRadiotherapy", new FhirBoolean(relapse.PalliativeRadiotherapy)),
                .. Optional("monthsFromLastRelapseToLastFollowUp", relapse.MonthsFromLastRelapseToLastFollowUp),
                .. Optional("statusAtLastFollowUp", relapse.StatusAtLastFollowUp),
            ]));
        foreach (var course in summary.PerPatient)
            result.Parameter.Add(Group("patient",
            [
                Part("patient", new FhirString(course.Patient)),
                .. Optional("carTIndication", course.CarTIndication),
                .. Optional("postCarTRelapsePhenotype", course.PostCarTRelapsePhenotype),
                Part("completeRemissionAfterFirstInoCycle", new FhirBoolean(course.CompleteRemissionAfterFirstInoCycle)),
                Part("mrdNegativeAfterIno", new FhirBoolean(course.MrdNegativeAfterIno)),
                Part("inoCyclesBeforeHsct", new Integer(course.InoCyclesBeforeHsct)),
                Part("alloHsct", new FhirBoolean(course.AlloHsct)),
                Part("relapseAfterHsct", new FhirBoolean(course.RelapseAfterHsct)),
                Part("isolatedExtramedullaryRelapseAfterHsct", new FhirBoolean(course.IsolatedExtramedullaryRelapseAfterHsct)),
                .. Optional("followUpMonthsAfterHsct", course.FollowUpMonthsAfterHsct),
                .. Optional("statusAtLastFollowUp", course.StatusAtLastFollowUp),
            ]));
        return result;
    }

    private static void AddIfKnown(Parameters parameters, string name, int? value)
    {
        if (value is int known)
            parameters.Add(name, new Integer(known));
    }

    private static void AddCounts(Parameters parameters, string name, IEnumerable<CategoryCount> counts)
    {
        foreach (var count in counts)
            parameters.Parameter.Add(Group(name, [Part("category", new FhirString(count.Category)), Part("count", new Integer(count.Count))]));
    }

    private static Parameters.ParameterComponent Group(string name, List<Parameters.ParameterComponent> parts) => new() { Name = name, Part = parts };

    private static Parameters.ParameterComponent Part(string name, DataType value) => new() { Name = name, Value = value };

    private static IEnumerable<Parameters.ParameterComponent> Optional(string name, int? value) =>
        value is int known ? [Part(name, new Integer(known))] : [];

    private static IEnumerable<Parameters.ParameterComponent> Optional(string name, string? value) =>
        value is null ? [] : [Part(name, new FhirString(value))];
}
