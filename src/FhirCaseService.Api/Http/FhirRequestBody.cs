using System.Text;
using FhirCaseService.Api.Limits;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Http;

/// <summary>A request body as FHIR text: kept as text so the validator can give line and column, parsed once it has passed.</summary>
public sealed record FhirRequestBody(string Text, ResourceFormat Format)
{
    public static async Task<FhirRequestBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken) =>
        await ReadOptionalAsync(request, cancellationToken)
            ?? throw FhirRequestException.BadRequest("The request has no body; send a FHIR resource.");

    /// <summary>
    /// The body, or null when the request has none (an operation whose inputs may all be in the query). A body that
    /// crosses a configured limit (<see cref="LimitsOptions"/>: size, Bundle entries, nesting, string length) is refused
    /// here, before the validator or the parser spend anything on it.
    /// </summary>
    public static async Task<FhirRequestBody?> ReadOptionalAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limits = request.HttpContext.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var bytes = await RequestBodyLimits.ReadAsync(request, limits.MaxRequestBodyBytes, cancellationToken);
        if (bytes.AsSpan().IndexOfAnyExcept(" \t\r\n"u8) < 0)
            return null;
        var format = FhirFormat.OfBody(request);
        var text = StrictFhirText.Decode(bytes);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (format == ResourceFormat.Xml)
        {
            RequestBodyLimits.CheckXml(bytes, limits);
            StrictFhirText.CheckXml(text);
        }
        else
        {
            // Both checks read the UTF-8 as received; only a UTF-16 or UTF-32 body is encoded again.
            var utf8 = IsUtf8(bytes) ? WithoutByteOrderMark(bytes) : Encoding.UTF8.GetBytes(text);
            RequestBodyLimits.CheckJson(utf8, limits);
            StrictFhirText.CheckJson(utf8);
        }
        return new FhirRequestBody(text, format);
    }

    /// <summary>False only for bodies that start with a UTF-16 or UTF-32 byte order mark.</summary>
    private static bool IsUtf8(byte[] bytes) => bytes is not ([0xFE, 0xFF, ..] or [0xFF, 0xFE, ..] or [0, 0, 0xFE, 0xFF, ..]);

    private static ReadOnlySpan<byte> WithoutByteOrderMark(byte[] bytes) =>
        bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? bytes.AsSpan(Encoding.UTF8.Preamble.Length) : bytes;

    /// <summary>Parses the text with the shared strict deserializer; anything it cannot read is a 400 naming each problem.</summary>
    public Resource Parse()
    {
        var (resource, problems) = ParseWithFindings();
        return problems is null ? resource! : throw problems;
    }

    /// <summary>
    /// The parsed resource and, when the parser found problems, the 400 they make. With problems the resource is what the
    /// parser could read (null when nothing): a batch still runs the entries the validator did not set aside.
    /// </summary>
    public (Resource? Resource, FhirRequestException? Problems) ParseWithFindings()
    {
        try
        {
            var resource = Format == ResourceFormat.Xml
                ? FhirSerialization.StrictXml.DeserializeResource(Text)
                : FhirSerialization.StrictJson.DeserializeResource(Text);
            return (resource, null);
        }
        catch (DeserializationFailedException e)
        {
            var outcome = new OperationOutcome();
            foreach (var error in e.Exceptions)
            {
                var issue = new OperationOutcome.IssueComponent
                {
                    Severity = OperationOutcome.IssueSeverity.Error,
                    Code = OperationOutcome.IssueType.Structure,
                    Diagnostics = error.Message,
                };
                if (error is Hl7.Fhir.Validation.CodedValidationException coded && !string.IsNullOrEmpty(coded.InstancePath))
                    issue.Expression = [coded.InstancePath];
                outcome.Issue.Add(issue);
            }
            return (e.PartialResult as Resource, new FhirRequestException(StatusCodes.Status400BadRequest, outcome));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or System.Xml.XmlException)
        {
            return (null, FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Structure,
                $"The body cannot be read as a FHIR resource: {e.Message}"));
        }
    }
}
