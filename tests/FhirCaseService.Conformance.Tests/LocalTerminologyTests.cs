using System.Collections.Concurrent;
using FhirCaseService.Conformance.CoreDefinitions;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Conformance.Terminology;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Conformance.Tests;

public sealed class LocalTerminologyTests : IDisposable
{
    private const string AdministrativeGender = "http://hl7.org/fhir/ValueSet/administrative-gender";
    private const string ConditionCode = "http://hl7.org/fhir/ValueSet/condition-code";
    private const string EncounterCodes = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode";
    private const string Snomed = "http://snomed.info/sct";
    private const string Loinc = "http://loinc.org";

    private readonly TestPackages _packages = new();
    private readonly LocalTerminology _terminology;

    public LocalTerminologyTests()
    {
        _terminology = ConformanceContext.CreateBuilder()
            .WithCore(CoreDefinitionsSource.Shared)
            .AddPackage(FhirPackage.FromDirectory(_packages.WriteDirectory()))
            .Build()
            .Terminology;
    }

    public void Dispose() => _packages.Dispose();

    [Fact]
    public async Task Administrative_gender_expands_to_its_four_codes()
    {
        var expansion = await _terminology.ExpandAsync(AdministrativeGender);

        Assert.NotNull(expansion);
        Assert.True(expansion.IsComplete);
        Assert.Equal(["male", "female", "other", "unknown"], expansion.Concepts.Select(c => c.Code));
        Assert.All(expansion.Concepts, c => Assert.Equal("http://hl7.org/fhir/administrative-gender", c.System));
        Assert.Equal("Female", expansion.Concepts[1].Display);
    }

    [Fact]
    public async Task A_binding_canonical_with_the_R4_version_expands_like_the_plain_one()
    {
        var versioned = await _terminology.ExpandAsync(AdministrativeGender + "|4.0.1");

        Assert.NotNull(versioned);
        Assert.Equal(4, versioned.Concepts.Count);
    }

