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
        foreach (var pending in run.Findings.Bindings)
        {
            var verdicts = new List<TerminologyVerdict>(pending.Codes.Count);
            foreach (var (system, code) in pending.Codes)
                verdicts.Add(await run.Terminology.CheckAsync(pending.ValueSet, system, code, cancellationToken).ConfigureAwait(false));
            var maxVerdicts = await MaxValueSetVerdictsAsync(run, pending, verdicts, cancellationToken).ConfigureAwait(false);
            Judge(run, pending, verdicts, maxVerdicts);
        }
    }

    /// <summary>
    /// An extensible binding with a maximum ValueSet whose codes missed the bound set: each code's membership in the
    /// maximum set; null when that question does not arise.
    /// </summary>
    private static async ValueTask<List<TerminologyVerdict>?> MaxValueSetVerdictsAsync(ValidationRun run, PendingBinding pending,
        List<TerminologyVerdict> verdicts, CancellationToken cancellationToken)
    {
        if (pending.MaxValueSet is not { } maxValueSet || pending.Strength != BindingStrengthChecked.Extensible || pending.Codes.Count == 0
            || verdicts.Exists(v => v.Membership is CodeMembership.Member or CodeMembership.NotChecked))
            return null;
        var maxVerdicts = new List<TerminologyVerdict>(pending.Codes.Count);
        foreach (var (system, code) in pending.Codes)
            maxVerdicts.Add(await run.Terminology.CheckAsync(maxValueSet, system, code, cancellationToken).ConfigureAwait(false));
        return maxVerdicts;
    }

    private static void Judge(ValidationRun run, PendingBinding pending, List<TerminologyVerdict> verdicts, List<TerminologyVerdict>? maxVerdicts)
    {
        if (verdicts.Exists(v => v.Membership == CodeMembership.Member))
            return;
        var codes = string.Join(", ", pending.Codes.Select(c => c.System is null ? $"'{c.Code}'" : $"{c.System}|{c.Code}"));
        var rule = pending.Strength == BindingStrengthChecked.Required ? "binding-required" : "binding-extensible";
        // Findings of an additional binding say so: the element's primary binding may be met or another ValueSet.
        var valueSet = pending.IsAdditional ? $"{pending.ValueSet} (an additional binding)" : pending.ValueSet;
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
                    $"No code provided, and a code is required from ValueSet {valueSet}.", pending.Path, rule);
            // With a maximum ValueSet the extensible binding is a rule: some code from the maximum set must be given.
            else if (pending.MaxValueSet is { } maxValueSet)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"No code provided, and a code must be provided from the maximum ValueSet {maxValueSet} (the binding to {valueSet} is extensible).", pending.Path, MaxRule);
            else
                run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.CodeInvalid,
                    $"No code provided, and a code should be provided from ValueSet {valueSet}; the binding is extensible.", pending.Path, rule);
            return;
        }
        if (verdicts.Count == 0)
        {
            // Codings without codes beside text: acceptable for an extensible binding, not for a required one.
            if (pending.Strength == BindingStrengthChecked.Required)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"A code from ValueSet {valueSet} is required; only text was given.", pending.Path, rule);
            return;
        }
        if (pending.Strength == BindingStrengthChecked.Required)
        {
            // A bare code takes its code system from the ValueSet; one the ValueSet does not hold has none, which the
            // reference validator reports as a finding of its own before the membership one.
            if (pending.IsBareCode)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"The code system of {codes} cannot be determined: ValueSet {valueSet} holds no such code in any of its code systems.", pending.Path, "binding-system");
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                $"Code {codes} is not in ValueSet {valueSet}, which this element requires.", pending.Path, rule);
        }
        else
        {
            var outsideMaximum = maxVerdicts is not null && !maxVerdicts.Exists(v => v.Membership != CodeMembership.NotMember);
            if (outsideMaximum)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid,
                    $"Code {codes} is not in the maximum ValueSet {pending.MaxValueSet}, the widest set this extensible binding allows.", pending.Path, MaxRule);
            else if (maxVerdicts?.Find(v => v.Membership == CodeMembership.NotChecked) is { Reason: { Length: > 0 } maxReason })
                run.Report(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
                    $"Maximum ValueSet not checked: {maxReason}.", pending.Path, MaxRule);
            // The reference validator asks a CodeableConcept to use the bound set even when a maximum set exists; a Coding or
            // a code under a maximum set is judged by that set alone.
            if (pending.IsConcept || pending.MaxValueSet is null)
                run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.CodeInvalid,
                    $"Code {codes} is not in ValueSet {valueSet}; the binding is extensible, so use a code from it when one fits.", pending.Path, rule);
        }
    }

    /// <summary>The rule name of the maximum-ValueSet check on an extensible binding.</summary>
    public const string MaxRule = "binding-max";
}
