using System.Reflection;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Security;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Metadata;

public static class MetadataEndpoints
{
    public static IEndpointRouteBuilder MapMetadata(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metadata", GetCapabilityStatement).WithName("GetCapabilityStatement")
            .WithSummary("The server's CapabilityStatement, generated from the interactions it really serves.")
            .AllowPublicAccess();
        return app;
    }

    private static FhirResult GetCapabilityStatement(ServerCapabilities capabilities, HttpRequest request) =>
        new(BuildCapabilityStatement(capabilities, Rest.BaseUrl.Of(request)));

    public static CapabilityStatement BuildCapabilityStatement(ServerCapabilities capabilities, string baseUrl)
    {
        var version = typeof(MetadataEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";
        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Documentation = "FHIR R4 interoperability service for relapsed pediatric BCP-ALL case-series data.",
            Security = capabilities.SecurityFor(baseUrl),
        };
        foreach (var resource in capabilities.Resources)
        {
            var behaviour = capabilities.BehaviourOf(resource.ResourceType);
            rest.Resource.Add(new CapabilityStatement.ResourceComponent
            {
                Type = resource.ResourceType,
                Versioning = behaviour.Versioning,
                ReadHistory = behaviour.ReadHistory,
                UpdateCreate = behaviour.UpdateCreate,
                ConditionalCreate = behaviour.ConditionalCreate,
                ConditionalUpdate = behaviour.ConditionalUpdate,
                ConditionalDelete = behaviour.ConditionalDelete,
                SearchInclude = [.. behaviour.SearchInclude],
                SearchRevInclude = [.. behaviour.SearchRevInclude],
                Interaction = [.. resource.Interactions.Select(i => new CapabilityStatement.ResourceInteractionComponent { Code = i })],
                SearchParam = [.. resource.SearchParameters.Select(p => new CapabilityStatement.SearchParamComponent { Name = p.Name, Type = p.Type, Definition = p.Definition })],
                SupportedProfile = [.. resource.SupportedProfiles],
            });
        }
        foreach (var interaction in capabilities.SystemInteractions)
            rest.Interaction.Add(new CapabilityStatement.SystemInteractionComponent { Code = interaction });
        foreach (var operation in capabilities.Operations)
            rest.Operation.Add(new CapabilityStatement.OperationComponent { Name = operation.Name, Definition = operation.Definition });

        return new CapabilityStatement
        {
            Status = PublicationStatus.Active,
            Date = capabilities.StartedAt.ToString("yyyy-MM-dd'T'HH:mm:ssK"),
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "FhirCaseService", Version = version },
            Implementation = new CapabilityStatement.ImplementationComponent { Description = "FhirCaseService", Url = baseUrl },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["application/fhir+json", "application/fhir+xml"],
            Rest = [rest],
        };
    }
}
