namespace FhirCaseService.Conformance.Terminology;

public enum MembershipOutcome
{
    /// <summary>The code is in the ValueSet.</summary>
    Member,

    /// <summary>The code is not in the ValueSet.</summary>
    NotMember,

    /// <summary>Membership could not be decided locally; <see cref="MembershipResult.Message"/> says why.</summary>
    NotChecked,
}

/// <summary>
/// Whether a code is in a ValueSet. <see cref="DisplayMatches"/> is null unless the caller gave a
/// display and the code is a member with a known display.
/// </summary>
public sealed record MembershipResult(MembershipOutcome Outcome, string Message, string? ExpectedDisplay = null, bool? DisplayMatches = null);
