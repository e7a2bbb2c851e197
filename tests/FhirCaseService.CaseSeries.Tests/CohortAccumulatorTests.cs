using System.Text.Json;
using FhirCaseService.CaseSeries.Summary;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>
/// A server summarises a large cohort a page of patients at a time; the summary and the swimmer plot's events must not
/// depend on how the patients were grouped.
/// </summary>
public sealed class CohortAccumulatorTests(SyntheticCohortFixture cohort) : IClassFixture<SyntheticCohortFixture>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(SyntheticCohortFixture.Patients)]
    public void Patients_added_in_groups_give_the_summary_and_events_of_the_whole_set(int patientsPerGroup)
    {
        var bundles = cohort.TransactionBundles().Select(b => b.Bundle).ToList();
        var whole = new ResourceSet();
        foreach (var bundle in bundles)
            whole.AddBundle(bundle);
        var expected = CaseSeriesTimeline.Compute(whole);
        var grouped = new CohortAccumulator(keepEvents: true);

        foreach (var group in bundles.Chunk(patientsPerGroup))
        {
            var set = new ResourceSet();
            foreach (var bundle in group)
                set.AddBundle(bundle);
            grouped.AddAll(set);
        }
        var actual = CaseSeriesTimeline.From(grouped);

        Assert.Equal(SyntheticCohortFixture.Patients, expected.Summary.Patients);
        Assert.Equal(JsonSerializer.Serialize(expected.Summary, Web), JsonSerializer.Serialize(actual.Summary, Web));
        Assert.Equal(JsonSerializer.Serialize(expected.Patients, Web), JsonSerializer.Serialize(actual.Patients, Web));
    }

    [Fact]
    public void Resources_of_a_patient_outside_the_set_are_not_counted()
    {
        var bundles = cohort.TransactionBundles().Select(b => b.Bundle).Where(b => b.Entry.Any(e => e.Resource is Patient)).Take(2).ToList();
        var set = ResourceSet.FromBundle(bundles[0]);
        foreach (var entry in bundles[1].Entry.Where(e => e.Resource is not Patient))
            set.Add(entry.Resource, entry.FullUrl);
        var accumulator = new CohortAccumulator(keepEvents: false);

        accumulator.AddAll(set);

        Assert.Equal(1, accumulator.PatientCount);
        Assert.Equal(JsonSerializer.Serialize(CohortSummaryCalculator.Compute(ResourceSet.FromBundle(bundles[0])), Web),
            JsonSerializer.Serialize(accumulator.Summary(), Web));
    }
}
