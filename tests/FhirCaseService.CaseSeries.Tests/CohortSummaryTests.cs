using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.CaseSeries.Tests.Support;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Tests;

public sealed class CohortSummaryTests
{
    private static Bundle PaperBundle() =>
        TestRecords.Convert(File.ReadAllText(RepositoryPaths.Examples("case-series", "aertgeerts-2025-ino-bridge.json")));

    [Fact]
    public void Examples_reproduce_the_papers_headline_numbers()
    {
        var summary = CohortSummaryCalculator.Compute(ResourceSet.FromBundle(PaperBundle()));

        Assert.Equal(4, summary.Patients);
        Assert.Equal([new("after second relapse", 3), new("refractory first relapse", 1)], summary.CarTIndication);
        Assert.Equal([new("CD19-neg/CD22-pos", 3), new("CD19-pos/CD22-pos", 1)], summary.PostCarTRelapsePhenotype);
        Assert.Equal(4, summary.CompleteRemissionAfterFirstInoCycle);
        Assert.Equal(3, summary.MrdNegativeAfterIno);
        Assert.Equal((2, 3), (summary.FewestInoCyclesBeforeHsct, summary.MostInoCyclesBeforeHsct));
        Assert.Equal(4, summary.AlloHsct);
        var eye = Assert.Single(summary.IsolatedExtramedullaryRelapsesAfterHsct);
        Assert.Equal([6, 9], eye.MonthsAfterHsct);
        Assert.Equal(["eye"], eye.Sites);
        Assert.Contains("both eyes", Assert.Single(eye.RadiotherapyBodySites), StringComparison.Ordinal);
        Assert.True(eye.PalliativeRadiotherapy);
        Assert.Equal((25, "CR"), (eye.MonthsFromLastRelapseToLastFollowUp, eye.StatusAtLastFollowUp));
        Assert.Equal([new("CR", 4)], summary.StatusAtLastFollowUp);
        Assert.Equal(31.3m, summary.MeanFollowUpMonthsAfterHsctWithoutRelapse);
    }

    [Fact]
    public void Summary_is_the_same_from_server_style_resources_with_type_and_id_references()
    {
        // A server rewrites urn:uuid references to Type/id; an NDJSON export has no fullUrls at all.
        var bundle = PaperBundle();
        var rewrite = bundle.Entry.ToDictionary(e => e.FullUrl, e => e.Request.Url);
        var ndjson = string.Join("\n", bundle.Entry.Select(e => FhirSerialization.ToJson(e.Resource)).Select(json =>
            rewrite.Aggregate(json, (text, pair) => text.Replace(pair.Key, pair.Value, StringComparison.Ordinal))));
        using var folder = new TempDirectory();
        Directory.CreateDirectory(folder.Path);
        File.WriteAllText(folder.Sub("export.ndjson"), ndjson);

        var exported = new CohortFileSummary().Summarise([new CohortFile("export.ndjson", folder.Sub("export.ndjson"), IsNdjson: true)]);

        Assert.Empty(exported.Problems);
        Assert.DoesNotContain("urn:uuid", ndjson, StringComparison.Ordinal);
        Assert.Equivalent(CohortSummaryCalculator.Compute(ResourceSet.FromBundle(bundle)), exported.Summary, strict: true);
    }

    [Fact]
    public void A_marrow_relapse_after_hsct_is_not_isolated_extramedullary()
    {
        var bundle = TestRecords.Convert(TestRecords.With(root => TestRecords.Patient(root)["relapses"]![2]!["sites"] = new System.Text.Json.Nodes.JsonArray("eye", "marrow")));

        var summary = CohortSummaryCalculator.Compute(ResourceSet.FromBundle(bundle));

        Assert.Empty(summary.IsolatedExtramedullaryRelapsesAfterHsct);
        Assert.True(summary.PerPatient.Single().RelapseAfterHsct);
        Assert.Null(summary.MeanFollowUpMonthsAfterHsctWithoutRelapse);
    }

    [Fact]
    public void A_relapse_after_hsct_whose_site_is_not_reported_is_not_isolated_extramedullary()
    {
        // The converter codes the unreported site with our "not-reported" concept; that is no site, not an extramedullary one.
        var bundle = TestRecords.Convert(TestRecords.With(root => TestRecords.Patient(root)["relapses"]![2]!["sites"] = "not-reported"));

        var summary = CohortSummaryCalculator.Compute(ResourceSet.FromBundle(bundle));

        Assert.Empty(summary.IsolatedExtramedullaryRelapsesAfterHsct);
        Assert.True(summary.PerPatient.Single().RelapseAfterHsct);
    }

    [Fact]
    public void Mrd_detected_after_ino_does_not_count_as_mrd_negative()
    {
        var bundle = TestRecords.Convert(TestRecords.With(root => TestRecords.Patient(root)["responseAssessments"]![0]!["mrd"]!["result"] = 0.2));

        Assert.Equal(0, CohortSummaryCalculator.Compute(ResourceSet.FromBundle(bundle)).MrdNegativeAfterIno);
    }

    [Fact]
    public void Cr_after_a_later_cycle_is_not_cr_after_the_first_cycle()
    {
        var bundle = TestRecords.Convert(TestRecords.With(root =>
        {
            var assessment = TestRecords.Patient(root)["responseAssessments"]![0]!;
            assessment["date"] = "2020-02-05";
            assessment["afterTreatment"] = "inotuzumab-cycle-2";
        }));

        Assert.Equal(0, CohortSummaryCalculator.Compute(ResourceSet.FromBundle(bundle)).CompleteRemissionAfterFirstInoCycle);
    }

    [Theory]
    [InlineData("2020-04-01", "2022-08-01", 28)]
    [InlineData("2020-04-15", "2022-08-14", 27)]
    [InlineData("2020-01-31", "2020-02-29", 0)]
    [InlineData("2020-01-31", "2020-03-31", 2)]
    public void Months_count_whole_calendar_months(string from, string to, int months)
    {
        Assert.Equal(months, CohortSummaryCalculator.MonthsBetween(DateOnly.Parse(from, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(to, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
