using System.Text.Json;
using Microsoft.Playwright;

namespace FhirCaseService.Browser.Tests;

/// <summary>The service with two swimmer rows a page, so the paper's four patients take two pages.</summary>
public sealed class TwoPerPageBrowserSession() : BrowserSession(new Dictionary<string, string?> { ["App:PatientsPerPage"] = "2" });

/// <summary>
/// A cohort of thousands is drawn a page of patients at a time (a 10,000-patient store made a 115 MB page before),
/// while the headline numbers still cover every patient.
/// </summary>
public sealed class CohortPagingTests(TwoPerPageBrowserSession session) : IClassFixture<TwoPerPageBrowserSession>
{
    private const string Group = "aertgeerts-2025-ino-bridge";

    [Fact]
    public async Task Each_page_draws_its_patients_and_the_links_lead_through_every_patient_once()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/");
        var first = await RowsAsync(observed.Page);
        var firstNav = await observed.Page.Locator("nav.pager p").TextContentAsync();

        await observed.Page.Locator("nav.pager a[rel=next]").ClickAsync();
        await observed.Page.WaitForURLAsync("**page=2");
        var second = await RowsAsync(observed.Page);
        var tableRows = await observed.Page.Locator("table.events tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.patientId)");
        var nextOnLastPage = await observed.Page.Locator("nav.pager a[rel=next]").CountAsync();
        await observed.Page.Locator("nav.pager a[rel=prev]").ClickAsync();
        await observed.Page.WaitForURLAsync("**page=1");

        Assert.Equal(["p1", "p2"], first);
        Assert.Equal(["p3", "p4"], second);
        Assert.Equal("Patients 1–2 of 4 (page 1 of 2)", firstNav);
        Assert.Equal(["p3", "p4"], tableRows.Distinct().Select(Short));
        Assert.Equal(0, nextOnLastPage);
        Assert.Equal(["p1", "p2"], await RowsAsync(observed.Page));
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Fact]
    public async Task The_headline_numbers_on_every_page_are_the_whole_cohorts()
    {
        await using var observed = await session.OpenAsync();
        using var summary = JsonDocument.Parse(await session.Service.Client.GetStringAsync($"/$case-series-summary?group={Group}"));
        var patients = summary.RootElement.GetProperty("patients").GetInt32().ToString();

        foreach (var page in new[] { 1, 2 })
        {
            await observed.Page.GotoAsync($"/app/?group={Group}&page={page}");
            Assert.Equal(patients, await observed.Page.Locator("[data-figure='patients'] dd").TextContentAsync());
            Assert.Equal("31.3 months", await observed.Page.Locator("[data-figure='mean-follow-up'] dd").TextContentAsync());
        }
    }

    [Fact]
    public async Task The_svg_download_is_the_shown_page()
    {
        using var svg = await session.Service.Client.GetAsync($"/app/swimmer.svg?group={Group}&page=2");
        var text = await svg.Content.ReadAsStringAsync();

        Assert.Contains($"data-patient-id=\"{Group}-p3\"", text);
        Assert.DoesNotContain($"data-patient-id=\"{Group}-p1\"", text);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("0")]
    [InlineData("x")]
    public async Task A_page_that_does_not_exist_is_a_404_page(string page)
    {
        using var response = await session.Service.Client.GetAsync($"/app/?group={Group}&page={page}");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No page", await response.Content.ReadAsStringAsync());
    }

    private static async Task<IEnumerable<string>> RowsAsync(IPage page) =>
        (await page.Locator("main svg.swimmer-plot g[data-patient-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.patientId)")).Select(Short);

    private static string Short(string patientId) => patientId[(Group.Length + 1)..];
}
