using FhirCaseService.CaseSeries.Input;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>
/// Maps a checked case-series record to one FHIR transaction Bundle: a Group for the series, then per
/// patient its profiled resources and Provenance. Deterministic: the same record gives the same Bundle,
/// byte for byte once serialized with <see cref="CaseSeriesJson"/>.
/// </summary>
public static class CaseSeriesMapper
{
    public static Bundle ToTransactionBundle(CaseSeriesRecord series)
    {
        var assembly = new BundleAssembly(series.Synthetic);
        var patientKeys = series.Patients.Select(p => PatientMapper.PatientKey(series, p)).ToList();
        var group = new Group
        {
            Identifier = [new Identifier(FhirCaseCanonicals.CaseSeriesSystem, series.SeriesId)],
            Active = true,
            Type = Group.GroupType.Person,
            Actual = true,
            Name = series.Title,
            Quantity = series.Patients.Count,
            Member = patientKeys.Select(k => new Group.MemberComponent { Entity = assembly.Reference(k) }).ToList(),
            Text = Narratives.Line($"Case series {series.SeriesId}: {series.Title} ({series.Patients.Count} patients). Source: {series.Citation}"),
        };
        assembly.Add(ResourceKey.For("Group", series.SeriesId), group, profile: null, illustrative: false, "case series");
        foreach (var patient in series.Patients)
            PatientMapper.Map(series, patient, assembly);
        return assembly.ToTransaction();
    }

    /// <summary>
    /// The resources of one patient alone (no Group), for writers that stream a cohort patient by patient; the
    /// series supplies ids, citation and dates, its patient list is not read.
    /// </summary>
    internal static BundleAssembly MapPatient(CaseSeriesRecord series, CasePatient patient, ReferenceStyle references)
    {
        var assembly = new BundleAssembly(series.Synthetic, references);
        PatientMapper.Map(series, patient, assembly);
        return assembly;
    }
}
