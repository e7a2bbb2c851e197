using System.Text.Json;
using System.Xml;

namespace FhirCaseService.Conformance.Packages;

/// <summary>
/// The top-level resourceType, id, url and version of a JSON or XML resource, read without building
/// the resource: indexing a package must not cost a full parse of every file.
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

    private const string FhirNamespace = "http://hl7.org/fhir";

    private static readonly XmlReaderSettings SafeXml = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
    };

    /// <summary>The header of a FHIR XML resource, or null when the root is not in the FHIR namespace.</summary>
    /// <exception cref="XmlException">The bytes are not well-formed XML.</exception>
    public static ResourceHeader? ReadXml(byte[] xml)
    {
        using var reader = XmlReader.Create(new MemoryStream(xml), SafeXml);
        if (reader.MoveToContent() != XmlNodeType.Element || reader.NamespaceURI != FhirNamespace)
        {
            return null;
        }
        var resourceType = reader.LocalName;
        string? id = null, url = null, version = null;
        var depth = reader.Depth;
        if (!reader.IsEmptyElement)
        {
            reader.Read();
            while (reader.Depth > depth && !reader.EOF)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
                {
                    var value = reader.GetAttribute("value");
                    switch (reader.LocalName)
                    {
                        case "id": id = value; break;
                        case "url": url = value; break;
                        case "version": version = value; break;
                    }
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                }
            }
        }
        return new ResourceHeader(resourceType, id, url, version);
    }
}
