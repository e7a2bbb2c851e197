using FhirCaseService.Validation.FhirPath;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>Rules of a profile loaded from a plain directory of conformance resources (differential only).</summary>
public sealed class ProfileRuleTests
{
    [Fact]
    public async Task Conforming_instance_has_no_errors_and_the_uncompilable_constraint_is_one_warning()
    {
        var result = await TestProfiles.Validator.ValidateAsync(TestProfiles.ConformingObservation());

        EngineTestSupport.AssertNoErrors(result);
        var broken = EngineTestSupport.Single(result, "test-broken");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, broken.Severity);
        Assert.Equal(OperationOutcome.IssueType.Exception, broken.Code);
    }

    [Fact]
    public async Task Uncompilable_constraint_is_reported_on_every_validation_without_crashing()
    {
        for (var i = 0; i < 3; i++)
        {
            var result = await TestProfiles.Validator.ValidateAsync(TestProfiles.ConformingObservation());
            EngineTestSupport.Single(result, "test-broken");
        }
        Assert.Null(FhirPathCache.Get("value.where(").Compiled);
    }

    [Fact]
    public async Task Warning_constraint_is_reported_as_warning()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Note.Clear();

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "test-note");

        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Equal("Observation", issue.Location.Expression);
    }

    [Fact]
    public async Task Text_longer_than_max_length_is_an_error()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Code.Text = "far longer than ten";

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "maxLength");

        Assert.Equal("Observation.code.text", issue.Location.Expression);
    }

    [Theory]
    [InlineData(0, "minValue")]
    [InlineData(11, "maxValue")]
    public async Task Value_outside_min_max_is_an_error(int value, string rule)
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Value = new Integer(value);

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), rule);

        Assert.Equal("Observation.value.ofType(integer)", issue.Location.Expression);
    }

    [Fact]
    public async Task Choice_type_removed_by_the_profile_is_a_type_error()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Value = new FhirString("five");

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "type");

        Assert.Equal("Observation.value.ofType(string)", issue.Location.Expression);
    }

    [Fact]
    public async Task Item_matching_no_slice_of_closed_slicing_is_an_error()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Component.Add(TestProfiles.Component("z"));

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "slicing-closed");

        Assert.Equal("Observation.component[2]", issue.Location.Expression);
    }

    [Fact]
    public async Task Slices_out_of_order_are_an_error()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Component.Reverse();

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "slicing-order");

        Assert.Equal("Observation.component[1]", issue.Location.Expression);
    }

    [Fact]
    public async Task Slice_repeated_beyond_its_maximum_is_a_slice_cardinality_error()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Component.Insert(1, TestProfiles.Component("a"));

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "slice-cardinality");

        Assert.Equal("Observation", issue.Location.Expression);
        Assert.Contains("first", issue.Message);
    }

    [Fact]
    public async Task Caller_named_profile_is_applied_even_without_meta_profile()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Meta = null;
        observation.Status = ObservationStatus.Preliminary;

        var without = await TestProfiles.Validator.ValidateAsync(observation);
        var with = await TestProfiles.Validator.ValidateAsync(observation, new ValidationOptions { Profiles = [TestProfiles.ObservationProfile] });

        Assert.DoesNotContain(without.Issues, i => i.Rule == "pattern");
        Assert.Contains(with.Issues, i => i.Rule == "pattern" && i.Location.Expression == "Observation.status");
    }

    [Fact]
    public async Task Unknown_caller_named_profile_is_an_error()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation(),
            new ValidationOptions { Profiles = ["http://example.org/fhir/StructureDefinition/nowhere"] });

        var issue = EngineTestSupport.Single(result, "profile-unknown");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
    }

    [Fact]
    public async Task Profile_for_another_resource_type_is_an_error()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation(),
            new ValidationOptions { Profiles = [EngineTestSupport.Profiles + "fhircase-patient"] });

        EngineTestSupport.Single(result, "profile-type");
    }

    [Fact]
    public async Task Absent_must_support_element_is_reported_only_when_asked()
    {
        var observation = TestProfiles.ConformingObservation();

        var silent = await TestProfiles.Validator.ValidateAsync(observation);
        var asked = await TestProfiles.Validator.ValidateAsync(observation, new ValidationOptions { ReportMustSupport = true });

        Assert.DoesNotContain(silent.Issues, i => i.Rule == "mustSupport");
        var issue = EngineTestSupport.Single(asked, "mustSupport");
        Assert.Equal(OperationOutcome.IssueSeverity.Information, issue.Severity);
        Assert.Equal("Observation.interpretation", issue.Location.Expression);
    }

    [Fact]
    public async Task Unknown_profile_in_meta_profile_is_a_warning()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Meta = new Meta { Profile = ["http://example.org/fhir/StructureDefinition/nowhere"] };

        var issue = EngineTestSupport.Single(await TestProfiles.Validator.ValidateAsync(observation), "profile-unknown");

        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Equal("Observation", issue.Location.Expression);
    }

    [Fact]
    public async Task Profile_whose_snapshot_cannot_be_fully_generated_is_reported_once()
    {
        var options = new ValidationOptions { Profiles = [TestProfiles.DisorderedProfile] };

        var result = await TestProfiles.Validator.ValidateAsync(TestProfiles.ConformingObservation(), options);

        var issue = EngineTestSupport.Single(result, "profile-snapshot");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
    }
}
