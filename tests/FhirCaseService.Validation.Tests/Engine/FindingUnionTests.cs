using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Results are values combined up the tree: where two schemas judge one node their findings are one set keyed by
/// origin, location, rule and message (FindingBuilder.Union); nothing else de-duplicates.
/// </summary>
public class FindingUnionTests
{
    private const string DomainResource = "http://hl7.org/fhir/StructureDefinition/DomainResource";

    private static Finding Finding(string expression, string rule, string message, string? origin, string? onceKey = null) =>
        new(new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant, message, new IssueLocation(expression), rule), origin, onceKey);

    [Fact]
    public void A_rule_of_one_origin_met_by_two_schemas_is_one_finding_and_order_is_kept()
    {
        var findings = new FindingBuilder();
        findings.Add(Finding("Observation.code", "other", "before the node", null));
        var node = findings.Mark;
        findings.Add(Finding("Observation", "dom-6", "Constraint dom-6 failed", DomainResource));
        findings.Add(Finding("Observation", "a-1", "first schema only", "http://x/a"));
        var second = findings.Mark;
        findings.Add(Finding("Observation", "b-1", "second schema only", "http://x/b"));
        findings.Add(Finding("Observation", "dom-6", "Constraint dom-6 failed", DomainResource));
        findings.Add(Finding("Observation", "b-1", "second schema only", "http://x/b"));
        findings.Union(node, second);

        Assert.Equal(["other", "dom-6", "a-1", "b-1"], findings.Items.Select(f => f.Issue.Rule));
    }

    [Fact]
    public void Same_rule_and_message_from_different_origins_are_two_findings()
    {
        var findings = new FindingBuilder();
        var first = findings.Mark;
        findings.Add(Finding("Patient", "inv-1", "Constraint inv-1 failed: x", "http://x/a"));
        var second = findings.Mark;
        findings.Add(Finding("Patient", "inv-1", "Constraint inv-1 failed: x", "http://x/b"));
        findings.Add(Finding("Patient.name[0]", "inv-1", "Constraint inv-1 failed: x", "http://x/a"));
        findings.Union(first, second);

        Assert.Equal(3, findings.Items.Count);
    }

    [Fact]
    public void Findings_outside_the_combined_results_are_never_filtered()
    {
        var findings = new FindingBuilder();
        findings.Add(Finding("Patient", "inv-1", "m", null));
        var first = findings.Mark;
        var second = findings.Mark;
        findings.Add(Finding("Patient", "inv-1", "m", null));
        findings.Union(first, second);

        Assert.Equal(2, findings.Items.Count);
    }

    [Fact]
    public void A_code_bound_twice_by_two_schemas_is_one_question_to_terminology()
    {
        var findings = new FindingBuilder();
        var path = InstancePath.ForResource("Observation").Child("status", 0, repeating: false);
        PendingBinding Binding(string valueSet) => new(valueSet, BindingStrengthChecked.Required, [(null, "final")], path, HasText: false);
        var first = findings.Mark;
        findings.AddBinding(Binding("http://hl7.org/fhir/ValueSet/observation-status"));
        var second = findings.Mark;
        findings.AddBinding(Binding("http://hl7.org/fhir/ValueSet/observation-status"));
        findings.AddBinding(Binding("http://x/other"));
        findings.Union(first, second);

        Assert.Equal(["http://hl7.org/fhir/ValueSet/observation-status", "http://x/other"], findings.Bindings.Select(b => b.ValueSet));
    }

    [Fact]
    public void Appending_a_workers_result_keeps_the_first_once_per_call_finding_only()
    {
        var main = new FindingBuilder();
        var once = new HashSet<string>(StringComparer.Ordinal) { "compile:a" };
        var worker = new FindingBuilder();
        worker.Add(Finding("Bundle.entry[3].resource", "a", "not compiled", null, "compile:a"));
        worker.Add(Finding("Bundle.entry[3].resource", "b", "not compiled", null, "compile:b"));
        worker.Add(Finding("Bundle.entry[4].resource", "b", "not compiled", null, "compile:b"));
        worker.Add(Finding("Bundle.entry[4].resource", "c", "plain", null));
        main.AppendFrom(worker, once);

        Assert.Equal(["Bundle.entry[3].resource b", "Bundle.entry[4].resource c"], main.Items.Select(f => f.Issue.Location.Expression + " " + f.Issue.Rule));
    }

    [Fact]
    public async System.Threading.Tasks.Task Two_profiles_of_one_resource_report_their_common_base_rule_once()
    {
        // No narrative: dom-6 (from DomainResource) is in both profiles' snapshots, and each profile is walked.
        string[] profiles = [EngineTestSupport.Profiles + "fhircase-mrd", EngineTestSupport.Profiles + "fhircase-disease-status"];
        var both = await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation(), new ValidationOptions { Profiles = profiles });

        EngineTestSupport.Single(both, "dom-6");
        Assert.Equal(both.Issues.Count, both.Issues.DistinctBy(i => (i.Location.Expression, i.Rule, i.Message)).Count());
        // The union is a set, not a filter: every finding of each profile alone is in the combined result.
        foreach (var profile in profiles)
        {
            var alone = await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation(), new ValidationOptions { Profiles = [profile] });
            Assert.All(alone.Issues, issue => Assert.Contains(issue, both.Issues));
        }
    }

    private sealed class NoTerminology : Terminology.ITerminologyChecker
    {
        public ValueTask<Terminology.TerminologyVerdict> CheckAsync(string valueSetUrl, string? system, string code, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not asked");
    }

    [Fact]
    public async System.Threading.Tasks.Task A_trial_gives_a_verdict_and_leaves_nothing_behind()
    {
        var run = new ValidationRun(ValidationOptions.Default, null, new NoTerminology());
        var path = InstancePath.ForResource("Observation");
        run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Informational, "before", path, "before");

        var warningsOnly = await run.TrialAsync(() =>
        {
            run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Informational, "w", path, "w");
            return ValueTask.CompletedTask;
        });
        var withError = await run.TrialAsync(() =>
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant, "e", path, "e");
            run.ReportOnce("once", OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Exception, "once", path, "once");
            run.Findings.AddBinding(new PendingBinding("http://x/vs", BindingStrengthChecked.Required, [(null, "c")], path, HasText: false));
            return ValueTask.CompletedTask;
        });

        Assert.True(warningsOnly);
        Assert.False(withError);
        Assert.Equal(["before"], run.Findings.Items.Select(f => f.Issue.Rule));
        Assert.Empty(run.Findings.Bindings);
        // The trial did not use up the call's one report of a once-per-call finding.
        run.ReportOnce("once", OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Exception, "once", path, "once");
        Assert.Equal(["before", "once"], run.Findings.Items.Select(f => f.Issue.Rule));
    }
}
