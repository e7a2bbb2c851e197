using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Security;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Conformance.Sources;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Conformance;

/// <summary>
/// Serves the artifacts of our profiles package (StructureDefinitions with generated snapshots,
/// ValueSets, CodeSystems) so that clients can fetch the profiles they are validated against.
/// </summary>
public static class ConformanceResourceEndpoints
{
    private static readonly string[] ServedTypes = ["StructureDefinition", "ValueSet", "CodeSystem"];

    public static IEndpointRouteBuilder MapConformanceResources(this IEndpointRouteBuilder app)
    {
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        foreach (var type in ServedTypes)
        {
            app.MapGet($"/{type}/{{id}}", (string id, ConformanceContext context) => ReadAsync(type, id, context))
                .WithName($"Read{type}").WithTags("Conformance resources")
                .WithSummary($"Read one {type} of the FhirCaseService profiles package.")
                .AllowPublicAccess();
            app.MapGet($"/{type}", (HttpRequest request, ConformanceContext context) => SearchAsync(type, request, context))
                .WithName($"Search{type}").WithTags("Conformance resources")
                .WithSummary($"Search the {type} resources of the FhirCaseService profiles package by url, name or _id.")
                .AllowPublicAccess();
            capabilities.AddResource(new ResourceCapability(
                type,
                [CapabilityStatement.TypeRestfulInteraction.Read, CapabilityStatement.TypeRestfulInteraction.SearchType],
                [
                    new SearchParameterCapability("_id", SearchParamType.Token),
                    new SearchParameterCapability("url", SearchParamType.Uri),
                    new SearchParameterCapability("name", SearchParamType.String),
                ],
                []));
        }
        return app;
    }

    private static async Task<FhirResult> ReadAsync(string type, string id, ConformanceContext context)
    {
        var artifact = OurArtifacts(type).FirstOrDefault(a => a.Id == id);
        if (artifact is null)
            return OperationOutcomes.NotFound($"{type}/{id} is not part of the FhirCaseService profiles package.");
        return new FhirResult(await LoadForClientAsync(artifact.Url, context));
    }

    private static async Task<FhirResult> SearchAsync(string type, HttpRequest request, ConformanceContext context)
    {
        string? url = request.Query["url"];
        string? name = request.Query["name"];
        string? id = request.Query["_id"];
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset };
        foreach (var artifact in OurArtifacts(type))
        {
            if (url is not null && artifact.Url != url) continue;
            if (id is not null && artifact.Id != id) continue;
            var resource = await LoadForClientAsync(artifact.Url, context);
            if (name is not null && !NameStartsWith(resource, name)) continue;
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{request.Scheme}://{request.Host}{request.PathBase}/{type}/{artifact.Id}",
                Resource = resource,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }
        bundle.Total = bundle.Entry.Count;
        return new FhirResult(bundle);
    }

    private static IEnumerable<ArtifactDescriptor> OurArtifacts(string type) =>
        BundledPackages.FhirCaseProfiles().Source.Artifacts
            .Where(a => a.ResourceType == type && a.Id is not null)
            .OrderBy(a => a.Id, StringComparer.Ordinal);

    /// <summary>StructureDefinitions go out with their generated snapshot; everything is a copy, the cache stays untouched.</summary>
    private static async Task<Resource> LoadForClientAsync(string canonical, ConformanceContext context)
    {
        var snapshot = await context.Snapshots.GetAsync(canonical);
        if (snapshot is not null)
            return (Resource)snapshot.Definition.DeepCopy();
        var resource = context.Resolver.Resolve(canonical)
            ?? throw new InvalidOperationException($"The package lists {canonical} but it cannot be resolved.");
        return (Resource)resource.DeepCopy();
    }

    private static bool NameStartsWith(Resource resource, string name) => resource switch
    {
        StructureDefinition sd => sd.Name?.StartsWith(name, StringComparison.OrdinalIgnoreCase) == true,
        ValueSet vs => vs.Name?.StartsWith(name, StringComparison.OrdinalIgnoreCase) == true,
        CodeSystem cs => cs.Name?.StartsWith(name, StringComparison.OrdinalIgnoreCase) == true,
        _ => false,
    };
}
