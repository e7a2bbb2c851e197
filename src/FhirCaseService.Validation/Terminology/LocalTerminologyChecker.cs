using FhirCaseService.Conformance.Terminology;

namespace FhirCaseService.Validation.Terminology;

/// <summary>Bindings checked with the Conformance layer's local terminology (expansions cached there, once per ValueSet).</summary>
public sealed class LocalTerminologyChecker(LocalTerminology terminology) : ITerminologyChecker
{
    public async ValueTask<TerminologyVerdict> CheckAsync(string valueSetUrl, string? system, string code, CancellationToken cancellationToken)
    {
        var result = await terminology.CheckMembershipAsync(valueSetUrl, system, code).ConfigureAwait(false);
        var membership = result.Outcome switch
        {
            MembershipOutcome.Member => CodeMembership.Member,
            MembershipOutcome.NotMember => CodeMembership.NotMember,
            _ => CodeMembership.NotChecked,
        };
        return new TerminologyVerdict(membership, result.Message);
    }
}
