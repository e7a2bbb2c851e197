namespace FhirCaseService.Browser.Tests;

/// <summary>A patient's page in real headless Chromium over the paper's case series.</summary>
public sealed class PatientPageTests(BrowserSession session) : IClassFixture<BrowserSession>
{
    private const string Prefix = "aertgeerts-2025-ino-bridge-";

    [Fact]
    public async Task Patient_page_shows_that_patients_mrd_results()
    {
        await using var observed = await session.OpenAsync();
        var response = await observed.Page.GotoAsync($"/app/patients/{Prefix}p3");

        Assert.Equal(200, response!.Status);
        // P3 is the one patient whose MRD stayed detectable after inotuzumab: 0.05 % on 2020-07-22.
        var rows = await observed.Page.Locator("table.mrd tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.mrdDate + ' ' + r.dataset.mrd + ' ' + r.cells[1].textContent.trim())");
        Assert.Equal(["2020-07-22 detected 0.05 % illustrative"], rows);
        Assert.Equal(1, await observed.Page.Locator($"svg g[data-patient-id='{Prefix}p3']").CountAsync());
        await observed.ScreenshotAsync("patient.png");
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Fact]
    public async Task A_non_detected_mrd_result_shows_its_limit_of_detection()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync($"/app/patients/{Prefix}p1");

        var row = observed.Page.Locator("table.mrd tbody tr").First;
        Assert.Equal("not-detected", await row.GetAttributeAsync("data-mrd"));
        // The paper gives no limit of detection; the record says so with a data-absent-reason, and the page with words.
        Assert.Equal("not reported", (await row.Locator("td").Nth(2).TextContentAsync())?.Trim());
    }

    [Fact]
    public async Task Patient_page_links_each_resource_to_its_fhir_json()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync($"/app/patients/{Prefix}p2");

        var links = await observed.Page.Locator("ul.resources a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");
        Assert.Contains($"/Procedure/{Prefix}p2-radiotherapy-1?_format=json", links);
        var json = await session.Service.Client.GetStringAsync(links.First(l => l.Contains("radiotherapy")));
        Assert.Contains("\"resourceType\":\"Procedure\"", json.Replace(" ", ""));
    }

    [Fact]
    public async Task An_unknown_patient_is_a_404_page()
    {
        await using var observed = await session.OpenAsync();
        var response = await observed.Page.GotoAsync("/app/patients/no-such-patient");

        Assert.Equal(404, response!.Status);
        Assert.Contains("no-such-patient", await observed.Page.Locator("main").TextContentAsync());
    }
}
