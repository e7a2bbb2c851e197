using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Security;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Mvc;

namespace FhirCaseService.Api.Rest;

/// <summary>What every instance-level handler needs: the request, the store, validation on write, a logger.</summary>
public sealed record RestServices(HttpRequest Request, IResourceStore Store, WriteValidation Validation, WritePipeline Pipeline, ILogger<RestServices> Logger)
{
    public CancellationToken Aborted => Request.HttpContext.RequestAborted;
}

/// <summary>
/// create, read, vread, update, delete (plain and conditional) for the stored resource types, with If-Match /
/// If-None-Exist / If-None-Match, weak ETags, Last-Modified, Location and <c>Prefer: return=</c>.
/// Every create and update is parsed once and validated once (<see cref="WriteValidation"/>), then prepared and written by
/// <see cref="WritePipeline"/> in one store transaction; deletes need no preparation.
/// </summary>
public static class ResourceEndpoints
{
    public static IEndpointRouteBuilder MapResourceInteractions(this IEndpointRouteBuilder app)
    {
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        var validation = app.ServiceProvider.GetRequiredService<WriteValidation>();
        var ourProfiles = OurProfilesByType(app.ServiceProvider.GetRequiredService<ConformanceContext>());
        foreach (var type in StoredResourceTypes.All)
        {
            var group = app.MapGroup($"/{type}").WithTags(type);
            group.MapPost("", ([AsParameters] RestServices s) => CreateAsync(type, s))
                .WithName($"Create{type}")
                .WithSummary($"Create a {type} (the server assigns the id); If-None-Exist makes it conditional. Validated first: 422 with an OperationOutcome on errors.")
                .RequireFhirAccess(ScopePermissions.Create, type);
            group.MapGet("/{id}", (string id, [AsParameters] RestServices s) => ReadAsync(type, id, s))
                .WithName($"Read{type}")
                .WithSummary($"Read the current version of a {type}: 410 when deleted, 404 when unknown; If-None-Match gives 304.")
                .RequireFhirAccess(ScopePermissions.Read, type);
            group.MapGet("/{id}/_history/{versionId}", (string id, string versionId, [AsParameters] RestServices s) => VReadAsync(type, id, versionId, s))
                .WithName($"VRead{type}")
                .WithSummary($"Read one version of a {type}.")
                .RequireFhirAccess(ScopePermissions.Read, type);
            group.MapPut("/{id}", (string id, [AsParameters] RestServices s) => UpdateAsync(type, id, s))
                .WithName($"Update{type}")
                .WithSummary($"Update a {type}, or create it with this id; If-Match W/\"n\" makes it version-aware (412 on mismatch).")
                .RequireFhirAccess(ScopePermissions.Update, type);
            group.MapPut("", ([AsParameters] RestServices s) => ConditionalUpdateAsync(type, s))
                .WithName($"ConditionalUpdate{type}")
                .WithSummary($"Conditional update: the search parameters in the URL select the {type} to update (none: create; several: 412).")
                .RequireFhirAccess(ScopePermissions.Update, type);
            group.MapDelete("/{id}", (string id, [AsParameters] RestServices s) => DeleteAsync(type, id, s))
                .WithName($"Delete{type}")
                .WithSummary($"Delete a {type} (a new, deleted version; history keeps the others). If-Match supported.")
                .RequireFhirAccess(ScopePermissions.Delete, type);
            group.MapDelete("", ([AsParameters] RestServices s) => ConditionalDeleteAsync(type, s))
                .WithName($"ConditionalDelete{type}")
                .WithSummary($"Conditional delete: the search parameters in the URL select the single {type} to delete (several: 412).")
                .RequireFhirAccess(ScopePermissions.Delete, type);
            capabilities.AddResource(new ResourceCapability(
                type,
                [
                    CapabilityStatement.TypeRestfulInteraction.Create,
                    CapabilityStatement.TypeRestfulInteraction.Read,
                    CapabilityStatement.TypeRestfulInteraction.Vread,
                    CapabilityStatement.TypeRestfulInteraction.Update,
                    CapabilityStatement.TypeRestfulInteraction.Delete,
                ],
                [],
                [.. validation.RequiredProfiles(type).Concat(ourProfiles[type])]));
            // What the handlers above do: If-None-Exist (and create criteria in the URL), conditional PUT and DELETE of a
            // single match, If-Match on versions, vread of every version, PUT creating with the client's id.
            capabilities.AddBehaviour(type, new ResourceBehaviour
            {
                ConditionalCreate = true,
                ConditionalUpdate = true,
                ConditionalDelete = CapabilityStatement.ConditionalDeleteStatus.Single,
                Versioning = CapabilityStatement.ResourceVersionPolicy.VersionedUpdate,
                ReadHistory = true,
                UpdateCreate = true,
            });
        }
        return app;
    }

    /// <summary>The resource profiles of our package, by the type they constrain: what /metadata lists as supportedProfile.</summary>
    private static ILookup<string, string> OurProfilesByType(ConformanceContext context) =>
        BundledPackages.FhirCaseProfiles().Source.Artifacts
            .Where(a => a.ResourceType == "StructureDefinition")
            .Select(a => context.Resolver.Resolve(a.Url))
            .OfType<StructureDefinition>()
            .Where(sd => sd is { Kind: StructureDefinition.StructureDefinitionKind.Resource, Derivation: StructureDefinition.TypeDerivationRule.Constraint })
            .ToLookup(sd => sd.Type ?? "", sd => sd.Url ?? "", StringComparer.Ordinal);

