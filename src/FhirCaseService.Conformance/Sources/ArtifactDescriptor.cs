namespace FhirCaseService.Conformance.Sources;

/// <summary>
/// What a source knows about one conformance resource before parsing it: enough to resolve it by
/// canonical and to list it by type. <paramref name="Location"/> is the entry or file it is read from.
/// </summary>
public sealed record ArtifactDescriptor(string ResourceType, string? Id, string Url, string? Version, string Location)
{
    /// <summary>"url|version" when the resource has a version, else the url.</summary>
    public string VersionedCanonical => Version is null ? Url : $"{Url}|{Version}";
}
