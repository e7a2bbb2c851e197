using System.Text.Json;

namespace FhirCaseService.Conformance.Packages;

/// <summary>
/// The top-level resourceType, id, url and version of a JSON resource, read without building the
/// resource: indexing a package must not cost a full parse of every file.
/// </summary>
internal sealed record ResourceHeader(string ResourceType, string? Id, string? Url, string? Version)
{
    /// <summary>The header, or null when the bytes are not a JSON object with a resourceType.</summary>
    /// <exception cref="JsonException">The bytes are not valid JSON.</exception>
    public static ResourceHeader? Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        string? resourceType = null, id = null, url = null, version = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = reader.GetString();
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                reader.Skip();
                continue;
            }
            switch (property)
            {
                case "resourceType": resourceType = reader.GetString(); break;
                case "id": id = reader.GetString(); break;
                case "url": url = reader.GetString(); break;
                case "version": version = reader.GetString(); break;
            }
        }
        return resourceType is null ? null : new ResourceHeader(resourceType, id, url, version);
    }
}