    private static async Task<WriteResult> CreateAsync(string type, RestServices s)
    {
        var ifNoneExist = ConditionalCreateCriteria(s.Request);
        var resource = await ReadValidResourceAsync(type, s);
        var create = new BundleEntryRequest(0, null, Bundle.HTTPVerb.POST, new EntryTarget(type, null, null, null), resource, null,
            string.IsNullOrWhiteSpace(ifNoneExist) ? null : ifNoneExist);
        return Written(s, "create", await RunAsync(create, s));
    }

    /// <summary>
    /// If-None-Exist, or search parameters in the URL (<c>POST Patient?identifier=...</c>, how some clients ask for a
    /// conditional create): honoured the same way, never ignored. Both at once must agree.
    /// </summary>
    private static string? ConditionalCreateCriteria(HttpRequest request)
    {
        string? header = request.Headers["If-None-Exist"];
        header = string.IsNullOrWhiteSpace(header) ? null : header;
        var inUrl = Criteria.Pairs(request.QueryString.Value ?? "");
        if (inUrl.Count == 0)
            return header;
        var urlCriteria = string.Join("&", inUrl.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        if (header is not null && !Criteria.Pairs(header).SequenceEqual(inUrl))
            throw FhirRequestException.BadRequest(
                "The URL's search parameters and If-None-Exist name different criteria for a conditional create; send them in If-None-Exist only.", "If-None-Exist");
        return urlCriteria;
    }

    private static async Task<ReadResultResult> ReadAsync(string type, string id, RestServices s) =>
        new(await s.Store.ReadAsync(type, id, s.Aborted), $"{type}/{id}");

    private static async Task<IResult> VReadAsync(string type, string id, string versionId, RestServices s)
    {
        if (!int.TryParse(versionId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) || version < 1)
            return OperationOutcomes.NotFound($"{type}/{id}/_history/{versionId} is not a version: versions are numbered from 1.");
        return new ReadResultResult(await s.Store.VReadAsync(type, id, version, s.Aborted), $"{type}/{id}/_history/{version}");
    }

    private static async Task<WriteResult> UpdateAsync(string type, string id, RestServices s)
    {
        var resource = await ReadValidResourceAsync(type, s);
        if (resource.Id != id)
            throw FhirRequestException.BadRequest(string.IsNullOrEmpty(resource.Id)
                ? $"The {type} has no id; an update must carry the id of its URL ({id})."
                : $"The {type}'s id ({resource.Id}) differs from the URL's ({id}).", $"{type}.id");
        var update = new BundleEntryRequest(0, null, Bundle.HTTPVerb.PUT, new EntryTarget(type, id, null, null), resource,
            VersionHeaders.IfMatch(s.Request.Headers.IfMatch), null);
        return Written(s, "update", await RunAsync(update, s));
    }

    /// <summary>Matching nothing, it creates the resource (the pipeline then demands the create scope too).</summary>
    private static async Task<WriteResult> ConditionalUpdateAsync(string type, RestServices s)
    {
        var resource = await ReadValidResourceAsync(type, s);
        var criteria = (s.Request.QueryString.Value ?? "").TrimStart('?');
        var update = new BundleEntryRequest(0, null, Bundle.HTTPVerb.PUT, new EntryTarget(type, null, null, criteria), resource,
            VersionHeaders.IfMatch(s.Request.Headers.IfMatch), null);
        return Written(s, "conditional update", await RunAsync(update, s));
    }

    private static async Task<WriteOutcome> RunAsync(BundleEntryRequest write, RestServices s) =>
        (await s.Pipeline.RunAsync([write], EntryScope.Single, s.Aborted))[0]!;

    private static WriteResult Written(RestServices s, string interaction, WriteOutcome outcome)
    {
        Log(s, interaction, outcome);
        return new WriteResult(outcome);
    }

    private static async Task<WriteResult> DeleteAsync(string type, string id, RestServices s)
    {
        var ifMatch = VersionHeaders.IfMatch(s.Request.Headers.IfMatch);
        var outcome = await s.Store.TransactionAsync((tx, ct) => ResourceOperations.DeleteAsync(tx, type, id, ifMatch, ct), s.Aborted);
        Log(s, "delete", outcome);
        return new WriteResult(outcome);
    }

    private static async Task<WriteResult> ConditionalDeleteAsync(string type, RestServices s)
    {
        var criteria = s.Request.QueryString.Value ?? "";
        var outcome = await s.Store.TransactionAsync((tx, ct) => ResourceOperations.ConditionalDeleteAsync(tx, type, criteria, ct), s.Aborted);
        Log(s, "conditional delete", outcome);
        return new WriteResult(outcome);
    }

    /// <summary>The body, parsed once and validated once as the type of the URL; a body of another type is a 400.</summary>
    private static async Task<Resource> ReadValidResourceAsync(string type, RestServices s)
    {
        WriteMetrics.MarkStart(s.Request.HttpContext);
        var body = await FhirRequestBody.ReadAsync(s.Request, s.Aborted);
        return await s.Validation.ReadValidResourceAsync(body, type, s.Aborted);
    }

    /// <summary>Type, id and version only: never content, which may identify a patient.</summary>
    private static void Log(RestServices s, string interaction, WriteOutcome outcome)
    {
        if (outcome.Stored is { } stored)
            s.Logger.LogInformation("{Interaction} {ResourceType}/{Id} -> version {VersionId} ({Status})",
                interaction, stored.ResourceType, stored.Id, stored.VersionId, outcome.Status);
    }
}
