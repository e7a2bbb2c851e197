using FhirCaseService.Validation.Schema.Validators;
using FhirCaseService.Validation.Terminology;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Judges the codes collected during the walk against their ValueSets: a required binding broken is an error, an
/// extensible one a warning; codes local terminology cannot decide (large external systems) are reported as not checked.
/// </summary>
internal static class BindingJudge
{
    public static async ValueTask JudgeAsync(ValidationRun run, CancellationToken cancellationToken)
    {
        foreach (var pending in run.PendingBindings)
        {
            var verdicts = new List<TerminologyVerdict>(pending.Codes.Count);
            foreach (var (system, code) in pending.Codes)
                verdicts.Add(await run.Terminology.CheckAsync(pending.ValueSet, system, code, cancellationToken).ConfigureAwait(false));
            Judge(run, pending, verdicts);
        }
    }

    private static void Judge(ValidationRun run, PendingBinding pending, List<TerminologyVerdict> verdicts)
    {
        if (verdicts.Exists(v => v.Membership == CodeMembership.Member))
            return;
        var codes = string.Join(", ", pending.Codes.Select(c => c.System is null ? $"'{c.Code}'" : $"{c.System}|{c.Code}"));
        var rule = pending.Strength == BindingStrengthChecked.Required ? "binding-required" : "binding-extensible";
        if (verdicts.Find(v => v.Membership == CodeMembership.NotChecked) is { Reason: { } reason } && reason.Length > 0)
        {
            run.Report(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
                $"Binding not checked: {reason}.", pending.Path, rule);
            return;
        }
        if (pending.HasNoCoding)
        {
            // No coding at all, whatever text or extensions the concept carries: a required binding wants a code, an
            // extensible one asks for it (the reference validator's rule; it makes no exception for data-absent-reason).
            if (pending.Strength == BindingStrengthChecked.Required)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"No code provided, and a code is required from ValueSet {pending.ValueSet}.", pending.Path, rule);
            else
                run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.CodeInvalid,
                    $"No code provided, and a code should be provided from ValueSet {pending.ValueSet}; the binding is extensible.", pending.Path, rule);
            return;
        }
        if (verdicts.Count == 0)
        {
            // Codings without codes beside text: acceptable for an extensible binding, not for a required one.
            if (pending.Strength == BindingStrengthChecked.Required)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"A code from ValueSet {pending.ValueSet} is required; only text was given.", pending.Path, rule);
            return;
        }
        if (pending.Strength == BindingStrengthChecked.Required)
        {
            // A bare code takes its code system from the ValueSet; one the ValueSet does not hold has none, which the
            // reference validator reports as a finding of its own before the membership one.
            if (pending.IsBareCode)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"The code system of {codes} cannot be determined: ValueSet {pending.ValueSet} holds no such code in any of its code systems.", pending.Path, "binding-system");
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                $"Code {codes} is not in ValueSet {pending.ValueSet}, which this element requires.", pending.Path, rule);
        }
        else
        {
            run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.CodeInvalid,
                $"Code {codes} is not in ValueSet {pending.ValueSet}; the binding is extensible, so use a code from it when one fits.", pending.Path, rule);
        }
    }
}
