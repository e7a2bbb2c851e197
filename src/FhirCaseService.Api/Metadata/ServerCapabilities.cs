using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Metadata;

/// <summary>What one resource type supports on this server; endpoint groups declare it when they map routes.</summary>
public sealed record ResourceCapability(
    string ResourceType,
    IReadOnlyList<CapabilityStatement.TypeRestfulInteraction> Interactions,
    IReadOnlyList<SearchParameterCapability> SearchParameters,
    IReadOnlyList<string> SupportedProfiles);

public sealed record SearchParameterCapability(string Name, SearchParamType Type, string? Definition = null);

public sealed record OperationCapability(string Name, string Definition);

/// <summary>
/// How one resource type's interactions behave, as the CapabilityStatement's flags say it; declared by the endpoint
/// group that implements the behaviour. Several declarations for one type combine (a flag is on when any says so).
/// </summary>
public sealed record ResourceBehaviour
{
    public bool ConditionalCreate { get; init; }
    public bool ConditionalUpdate { get; init; }
    public CapabilityStatement.ConditionalDeleteStatus? ConditionalDelete { get; init; }
    public CapabilityStatement.ResourceVersionPolicy? Versioning { get; init; }
    public bool ReadHistory { get; init; }
    public bool UpdateCreate { get; init; }
    public IReadOnlyList<string> SearchInclude { get; init; } = [];
    public IReadOnlyList<string> SearchRevInclude { get; init; } = [];

    public ResourceBehaviour CombineWith(ResourceBehaviour other) => new()
    {
        ConditionalCreate = ConditionalCreate || other.ConditionalCreate,
        ConditionalUpdate = ConditionalUpdate || other.ConditionalUpdate,
        ConditionalDelete = ConditionalDelete ?? other.ConditionalDelete,
        Versioning = Versioning ?? other.Versioning,
        ReadHistory = ReadHistory || other.ReadHistory,
        UpdateCreate = UpdateCreate || other.UpdateCreate,
        SearchInclude = [.. SearchInclude.Concat(other.SearchInclude).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
        SearchRevInclude = [.. SearchRevInclude.Concat(other.SearchRevInclude).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
    };
}

/// <summary>
/// The server's own record of what it serves. Endpoint mapping code adds to it, and /metadata is
/// generated from it, so the CapabilityStatement cannot claim more (or less) than the routes do.
/// </summary>
public sealed class ServerCapabilities
{
    private readonly List<ResourceCapability> _resources = [];
    private readonly List<OperationCapability> _operations = [];
    private readonly Dictionary<string, ResourceBehaviour> _behaviours = new(StringComparer.Ordinal);
    private readonly List<CapabilityStatement.SystemRestfulInteraction> _systemInteractions = [];
    private readonly Lock _gate = new();
    private Func<string, CapabilityStatement.SecurityComponent>? _security;

    /// <summary>When this server instance started; the CapabilityStatement's date.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public void AddResource(ResourceCapability capability)
    {
        lock (_gate) _resources.Add(capability);
    }

    public void AddBehaviour(string resourceType, ResourceBehaviour behaviour)
    {
        lock (_gate)
            _behaviours[resourceType] = _behaviours.TryGetValue(resourceType, out var known) ? known.CombineWith(behaviour) : behaviour;
    }

    public ResourceBehaviour BehaviourOf(string resourceType)
    {
        lock (_gate) return _behaviours.GetValueOrDefault(resourceType) ?? new ResourceBehaviour();
    }

    public void AddOperation(OperationCapability operation)
    {
        lock (_gate) _operations.Add(operation);
    }

    /// <summary>A whole-system interaction (transaction, batch, history-system).</summary>
    public void AddSystemInteraction(CapabilityStatement.SystemRestfulInteraction interaction)
    {
        lock (_gate) _systemInteractions.Add(interaction);
    }

    /// <summary>How requests are authorized, given the base URL the client reached (set by authorization when it is on).</summary>
    public void DescribeSecurity(Func<string, CapabilityStatement.SecurityComponent> describe)
    {
        lock (_gate) _security = describe;
    }

    public CapabilityStatement.SecurityComponent? SecurityFor(string baseUrl)
    {
        Func<string, CapabilityStatement.SecurityComponent>? describe;
        lock (_gate) describe = _security;
        return describe?.Invoke(baseUrl);
    }

    public IReadOnlyList<CapabilityStatement.SystemRestfulInteraction> SystemInteractions
    {
        get { lock (_gate) return [.. _systemInteractions.Distinct().Order()]; }
    }

    /// <summary>One entry per resource type: what several endpoint groups declared for a type (e.g. CRUD and search) is merged.</summary>
    public IReadOnlyList<ResourceCapability> Resources
    {
        get
        {
            lock (_gate)
                return
                [
                    .. _resources
                        .GroupBy(r => r.ResourceType, StringComparer.Ordinal)
                        .OrderBy(g => g.Key, StringComparer.Ordinal)
                        .Select(g => new ResourceCapability(
                            g.Key,
                            [.. g.SelectMany(r => r.Interactions).Distinct().Order()],
                            [.. g.SelectMany(r => r.SearchParameters).DistinctBy(p => p.Name).OrderBy(p => p.Name, StringComparer.Ordinal)],
                            [.. g.SelectMany(r => r.SupportedProfiles).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)])),
                ];
        }
    }

    public IReadOnlyList<OperationCapability> Operations
    {
        get { lock (_gate) return [.. _operations.OrderBy(o => o.Name, StringComparer.Ordinal)]; }
    }
}
