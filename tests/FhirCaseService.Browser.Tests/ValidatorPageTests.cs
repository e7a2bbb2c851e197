namespace FhirCaseService.Browser.Tests;

/// <summary>The validator page in real headless Chromium: it calls $validate and marks each issue in the text.</summary>
public sealed class ValidatorPageTests(BrowserSession session) : IClassFixture<BrowserSession>
{
    /// <summary>
    /// Invalid examples (one broken rule each, examples/invalid/README.md), how the engine names the rule in its message,
    /// and the JSON property whose line the issue must be marked at.
    /// </summary>
    public static TheoryData<string, string, string> InvalidExamples => new()
    {
        // binding-required: a method code outside the required ValueSet.
        { "mrd-method-not-in-valueset.json", "ValueSet https://fhircase.example.org/fhir/ValueSet/fhircase-mrd-method", "\"method\"" },
        // A dateTime that is no date: reported where the value is.
        { "hsct-performed-invalid-date.json", "'2021-13-45' is not a correct literal for a dateTime", "\"performedDateTime\"" },
    };

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public async Task Validator_reports_the_broken_rule_at_its_line(string file, string rule, string property)
    {
        var path = Path.Combine(RepositoryRoot.Path, "examples", "invalid", file);
        var expectedLine = Array.FindIndex(await File.ReadAllLinesAsync(path), line => line.TrimStart().StartsWith(property, StringComparison.Ordinal)) + 1;
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/validate");

        await observed.Page.Locator("#resource-file").SetInputFilesAsync(path);
        await observed.Page.WaitForFunctionAsync("() => document.getElementById('resource-text').value.includes('resourceType')");
        await observed.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Validate" }).ClickAsync();

        var errors = observed.Page.Locator("#issues li[data-severity='error']");
        await errors.First.WaitForAsync();
        Assert.Equal(1, await errors.CountAsync());
        Assert.Contains(rule, await errors.First.Locator(".message").TextContentAsync());
        Assert.Equal(expectedLine.ToString(), await errors.First.GetAttributeAsync("data-line"));
        Assert.Equal(1, await observed.Page.Locator($"#source li.issue-line[data-line='{expectedLine}'] mark").CountAsync());
        await observed.ScreenshotAsync($"validator-{Path.GetFileNameWithoutExtension(file)}.png");
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Fact]
    public async Task Validator_says_no_issues_for_a_valid_resource()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/validate");

        await observed.Page.Locator("#resource-text").FillAsync(await File.ReadAllTextAsync(
            Path.Combine(RepositoryRoot.Path, "examples", "resources", "Observation-example-mrd-flow.json")));
        await observed.Page.Locator("#profile").SelectOptionAsync("https://fhircase.example.org/fhir/StructureDefinition/fhircase-mrd");
        await observed.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Validate" }).ClickAsync();

        await observed.Page.Locator("#result-summary").Filter(new() { HasText = "No issues found." }).WaitForAsync();
        Assert.Equal(0, await observed.Page.Locator("#issues li").CountAsync());
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Fact]
    public async Task A_transaction_Bundle_is_validated_entry_by_entry()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/validate");

        await observed.Page.Locator("#resource-file").SetInputFilesAsync(
            Path.Combine(RepositoryRoot.Path, "examples", "bundles", "aertgeerts-2025-ino-bridge.json"));
        await observed.Page.WaitForFunctionAsync("() => document.getElementById('resource-text').value.includes('transaction')");
        await observed.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Validate" }).ClickAsync();

        await observed.Page.Locator("#result-summary[data-issue-count]").WaitForAsync();
        Assert.DoesNotContain("answered", await observed.Page.Locator("#result-summary").TextContentAsync());
        Assert.Equal(0, await observed.Page.Locator("#issues li[data-severity='error']").CountAsync());
        Assert.Empty(await observed.ProblemsAsync());
    }

    [Fact]
    public async Task A_chosen_profile_is_applied_when_meta_profile_names_none()
    {
        await using var observed = await session.OpenAsync();
        await observed.Page.GotoAsync("/app/validate");

        // A bare Patient is valid core R4, but our patient profile requires gender and the pseudonym identifier.
        await observed.Page.Locator("#resource-text").FillAsync("{\n  \"resourceType\": \"Patient\"\n}");
        await observed.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Validate" }).ClickAsync();
        await observed.Page.Locator("#result-summary[data-issue-count]").WaitForAsync();
        Assert.DoesNotContain("Patient.gender", await observed.Page.Locator("#issues").TextContentAsync());

        await observed.Page.Locator("#profile").SelectOptionAsync("https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient");
        await observed.Page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Validate" }).ClickAsync();
        await observed.Page.Locator("#issues li[data-severity='error']").First.WaitForAsync();
        Assert.Contains("Patient.gender", await observed.Page.Locator("#issues").TextContentAsync());
    }
}
