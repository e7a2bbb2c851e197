using System.Text.Json;
using System.Xml.Linq;
using FhirCaseService.Api.Http;
using FhirCaseService.Validation;

namespace FhirCaseService.Api.Operations;

public enum ValidationMode { Create, Update, Delete }

/// <summary>
/// The inputs of <c>$validate</c>: the resource (as text, so that issues keep their line and column when it is the
/// body itself), the profile and the mode. They come from a Parameters body, or a plain resource body plus the query.
/// </summary>
public sealed record ValidateRequest(FhirRequestBody? Resource, string? Profile, ValidationMode Mode, bool FromParameters)
{
    private const string ParametersType = "Parameters";

    public static async Task<ValidateRequest> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        string? profile = request.Query["profile"];
        string? mode = request.Query["mode"];
        FhirRequestBody? resource = null;
        var fromParameters = false;
        if (await FhirRequestBody.ReadOptionalAsync(request, cancellationToken) is { } body)
        {
            var parameters = ReadParameters(body);
            if (parameters is null)
                resource = body;
            else
            {
                fromParameters = true;
                resource = parameters.Value.Resource;
                profile = parameters.Value.Profile ?? profile;
                mode = parameters.Value.Mode ?? mode;
            }
        }
        return new ValidateRequest(resource, string.IsNullOrWhiteSpace(profile) ? null : profile, ModeOf(mode), fromParameters);
    }

    private static ValidationMode ModeOf(string? mode) => mode switch
    {
        null or "" or "create" => ValidationMode.Create,
        "update" => ValidationMode.Update,
        "delete" => ValidationMode.Delete,
        _ => throw FhirRequestException.BadRequest($"mode must be create, update or delete; got {mode}.", "mode"),
    };

    /// <summary>
    /// The parameters of a Parameters body (resource, profile, mode); null when the body is not a Parameters.
    /// Read as plain JSON/XML: the resource inside may be broken, and the validator must see it as sent.
    /// </summary>
    private static (FhirRequestBody? Resource, string? Profile, string? Mode)? ReadParameters(FhirRequestBody body)
    {
        try
        {
            return body.Format == ResourceFormat.Xml ? ReadXmlParameters(body.Text) : ReadJsonParameters(body.Text);
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            // Not readable at all: the validator reports that as the resource's problem.
            return null;
        }
    }

    private static (FhirRequestBody?, string?, string?)? ReadJsonParameters(string text)
    {
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("resourceType", out var type) || type.ValueKind != JsonValueKind.String
            || type.GetString() != ParametersType)
            return null;
        FhirRequestBody? resource = null;
        string? profile = null, mode = null;
        if (root.TryGetProperty("parameter", out var parameters) && parameters.ValueKind == JsonValueKind.Array)
        {
            foreach (var parameter in parameters.EnumerateArray())
            {
                if (parameter.ValueKind != JsonValueKind.Object || !parameter.TryGetProperty("name", out var name))
                    continue;
                switch (name.GetString())
                {
                    case "resource" when parameter.TryGetProperty("resource", out var r):
                        resource = new FhirRequestBody(r.GetRawText(), ResourceFormat.Json);
                        break;
                    case "profile":
                        profile = StringValue(parameter, "valueUri", "valueCanonical", "valueString");
                        break;
                    case "mode":
                        mode = StringValue(parameter, "valueCode", "valueString");
                        break;
                }
            }
        }
        return (resource, profile, mode);
    }

    private static string? StringValue(JsonElement parameter, params string[] names)
    {
        foreach (var name in names)
            if (parameter.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                return value.GetString();
        return null;
    }

    private static (FhirRequestBody?, string?, string?)? ReadXmlParameters(string text)
    {
        XNamespace fhir = "http://hl7.org/fhir";
        var root = XDocument.Parse(text).Root;
        if (root is null || root.Name != fhir + ParametersType)
            return null;
        FhirRequestBody? resource = null;
        string? profile = null, mode = null;
        foreach (var parameter in root.Elements(fhir + "parameter"))
        {
            switch (parameter.Element(fhir + "name")?.Attribute("value")?.Value)
            {
                case "resource" when parameter.Element(fhir + "resource")?.Elements().FirstOrDefault() is { } r:
                    resource = new FhirRequestBody(r.ToString(SaveOptions.DisableFormatting), ResourceFormat.Xml);
                    break;
                case "profile":
                    profile = Value(parameter, "valueUri", "valueCanonical", "valueString");
                    break;
                case "mode":
                    mode = Value(parameter, "valueCode", "valueString");
                    break;
            }
        }
        return (resource, profile, mode);

        string? Value(XElement parameter, params string[] names) =>
            names.Select(n => parameter.Element(fhir + n)?.Attribute("value")?.Value).FirstOrDefault(v => v is not null);
    }
}