    [Fact]
    public async Task Concurrent_requests_for_one_value_set_expand_it_exactly_once()
    {
        var expanded = new ConcurrentQueue<string>();
        _terminology.ValueSetExpanded += expanded.Enqueue;
        using var start = new ManualResetEventSlim();

        // Expansions and membership checks race for the same uncached ValueSet; a second, different one is expanded too.
        var requests = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait();
            if (i % 2 == 0)
                await _terminology.ExpandAsync(AdministrativeGender);
            else
                await _terminology.CheckMembershipAsync(AdministrativeGender, null, "female");
            await _terminology.ExpandAsync(EncounterCodes);
        })).ToList();
        start.Set();
        await Task.WhenAll(requests);

        Assert.Equal(1, expanded.Count(c => c == AdministrativeGender));
        Assert.Equal(1, expanded.Count(c => c == EncounterCodes));
        Assert.Same(await _terminology.ExpandAsync(AdministrativeGender), await _terminology.ExpandAsync(AdministrativeGender));
    }

    [Theory]
    [InlineData("http://hl7.org/fhir/administrative-gender", "female", MembershipOutcome.Member)]
    [InlineData("http://hl7.org/fhir/administrative-gender", "woman", MembershipOutcome.NotMember)]
    [InlineData("http://example.org/other-system", "female", MembershipOutcome.NotMember)]
    [InlineData(null, "unknown", MembershipOutcome.Member)]
    public async Task Membership_in_an_enumerable_value_set_is_decided(string? system, string code, MembershipOutcome expected)
    {
        var result = await _terminology.CheckMembershipAsync(AdministrativeGender, system, code);

        Assert.Equal(expected, result.Outcome);
    }

    [Fact]
    public async Task A_display_is_compared_with_the_code_systems_display()
    {
        var matching = await _terminology.CheckMembershipAsync(AdministrativeGender, "http://hl7.org/fhir/administrative-gender", "male", "male");
        var wrong = await _terminology.CheckMembershipAsync(AdministrativeGender, "http://hl7.org/fhir/administrative-gender", "male", "Female");

        Assert.True(matching.DisplayMatches);
        Assert.False(wrong.DisplayMatches);
        Assert.Equal("Male", wrong.ExpectedDisplay);
    }

    [Fact]
    public async Task A_snomed_code_listed_by_the_value_set_is_a_member()
    {
        var result = await _terminology.CheckMembershipAsync(ConditionCode, Snomed, "160245001");

        Assert.Equal(MembershipOutcome.Member, result.Outcome);
    }

    [Fact]
    public async Task A_snomed_code_under_an_is_a_filter_is_not_checked_and_says_why()
    {
        var result = await _terminology.CheckMembershipAsync(ConditionCode, Snomed, "277571004");

        Assert.Equal(MembershipOutcome.NotChecked, result.Outcome);
        Assert.Contains(Snomed, result.Message, StringComparison.Ordinal);
        Assert.Contains("terminology server", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_code_from_a_system_the_value_set_does_not_use_is_not_a_member()
    {
        var result = await _terminology.CheckMembershipAsync(ConditionCode, Loinc, "8277-6");

        Assert.Equal(MembershipOutcome.NotMember, result.Outcome);
    }

    [Fact]
    public async Task A_value_set_including_all_of_loinc_is_never_enumerated()
    {
        var expansion = await _terminology.ExpandAsync("http://hl7.org/fhir/ValueSet/observation-codes");
        var result = await _terminology.CheckMembershipAsync("http://hl7.org/fhir/ValueSet/observation-codes", Loinc, "8277-6");

        Assert.NotNull(expansion);
        Assert.False(expansion.IsComplete);
        Assert.Empty(expansion.Concepts);
        Assert.Equal(MembershipOutcome.NotChecked, result.Outcome);
        Assert.Contains("too large", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_is_a_filter_on_a_local_code_system_expands_the_hierarchy_and_applies_excludes()
    {
        var expansion = await _terminology.ExpandAsync(EncounterCodes);

        Assert.NotNull(expansion);
        Assert.True(expansion.IsComplete);
        var codes = expansion.Concepts.Select(c => c.Code).ToHashSet();
        Assert.Contains("AMB", codes);
        Assert.Contains("IMP", codes);
        Assert.DoesNotContain("_ActEncounterCode", codes);
        Assert.Equal(MembershipOutcome.NotMember, (await _terminology.CheckMembershipAsync(EncounterCodes, "http://terminology.hl7.org/CodeSystem/v3-ActCode", "_ActEncounterCode")).Outcome);
    }

    [Fact]
    public async Task A_package_value_set_mixes_enumerated_and_open_parts()
    {
        var expansion = await _terminology.ExpandAsync(TestPackages.ValueSetUrl);

        Assert.NotNull(expansion);
        Assert.Equal(["parent", "child", "277571004"], expansion.Concepts.Select(c => c.Code));
        var open = Assert.Single(expansion.OpenParts);
        Assert.Equal(Loinc, open.System);
        Assert.Equal(MembershipOutcome.Member, (await _terminology.CheckMembershipAsync(TestPackages.ValueSetUrl, TestPackages.CodeSystemUrl, "child")).Outcome);
        Assert.Equal(MembershipOutcome.NotMember, (await _terminology.CheckMembershipAsync(TestPackages.ValueSetUrl, TestPackages.CodeSystemUrl, "other")).Outcome);
        Assert.Equal(MembershipOutcome.NotMember, (await _terminology.CheckMembershipAsync(TestPackages.ValueSetUrl, Snomed, "103338009")).Outcome);
        Assert.Equal(MembershipOutcome.NotChecked, (await _terminology.CheckMembershipAsync(TestPackages.ValueSetUrl, Loinc, "51124-6")).Outcome);
    }

    [Fact]
    public async Task An_unknown_value_set_gives_not_checked()
    {
        var result = await _terminology.CheckMembershipAsync("http://example.org/fhir/ValueSet/unknown", "http://example.org", "x");

        Assert.Equal(MembershipOutcome.NotChecked, result.Outcome);
        Assert.Contains("not available locally", result.Message, StringComparison.Ordinal);
        Assert.Null(await _terminology.ExpandAsync("http://example.org/fhir/ValueSet/unknown"));
    }
}
