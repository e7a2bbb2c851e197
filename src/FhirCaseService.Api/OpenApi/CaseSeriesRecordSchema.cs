using System.Text.Json.Nodes;
using FhirCaseService.Api.Operations;
using FhirCaseService.CaseSeries.Schema;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace FhirCaseService.Api.OpenApi;

/// <summary>
/// Puts the case-series record's JSON Schema into the OpenAPI document (components CaseSeriesRecord and
/// CaseSeriesPatient, the schema's one <c>$defs</c> entry hoisted so its <c>$ref</c> resolves inside the document) and
/// makes the record operations' request bodies refer to it. The schema text is the embedded one the service also
/// serves at <see cref="CaseSeriesEndpoints.SchemaPath"/>, so the two cannot drift apart.
/// </summary>
public static class CaseSeriesRecordSchema
{
    public const string RecordComponent = "CaseSeriesRecord";
    private const string ComponentPrefix = "CaseSeries";

    public static void AddTo(OpenApiDocument document, IEnumerable<string> recordPaths)
    {
        var root = JsonNode.Parse(CaseSeriesSchema.ReadText())!.AsObject();
        root.Remove("$schema");
        root.Remove("$id");
        var definitions = root["$defs"]?.AsObject();
        root.Remove("$defs");

        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        foreach (var (name, definition) in definitions?.ToList() ?? [])
            document.Components.Schemas[ComponentName(name)] = Parse(Rewrite(definition!.ToJsonString()), document);
        var record = Parse(Rewrite(root.ToJsonString()), document);
        record.ExternalDocs = new OpenApiExternalDocs
        {
            Description = "The same schema as a JSON Schema (draft 2020-12) document",
            Url = new Uri(CaseSeriesEndpoints.SchemaPath, UriKind.Relative),
        };
        document.Components.Schemas[RecordComponent] = record;

        foreach (var path in recordPaths)
        {
            if (document.Paths.TryGetValue(path, out var item) && item.Operations?.GetValueOrDefault(HttpMethod.Post)?.RequestBody?.Content is { } content)
                foreach (var media in content.Values)
                    media.Schema = new OpenApiSchemaReference(RecordComponent, document);
        }
    }

    private static string ComponentName(string definition) => ComponentPrefix + char.ToUpperInvariant(definition[0]) + definition[1..];

    /// <summary>"#/$defs/patient" becomes "#/components/schemas/CaseSeriesPatient".</summary>
    private static string Rewrite(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"#/\\$defs/([A-Za-z0-9_-]+)\"", m => $"\"#/components/schemas/{ComponentName(m.Groups[1].Value)}\"");

    private static OpenApiSchema Parse(string json, OpenApiDocument document) =>
        OpenApiModelFactory.Parse<OpenApiSchema>(json, OpenApiSpecVersion.OpenApi3_1, document, out _, "json")
        ?? throw new InvalidOperationException("The embedded case-series JSON Schema cannot be read as an OpenAPI schema.");
}
