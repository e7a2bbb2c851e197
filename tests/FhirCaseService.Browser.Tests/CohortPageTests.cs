using System.Text.Json;
using FhirCaseService.CaseSeries.Summary;
using Microsoft.Playwright;

namespace FhirCaseService.Browser.Tests;

/// <summary>The cohort page in real headless Chromium over the paper's four patients (loaded as on first start).</summary>
public sealed class CohortPageTests(BrowserSession session) : IClassFixture<BrowserSession>
{
    private const string Group = "aertgeerts-2025-ino-bridge";

    /// <summary>
    /// The events each patient's row must show, read from the paper (docs/case-series-format.md): every patient had CAR-T,
    /// a CD19/CD22-phenotyped relapse after it, complete remission after inotuzumab cycle 1, allo-HSCT and a last
    /// follow-up in CR; P3 had three cycles and MRD still detected; P2 relapsed twice in the eye after HSCT and had
    /// radiotherapy.
    /// </summary>
    public static TheoryData<string, string> ExpectedEvents => new()
    {
        { "p1", "car-t relapse ino-cycle ino-cycle complete-remission mrd-negative hsct last-follow-up" },
        { "p2", "car-t relapse ino-cycle ino-cycle complete-remission mrd-negative hsct extramedullary-relapse extramedullary-relapse radiotherapy last-follow-up" },
        { "p3", "car-t relapse ino-cycle ino-cycle ino-cycle complete-remission hsct last-follow-up" },
        { "p4", "car-t relapse ino-cycle ino-cycle complete-remission mrd-negative hsct last-follow-up" },
    };

    [Fact]
    public async Task Cohort_page_draws_one_swimmer_row_per_patient_without_console_errors_or_csp_violations()
    {
        await using var observed = await session.OpenAsync();
        var response = await observed.Page.GotoAsync("/app/");

        Assert.Equal(200, response!.Status);
        var rows = await observed.Page.Locator("main svg.swimmer-plot g[data-patient-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.patientId)");
        Assert.Equal(["p1", "p2", "p3", "p4"], rows.Select(id => id[(Group.Length + 1)..]));
        var kinds = await observed.Page.Locator("main svg [data-event]").EvaluateAllAsync<string[]>("markers => markers.map(m => m.dataset.event)");
        Assert.All(kinds, kind => Assert.Contains(kind, TimelineEventKinds.All));
        await observed.ScreenshotAsync("cohort.png");
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Theory]
    [MemberData(nameof(ExpectedEvents))]
    public async Task Each_patients_row_shows_that_patients_events(string patient, string expected)
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/");

        var markers = await observed.Page.Locator($"main svg g[data-patient-id='{Group}-{patient}'] [data-event]")
            .EvaluateAllAsync<string[]>("markers => markers.map(m => m.dataset.event)");
        Assert.Equal(expected.Split(' ').Order(StringComparer.Ordinal), markers.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Headline_numbers_are_those_of_the_case_series_summary()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/");

        Assert.Equal("31.3 months", await observed.Page.Locator("[data-figure='mean-follow-up'] dd").TextContentAsync());
        using var summary = JsonDocument.Parse(await session.Service.Client.GetStringAsync($"/$case-series-summary?group={Group}"));
        var root = summary.RootElement;
        Assert.Equal($"{root.GetProperty("meanFollowUpMonthsAfterHsctWithoutRelapse").GetDecimal():0.0} months",
            await observed.Page.Locator("[data-figure='mean-follow-up'] dd").TextContentAsync());
        Assert.Equal(root.GetProperty("patients").GetInt32().ToString(), await observed.Page.Locator("[data-figure='patients'] dd").TextContentAsync());
        Assert.Equal($"{root.GetProperty("mrdNegativeAfterIno").GetInt32()} of 4", await observed.Page.Locator("[data-figure='mrd-negative'] dd").TextContentAsync());
        Assert.Equal($"{root.GetProperty("alloHsct").GetInt32()} of 4", await observed.Page.Locator("[data-figure='hsct'] dd").TextContentAsync());
    }

    [Fact]
    public async Task Illustrative_values_are_drawn_hollow_and_dashed()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/");

        // Every value of the paper's record is illustrative (dates shifted for pseudonymisation), so every marker is.
        var shapes = await observed.Page.Locator("main svg g[data-event][data-illustrative='true'] > :is(rect, polygon, circle)")
            .EvaluateAllAsync<string[]>("shapes => shapes.map(s => s.getAttribute('fill') + ' ' + s.getAttribute('stroke-dasharray'))");
        Assert.NotEmpty(shapes);
        Assert.All(shapes, shape => Assert.Equal("#ffffff 3 2", shape));
    }

    [Fact]
    public async Task The_plot_downloads_as_svg_and_as_png()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/");

        var svg = await observed.Page.RunAndWaitForDownloadAsync(() => observed.Page.GetByRole(AriaRole.Link, new() { Name = "Download SVG" }).ClickAsync());
        var svgText = await File.ReadAllTextAsync((await svg.PathAsync())!);
        Assert.StartsWith("<?xml", svgText);
        Assert.Equal(4, svgText.Split("data-patient-id=").Length - 1);

        var png = await observed.Page.RunAndWaitForDownloadAsync(() => observed.Page.GetByRole(AriaRole.Button, new() { Name = "Download PNG" }).ClickAsync());
        Assert.Equal("swimmer-plot.png", png.SuggestedFilename);
        var bytes = await File.ReadAllBytesAsync((await png.PathAsync())!);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Fact]
    public async Task The_controls_and_patient_links_are_reached_with_the_keyboard()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/");

        var reached = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            await observed.Page.Keyboard.PressAsync("Tab");
            reached.Add(await observed.Page.EvaluateAsync<string>("() => { const e = document.activeElement; return (e.textContent || '').trim() || e.getAttribute('href') || e.tagName; }"));
        }
        Assert.Contains("P1", reached);
        Assert.Contains("P4", reached);
        Assert.Contains("Download SVG", reached);
        Assert.Contains("Download PNG", reached);
    }

    [Fact]
    public async Task On_a_narrow_screen_the_page_fits_and_the_plot_scrolls_sideways()
    {
        await using var observed = await session.OpenAsync(width: 390, height: 844);
        await observed.Page.GotoAsync("/app/");

        Assert.True(await observed.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page itself overflows");
        Assert.True(await observed.Page.EvaluateAsync<bool>("() => { const s = document.querySelector('.plot-scroll'); return s.scrollWidth > s.clientWidth; }"));
        await observed.ScreenshotAsync("cohort-narrow.png");
        Assert.Empty(await observed.ProblemsAsync());
    }
}
