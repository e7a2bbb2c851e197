using FhirCaseService.Api.Security;
using Microsoft.AspNetCore.Http;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>The scope table itself: SMART v1 and v2 syntax, the wildcard and its one exception (AuditEvent).</summary>
public sealed class ScopeRulesTests
{
    [Theory]
    [InlineData("system/Observation.read", "Observation", ScopePermissions.Read | ScopePermissions.Search)]
    [InlineData("system/Observation.write", "Observation", ScopePermissions.Create | ScopePermissions.Update | ScopePermissions.Delete)]
    [InlineData("system/Observation.*", "Observation", ScopePermissions.Create | ScopePermissions.Read | ScopePermissions.Update | ScopePermissions.Delete | ScopePermissions.Search)]
    [InlineData("system/Observation.rs", "Observation", ScopePermissions.Read | ScopePermissions.Search)]
    [InlineData("system/Observation.cud", "Observation", ScopePermissions.Create | ScopePermissions.Update | ScopePermissions.Delete)]
    [InlineData("system/Observation.s", "Observation", ScopePermissions.Search)]
    [InlineData("system/*.cu", "Patient", ScopePermissions.Create | ScopePermissions.Update)]
    [InlineData("system/*.cruds", "Procedure", ScopePermissions.Create | ScopePermissions.Read | ScopePermissions.Update | ScopePermissions.Delete | ScopePermissions.Search)]
    [InlineData("system/*.read", "Group", ScopePermissions.Read | ScopePermissions.Search)]
    [InlineData("system/Observation.rs", "Patient", ScopePermissions.None)]
    public void A_scope_grants_exactly_its_permissions_on_the_types_it_names(string scope, string type, ScopePermissions expected)
    {
        Assert.Equal(expected, ScopeSet.Parse(scope).PermissionsOn(type));
    }

    [Theory]
    [InlineData("system/*.rs")]
    [InlineData("system/*.read")]
    [InlineData("system/*.*")]
    [InlineData("system/*.cruds")]
    public void The_wildcard_never_reaches_the_audit_trail(string scope)
    {
        Assert.False(ScopeSet.Parse(scope).Allows("AuditEvent", ScopePermissions.Search));
        Assert.False(ScopeSet.Parse(scope).Allows("AuditEvent", ScopePermissions.Read));
    }

    [Theory]
    [InlineData("system/AuditEvent.rs")]
    [InlineData("system/AuditEvent.read")]
    [InlineData("system/*.rs system/AuditEvent.s")]
    public void The_audit_trail_needs_an_explicit_AuditEvent_scope(string scope)
    {
        Assert.True(ScopeSet.Parse(scope).Allows("AuditEvent", ScopePermissions.Search));
    }

    [Fact]
    public void The_request_level_check_applies_the_same_AuditEvent_rule()
    {
        var access = new ScopeAccess();
        var wildcard = Context("system/*.cruds");
        var auditor = Context("system/AuditEvent.rs");

        Assert.False(access.Allows(wildcard, "AuditEvent", ScopePermissions.Search));
        Assert.True(access.Allows(wildcard, "Observation", ScopePermissions.Search));
        Assert.True(access.Allows(auditor, "AuditEvent", ScopePermissions.Search | ScopePermissions.Read));
        Assert.False(access.Allows(auditor, "Observation", ScopePermissions.Search));
        var refusal = Assert.Throws<FhirCaseService.Api.Http.FhirRequestException>(() => access.Demand(wildcard, "AuditEvent", ScopePermissions.Search));
        Assert.Equal(StatusCodes.Status403Forbidden, refusal.StatusCode);
        Assert.Equal("test-client", access.ClientId(auditor));
    }

    [Theory]
    [InlineData("system/Observation.sr")]
    [InlineData("system/Observation.rr")]
    [InlineData("system/Observation.x")]
    [InlineData("system/Observation.")]
    [InlineData("system/Observation")]
    [InlineData("system/Nonsense.rs")]
    [InlineData("openid")]
    [InlineData("Observation.read")]
    public void Unknown_syntax_is_unknown(string scope)
    {
        Assert.Equal(ScopeVerdict.Unknown, SmartScope.Read(scope).Verdict);
    }

    [Theory]
    [InlineData("patient/Observation.rs", ScopeVerdict.NotForBackendServices)]
    [InlineData("user/*.read", ScopeVerdict.NotForBackendServices)]
    [InlineData("system/Observation.rs?category=laboratory", ScopeVerdict.NotSupported)]
    public void Patient_user_and_granular_scopes_are_understood_but_not_granted(string scope, ScopeVerdict verdict)
    {
        Assert.Equal(verdict, SmartScope.Read(scope).Verdict);
        Assert.Empty(ScopeSet.Parse(scope).Scopes);
    }

    private static DefaultHttpContext Context(string scope)
    {
        var context = new DefaultHttpContext();
        context.Features.Set(new ClientPrincipal("test-client", ScopeSet.Parse(scope)));
        return context;
    }
}
