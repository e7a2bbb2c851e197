using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class InvariantTests
{
    [Fact]
    public async Task Core_constraint_failure_is_reported_with_its_key_on_the_declaring_element()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Value = new Quantity(1.2m, "m2"),
            DataAbsentReason = new CodeableConcept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown"),
        };

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "obs-6");

        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.Invariant, issue.Code);
        Assert.Equal("Observation", issue.Location.Expression);
    }

    private static Encounter WithPeriod(string start, string end) => new()
    {
        Status = Encounter.EncounterStatus.Finished,
        Class = new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
        Period = new Period { Start = start, End = end },
    };

    [Fact]
    public async Task Period_whose_start_and_end_differ_in_precision_fails_per_1_as_undecided()
    {
        var sameDay = await EngineTestSupport.ValidateAsync(WithPeriod("2023-06-21", "2023-06-21T06:20:00Z"));
        var ordered = await EngineTestSupport.ValidateAsync(WithPeriod("2023-06-21T05:00:00Z", "2023-06-21T06:20:00Z"));
        var reversed = await EngineTestSupport.ValidateAsync(WithPeriod("2023-06-22", "2023-06-21"));

        Assert.Equal("Encounter.period", EngineTestSupport.Single(sameDay, "per-1").Location.Expression);
        Assert.DoesNotContain(ordered.Issues, i => i.Rule == "per-1");
        Assert.Equal("Encounter.period", EngineTestSupport.Single(reversed, "per-1").Location.Expression);
    }

    [Fact]
    public async Task Constraint_without_an_ordering_comparison_that_evaluates_to_empty_does_not_apply()
    {
        // bdl-8 (fullUrl.contains('/_history/').not()) is empty on an entry without fullUrl: no finding of its own.
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction, Entry = [new Bundle.EntryComponent { Resource = new Patient(), Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" } }] };

        var result = await EngineTestSupport.ValidateAsync(bundle);

        Assert.DoesNotContain(result.Issues, i => i.Rule == "bdl-8");
    }

    [Fact]
    public async Task Unreferenced_contained_resource_is_a_dom_3_warning_and_a_reference_to_the_container_is_allowed()
    {
        var orphan = new Patient { Contained = [new Practitioner { Id = "pr1" }] };
        var pointsToContainer = new Patient
        {
            Contained = [new Provenance { Id = "prov", Target = [new ResourceReference("#")], Recorded = DateTimeOffset.UnixEpoch, Agent = [new Provenance.AgentComponent { Who = new ResourceReference { Display = "x" } }] }],
        };

        var orphanResult = await EngineTestSupport.ValidateAsync(orphan);
        var containerResult = await EngineTestSupport.ValidateAsync(pointsToContainer);

        Assert.Equal(OperationOutcome.IssueSeverity.Warning, EngineTestSupport.Single(orphanResult, "dom-3").Severity);
        EngineTestSupport.AssertNoErrors(orphanResult);
        EngineTestSupport.AssertNoErrors(containerResult);
    }

    // SDK objects; text input is judged the same way (NarrativeXhtmlRuleTests).
    [Theory]
    [InlineData("<p></p>", "txt-2")]
    [InlineData("<p>text</p><font>old</font>", "txt-1")]
    [InlineData("<p onclick=\"x()\">text</p>", "txt-1")]
    [InlineData("<p>text <img src=\"#a\"/></p>", null)]
    public async Task Narrative_is_judged_by_txt_1_names_and_txt_2_content_separately(string inner, string? failing)
    {
        var list = new List
        {
            Status = List.ListStatus.Current,
            Mode = ListMode.Changes,
            Text = new Narrative { Status = Narrative.NarrativeStatus.Generated, Div = $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{inner}</div>" },
        };

        var result = await EngineTestSupport.ValidateAsync(list);

        var narrativeRules = result.Issues.Where(i => i.Rule is "txt-1" or "txt-2").Select(i => i.Rule).ToList();
        Assert.True((failing is null ? [] : new List<string> { failing }).SequenceEqual(narrativeRules), EngineTestSupport.Describe(result));
    }

    [Fact]
    public async Task Datatype_constraint_is_checked_where_the_datatype_is_used()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Value = new Quantity { Value = 1, Code = "m2" },
        };

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "qty-3");

        Assert.Equal("Observation.value.ofType(Quantity)", issue.Location.Expression);
    }

    [Theory]
    [InlineData("2021-02-08", "2021-02-01", true)]
    [InlineData("2021-02-01", "2021-02-08", false)]
    [InlineData("2021-02-08", null, false)]
    public async Task Period_ending_before_it_starts_breaks_per_1(string start, string? end, bool fails)
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Effective = new Period { Start = start, End = end },
        };

        var result = await EngineTestSupport.ValidateAsync(observation);

        Assert.Equal(fails, result.Issues.Any(i => i.Rule == "per-1" && i.Location.Expression == "Observation.effective.ofType(Period)"));
    }

    [Fact]
    public async Task Core_warning_constraint_keeps_its_warning_severity()
    {
        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation()), "dom-6");

        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
    }

    [Theory]
    [InlineData("examples/invalid/patient-birthdate-full-precision.json", "fhircase-patient-1")]
    [InlineData("examples/invalid/patient-deceased-before-birth.json", "fhircase-patient-2")]
    [InlineData("examples/invalid/mrd-not-detected-without-limit.json", "fhircase-mrd-2")]
    [InlineData("examples/invalid/ino-dose-above-label-maximum.json", "fhircase-ino-2")]
    public async Task Profile_constraint_failure_is_an_error_on_the_resource(string file, string key)
    {
        var result = await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.ExampleFile(file));

        var issue = EngineTestSupport.Single(result, key);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal((1, 1), (issue.Location.Line, issue.Location.Column));
        Assert.Equal(1, result.ErrorCount);
    }

    [Fact]
    public async Task Contained_resource_is_checked_against_its_own_type_and_the_container_rules()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Contained = [new Patient { Id = "p", Meta = new Meta { VersionId = "1" }, BirthDateElement = new Date("2021-02-30") }],
            Subject = new ResourceReference("#p"),
        };

        var result = await EngineTestSupport.ValidateAsync(observation);

        Assert.Equal("Observation", EngineTestSupport.Single(result, "dom-4").Location.Expression);
        Assert.Equal("Observation.contained[0].birthDate", EngineTestSupport.Single(result, "primitive-format").Location.Expression);
    }
}
