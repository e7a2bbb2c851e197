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
/// The server's own record of what it serves. Endpoint mapping code adds to it, and /metadata is
/// generated from it, so the CapabilityStatement cannot claim more (or less) than the routes do.
/// </summary>
public sealed class ServerCapabilities
{
    private readonly List<ResourceCapability> _resources = [];
    private readonly List<OperationCapability> _operations = [];
    private readonly Lock _gate = new();

    /// <summary>When this server instance started; the CapabilityStatement's date.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public void AddResource(ResourceCapability capability)
    {
        lock (_gate) _resources.Add(capability);
    }

    public void AddOperation(OperationCapability operation)
    {
        lock (_gate) _operations.Add(operation);
    }

    public IReadOnlyList<ResourceCapability> Resources
    {
        get { lock (_gate) return [.. _resources.OrderBy(r => r.ResourceType, StringComparer.Ordinal)]; }
    }

    public IReadOnlyList<OperationCapability> Operations
    {
        get { lock (_gate) return [.. _operations.OrderBy(o => o.Name, StringComparer.Ordinal)]; }
    }
}
