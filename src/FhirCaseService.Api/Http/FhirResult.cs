using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Http;

/// <summary>Writes a FHIR resource in the representation the client negotiated, with the given status code.</summary>
public sealed class FhirResult(Resource resource, int statusCode = StatusCodes.Status200OK) : IResult
{
    public Resource Resource { get; } = resource;
    public int StatusCode { get; } = statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var format = FhirFormat.From(httpContext.Request);
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = format.ContentType + "; charset=utf-8";
        var body = format.WireFormat == FhirWireFormat.Xml
            ? FhirSerialization.ToXmlBytes(Resource, format.Pretty)
            : FhirSerialization.ToJsonBytes(Resource, format.Pretty);
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}
