namespace FhirCaseService.Validation.Terminology;

/// <summary>What local terminology can say about a code and a ValueSet.</summary>
public enum CodeMembership
{
    Member,
    NotMember,
    /// <summary>Membership cannot be decided locally (a large external system such as SNOMED CT, or an unavailable ValueSet).</summary>
    NotChecked,
}

/// <summary>The answer and its reason, in words fit for an issue message.</summary>
public readonly record struct TerminologyVerdict(CodeMembership Membership, string Reason);

/// <summary>Membership of codes in ValueSets, answered from local definitions (core R4 and the loaded packages).</summary>
public interface ITerminologyChecker
{
    ValueTask<TerminologyVerdict> CheckAsync(string valueSetUrl, string? system, string code, CancellationToken cancellationToken);
}
