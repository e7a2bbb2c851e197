using System.Text;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Security;

/// <summary>
/// One SMART system scope: <c>system/Type.perms</c> or <c>system/*.perms</c>, perms in v1 (<c>read</c>, <c>write</c>,
/// <c>*</c>) or v2 (<c>cruds</c>, any subset in that order) syntax, reduced to the permissions it grants.
/// </summary>
public sealed record SmartScope(string ResourceType, ScopePermissions Permissions, string Text)
{
    public const string Wildcard = "*";

    /// <summary>The audit trail is nobody's business by default: the wildcard type does not cover it.</summary>
    public const string AuditEventType = "AuditEvent";

    private const ScopePermissions V1Read = ScopePermissions.Read | ScopePermissions.Search;
    private const ScopePermissions V1Write = ScopePermissions.Create | ScopePermissions.Update | ScopePermissions.Delete;
    private const ScopePermissions All = V1Read | V1Write;
    private static readonly (char Letter, ScopePermissions Permission)[] V2Letters =
    [
        ('c', ScopePermissions.Create), ('r', ScopePermissions.Read), ('u', ScopePermissions.Update),
        ('d', ScopePermissions.Delete), ('s', ScopePermissions.Search),
    ];

    /// <summary>Whether this scope speaks for <paramref name="resourceType"/>.</summary>
    public bool Covers(string resourceType) =>
        ResourceType == resourceType || (ResourceType == Wildcard && resourceType != AuditEventType);

    /// <summary>How the server reads one space-separated token of a scope string.</summary>
    public static ScopeReading Read(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var context = slash < 0 ? "" : text[..slash];
        if (context is "patient" or "user")
            return new ScopeReading(null, ScopeVerdict.NotForBackendServices);
        if (context != "system")
            return new ScopeReading(null, ScopeVerdict.Unknown);
        var rest = text[(slash + 1)..];
        // SMART v2 granular scopes (system/Observation.rs?category=...) narrow by search parameters, which this
        // server cannot enforce; granting the whole type instead would grant more than was asked, so they are not granted.
        if (rest.Contains('?', StringComparison.Ordinal))
            return new ScopeReading(null, ScopeVerdict.NotSupported);
        var dot = rest.LastIndexOf('.');
        if (dot <= 0)
            return new ScopeReading(null, ScopeVerdict.Unknown);
        var type = rest[..dot];
        if (type != Wildcard && !ModelInfo.IsKnownResource(type))
            return new ScopeReading(null, ScopeVerdict.Unknown);
        var permissions = PermissionsOf(rest[(dot + 1)..]);
        return permissions == ScopePermissions.None
            ? new ScopeReading(null, ScopeVerdict.Unknown)
            : new ScopeReading(new SmartScope(type, permissions, text), ScopeVerdict.Granted);
    }

    /// <summary>v1 words, or v2 letters (at least one, each once, in the order c r u d s).</summary>
    private static ScopePermissions PermissionsOf(string text)
    {
        switch (text)
        {
            case "read": return V1Read;
            case "write": return V1Write;
            case "*": return All;
        }
        var permissions = ScopePermissions.None;
        var next = 0;
        foreach (var letter in text)
        {
            var at = Array.FindIndex(V2Letters, next, l => l.Letter == letter);
            if (at < 0)
                return ScopePermissions.None;
            permissions |= V2Letters[at].Permission;
            next = at + 1;
        }
        return permissions;
    }

    /// <summary>The v2 scope text granting <paramref name="permissions"/> on <paramref name="resourceType"/>, e.g. <c>system/Observation.rs</c>.</summary>
    public static string V2Text(string resourceType, ScopePermissions permissions)
    {
        var letters = new StringBuilder();
        foreach (var (letter, permission) in V2Letters)
            if (permissions.HasFlag(permission))
                letters.Append(letter);
        return $"system/{resourceType}.{letters}";
    }
}

public enum ScopeVerdict
{
    Granted,

    /// <summary>patient/ and user/ scopes: meaningful only with a user or a launch context, which backend services lack.</summary>
    NotForBackendServices,

    /// <summary>Well-formed, but finer than this server can enforce (v2 granular scopes).</summary>
    NotSupported,

    /// <summary>Not a SMART scope this server knows: a typo or an unknown resource type.</summary>
    Unknown,
}

public sealed record ScopeReading(SmartScope? Scope, ScopeVerdict Verdict);

/// <summary>The system scopes a client holds, and the questions asked of them.</summary>
public sealed class ScopeSet
{
    public static ScopeSet Empty { get; } = new([]);

    public ScopeSet(IEnumerable<SmartScope> scopes) => Scopes = [.. scopes];

    public IReadOnlyList<SmartScope> Scopes { get; }

    /// <summary>The scopes of a space-separated string that this server grants; everything else is left out.</summary>
    public static ScopeSet Parse(string? text) =>
        new(Tokens(text).Select(SmartScope.Read).Where(r => r.Scope is not null).Select(r => r.Scope!));

    public static IEnumerable<string> Tokens(string? text) =>
        (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal);

    /// <summary>What the scopes together grant on <paramref name="resourceType"/> (the wildcard included, except for AuditEvent).</summary>
    public ScopePermissions PermissionsOn(string resourceType)
    {
        var granted = ScopePermissions.None;
        foreach (var scope in Scopes)
            if (scope.Covers(resourceType))
                granted |= scope.Permissions;
        return granted;
    }

    public bool Allows(string resourceType, ScopePermissions permissions) =>
        (PermissionsOn(resourceType) & permissions) == permissions;

    /// <summary>
    /// What of <paramref name="requested"/> a client registered for these scopes may have: each requested scope narrowed
    /// to what the registration allows (written in v2 letters when narrowed), dropped when nothing is left. A requested
    /// wildcard is narrowed by the registration's wildcards only: a list of types never adds up to "every type".
    /// </summary>
    public IReadOnlyList<string> Grant(IEnumerable<SmartScope> requested)
    {
        var granted = new List<string>();
        foreach (var scope in requested)
        {
            var allowed = scope.ResourceType == SmartScope.Wildcard
                ? Scopes.Where(s => s.ResourceType == SmartScope.Wildcard).Aggregate(ScopePermissions.None, (p, s) => p | s.Permissions)
                : PermissionsOn(scope.ResourceType);
            var narrowed = scope.Permissions & allowed;
            if (narrowed == scope.Permissions)
                granted.Add(scope.Text);
            else if (narrowed != ScopePermissions.None)
                granted.Add(SmartScope.V2Text(scope.ResourceType, narrowed));
        }
        return granted;
    }

    public override string ToString() => string.Join(' ', Scopes.Select(s => s.Text));
}
