using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Operations;

/// <summary>
/// <c>$validate</c> at type level (<c>POST [type]/$validate</c>) and instance level (<c>[type]/[id]/$validate</c>): the
/// engine's OperationOutcome for a resource, with <c>profile</c> and <c>mode</c> (create, update, delete). Answers 200
/// whatever the verdict; the issues carry it. Nothing is stored.
/// </summary>
public static class ValidateEndpoints
{
    public const string OperationDefinition = "http://hl7.org/fhir/OperationDefinition/Resource-validate";

    private const string BundleType = "Bundle";

    public static IEndpointRouteBuilder MapValidate(this IEndpointRouteBuilder app)
    {
        foreach (var type in StoredResourceTypes.All)
        {
            app.MapPost($"/{type}/$validate", (HttpRequest request, IResourceStore store, WriteValidation validation, IResourceValidator validator) =>
                    ValidateAsync(type, null, request, store, validation, validator))
                .WithName($"Validate{type}").WithTags(type)
                .WithSummary($"Validate a {type} (body: the resource, or a Parameters with resource, profile, mode) without storing it.")
                .RequireClient();
            app.MapPost($"/{type}/{{id}}/$validate", (string id, HttpRequest request, IResourceStore store, WriteValidation validation, IResourceValidator validator) =>
                    ValidateAsync(type, id, request, store, validation, validator))
                .WithName($"Validate{type}Instance").WithTags(type)
                .WithSummary($"Validate a proposed version of {type}/[id] (mode=update), its deletion (mode=delete), or without a body the stored version.")
                .RequireClient();
            app.MapGet($"/{type}/{{id}}/$validate", (string id, HttpRequest request, IResourceStore store, WriteValidation validation, IResourceValidator validator) =>
                    ValidateAsync(type, id, request, store, validation, validator))
                .WithName($"Validate{type}Stored").WithTags(type)
                .WithSummary($"Validate the stored {type}/[id] (optionally against ?profile=).")
                .RequireClient();
        }
        // A Bundle is not stored as such, but a transaction or document is what an EHR sends: validating one checks every
        // entry as a write would (the profiles the server requires per type included) and names each issue's entry.
        app.MapPost("/Bundle/$validate", (HttpRequest request, IResourceStore store, WriteValidation validation, IResourceValidator validator) =>
                ValidateAsync(BundleType, null, request, store, validation, validator))
            .WithName("ValidateBundle").WithTags("Bundle")
            .WithSummary("Validate a Bundle (body: the Bundle, or a Parameters with resource, profile) without storing it; entries are checked as a write would check them.")
            .RequireClient();
        app.ServiceProvider.GetRequiredService<ServerCapabilities>().AddOperation(new OperationCapability("validate", OperationDefinition));
        return app;
    }

    private static async Task<FhirResult> ValidateAsync(
        string type, string? id, HttpRequest request, IResourceStore store, WriteValidation validation, IResourceValidator validator)
    {
        var cancellationToken = request.HttpContext.RequestAborted;
        var input = await ValidateRequest.ReadAsync(request, cancellationToken);
        if (input.Mode is ValidationMode.Update or ValidationMode.Delete && id is null)
            throw FhirRequestException.BadRequest($"mode={input.Mode.ToString().ToLowerInvariant()} validates an existing resource: call {type}/[id]/$validate.", "mode");

        if (input.Mode == ValidationMode.Delete)
        {
            var current = await store.ReadAsync(type, id!, cancellationToken);
            if (current.Status != ReadStatus.Found)
                return OperationOutcomes.NotFound($"{type}/{id} does not exist, so there is nothing to delete.");
            // Nothing on this server forbids a deletion: references to a deleted resource stay as history.
            return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
                $"{type}/{id} may be deleted."));
        }

        // The profiles the server requires come with the write options (for the resource and for every Bundle entry).
        var options = validation.EngineOptions with { Profiles = input.Profile is null ? [] : [input.Profile] };
        ValidationResult result;
        if (input.Resource is null)
        {
            if (id is null)
                throw FhirRequestException.BadRequest($"Send the {type} to validate, as the body or as the resource parameter of a Parameters.", "resource");
            var stored = await store.ReadAsync(type, id, cancellationToken);
            if (stored.Status != ReadStatus.Found)
                return OperationOutcomes.NotFound($"{type}/{id} is not a stored resource.");
            result = await validator.ValidateAsync(stored.Version!.Resource!, options, cancellationToken);
        }
        else
        {
            result = await validator.ValidateAsync(input.Resource.Text, input.Resource.Format, options, cancellationToken);
            // A resource taken out of a Parameters has lines and columns of its own, not of the request body: drop them.
            if (input.FromParameters)
                result = new ValidationResult([.. result.Issues.Select(i => i with { Location = new IssueLocation(i.Location.Expression) })]);
            var issues = result.Issues.ToList();
            issues.AddRange(IdentityIssues(type, id, input));
            result = new ValidationResult(issues);
        }
        return new FhirResult(result.ToOperationOutcome());
    }

    /// <summary>The resource must be of the URL's type, and in update mode carry the instance's id.</summary>
    private static IEnumerable<ValidationIssue> IdentityIssues(string type, string? id, ValidateRequest input)
    {
        var (resource, _) = input.Resource!.ParseWithFindings();
        if (resource is null)
            yield break;
        if (resource.TypeName != type)
            yield return new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"This is {type}/$validate, but the resource is a {resource.TypeName}.", new IssueLocation(resource.TypeName), "resource-type");
        else if (input.Mode == ValidationMode.Update && resource.Id != id)
            yield return new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"An update of {type}/{id} must carry id {id}; the resource has {(string.IsNullOrEmpty(resource.Id) ? "none" : resource.Id)}.",
                new IssueLocation($"{type}.id"), "update-id");
    }
}
