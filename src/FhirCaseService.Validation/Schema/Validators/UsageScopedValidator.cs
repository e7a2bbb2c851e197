using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>
/// One usage context of an additional binding, as the reference validator decides whether it is in scope
/// (InstanceValidator.isInScope): its code names the profile (system) and a path in the resource (code, such as
/// "Observation.category"); it is met when a Coding or CodeableConcept at that path carries the first coding of the
/// usage's valueCodeableConcept (same system and code, and version when the usage gives one).
/// </summary>
public sealed class BindingUsage
{
    private readonly string[] _path;

    private BindingUsage(string[] path, string system, string code, string? version)
    {
        _path = path;
        System = system;
        Code = code;
        Version = version;
    }

    public string System { get; }
    public string Code { get; }
    public string? Version { get; }
    public string Path => string.Join('.', _path);

    /// <summary>The condition a usage sets in <paramref name="profileCanonical"/>, or null when it can never be met there.</summary>
    public static BindingUsage? From(UsageContext? usage, string profileCanonical)
    {
        if (usage?.Code is not { } code || RawElements.Text(code, "code") is not { Length: > 0 } path || RawElements.Text(code, "system") is not { } system
            || profileCanonical.Length == 0 || system != profileCanonical && !system.StartsWith(profileCanonical + "|", StringComparison.Ordinal))
            return null;
        if (usage.Value is not CodeableConcept concept || RawElements.Many<Coding>(concept, "coding").FirstOrDefault() is not { } coding
            || RawElements.Text(coding, "system") is not { } codingSystem || RawElements.Text(coding, "code") is not { } codingCode)
            return null;
        return new BindingUsage(path.Split('.'), codingSystem, codingCode, RawElements.Text(coding, "version"));
    }

    public bool IsMetBy(PocoNode resource)
    {
        if (_path.Length < 2 || resource.Poco.TypeName != _path[0])
            return false;
        IEnumerable<PocoNode> current = [resource];
        foreach (var name in _path.Skip(1))
            current = current.SelectMany(node => node.Child(name) ?? Enumerable.Empty<PocoNode>()).Where(n => n.Poco is not null).ToList();
        return current.Any(node => node.Poco switch
        {
            Coding coding => Carries(coding),
            CodeableConcept concept => RawElements.Many<Coding>(concept, "coding").Any(Carries),
            _ => false,
        });
    }

    private bool Carries(Coding coding) =>
        RawElements.Text(coding, "system") == System && RawElements.Text(coding, "code") == Code
        && (Version is null || RawElements.Text(coding, "version") == Version);
}

/// <summary>A rule that applies only where all its usage contexts are met by the resource that holds the element.</summary>
public sealed class UsageScopedValidator : IElementValidator
{
    private readonly IElementValidator _inner;
    private readonly IReadOnlyList<BindingUsage> _usages;

    public UsageScopedValidator(IElementValidator inner, IReadOnlyList<BindingUsage> usages)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(usages);
        if (usages.Count == 0)
            throw new ArgumentException("A usage-scoped rule needs at least one usage.", nameof(usages));
        _inner = inner;
        _usages = usages;
    }

    public void Validate(in ElementVisit visit)
    {
        foreach (var usage in _usages)
        {
            if (!usage.IsMetBy(visit.Resource))
                return;
        }
        _inner.Validate(visit);
    }
}
