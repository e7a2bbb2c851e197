using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Xml;
using FhirCaseService.Api.Http;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Limits;

/// <summary>
/// The size and shape a request body must keep to: read with a byte budget, then scanned once (Utf8JsonReader or an
/// XmlReader that refuses DTDs) for nesting depth, string length and Bundle entry count before the strict FHIR parser
/// and the validator see it. The scan reports where the limit was crossed, never the content: it may be patient data.
/// Syntax errors are not the scan's business: it stops at the first one and leaves the wording to the parser.
/// </summary>
public static class RequestBodyLimits
{
    private const string MaxRequestBodyBytesSetting = $"{LimitsOptions.Section}:{nameof(LimitsOptions.MaxRequestBodyBytes)}";

    /// <summary>The 413 of a body above <paramref name="maxBytes"/>, whoever noticed it (Content-Length, counting, the server).</summary>
    public static FhirRequestException TooLarge(long maxBytes) => TooLarge(maxBytes, MaxRequestBodyBytesSetting);

    /// <summary>The 413 of a body above an endpoint's own maximum, naming the setting that holds it.</summary>
    public static FhirRequestException TooLarge(long maxBytes, string setting) =>
        FhirRequestException.Of(StatusCodes.Status413PayloadTooLarge, OperationOutcome.IssueType.TooLong,
            $"The request body is larger than the {maxBytes} bytes this server accepts ({setting}).");

    /// <summary>
    /// The whole body, refused with 413 as soon as it is known to exceed <paramref name="maxBytes"/>: up front from
    /// Content-Length, or while counting a chunked body.
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
            throw TooLarge(maxBytes);
        using var body = new MemoryStream(request.ContentLength is long length ? (int)Math.Min(length, Array.MaxLength) : 0);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await ReadChunkAsync(request, buffer, cancellationToken)) > 0)
            {
                if (body.Length + read > maxBytes)
                    throw TooLarge(maxBytes);
                body.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return body.ToArray();
    }

    /// <summary>
    /// One read of the body. A body the server cannot decode (a chunk size beyond any length, a broken gzip stream)
    /// surfaces as an IOException or InvalidDataException: the client's fault, so a 400, not a 500. The server's own
    /// refusals (BadHttpRequestException, e.g. its 413) keep their status.
    /// </summary>
    private static async Task<int> ReadChunkAsync(HttpRequest request, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await request.Body.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (e is (IOException and not BadHttpRequestException) or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            throw FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Structure,
                "The request body cannot be read: its transfer or content encoding is malformed (chunk sizes, gzip data).");
        }
    }

    /// <summary>Throws the 400 or 413 of the first limit the JSON body crosses (UTF-8, with or without a byte order mark).</summary>
    public static void CheckJson(ReadOnlySpan<byte> utf8, LimitsOptions limits)
    {
        if (utf8.StartsWith(Encoding.UTF8.Preamble))
            utf8 = utf8[Encoding.UTF8.Preamble.Length..];
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            // One level more than allowed, so the scan sees the offending container and can say where it is.
            MaxDepth = limits.MaxJsonDepth == int.MaxValue ? int.MaxValue : limits.MaxJsonDepth + 1,
        });
        var isBundle = false;
        var rootProperty = RootProperty.Other;
        var inEntries = false;
        var entries = 0;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (reader.CurrentDepth + 1 > limits.MaxJsonDepth)
                            throw TooDeep(limits.MaxJsonDepth, JsonPosition(utf8, reader.TokenStartIndex));
                        if (reader.CurrentDepth == 1 && rootProperty == RootProperty.Entry && reader.TokenType == JsonTokenType.StartArray)
                            inEntries = true;
                        else if (inEntries && reader.CurrentDepth == 2)
                            entries++;
                        break;
                    case JsonTokenType.EndArray when reader.CurrentDepth == 1:
                        inEntries = false;
                        break;
                    case JsonTokenType.PropertyName:
                        CheckJsonString(ref reader, utf8, limits.MaxStringLength);
                        if (reader.CurrentDepth == 1)
                            rootProperty = reader.ValueTextEquals("entry"u8) ? RootProperty.Entry
                                : reader.ValueTextEquals("resourceType"u8) ? RootProperty.ResourceType
                                : RootProperty.Other;
                        break;
                    case JsonTokenType.String:
                        CheckJsonString(ref reader, utf8, limits.MaxStringLength);
                        if (reader.CurrentDepth == 1 && rootProperty == RootProperty.ResourceType)
                            isBundle = reader.ValueTextEquals("Bundle"u8);
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON from here on: the strict parser refuses it in its own words, with its own position.
            return;
        }
        if (isBundle && entries > limits.MaxBundleEntries)
            throw TooManyEntries(entries, limits.MaxBundleEntries);
    }

    /// <summary>
    /// Throws the 400 or 413 of the first limit the XML body crosses. DTDs are refused outright: with them come external
    /// entities (a DOCTYPE can make a parser read a local file into the document) and entity expansion bombs.
    /// </summary>
    public static void CheckXml(byte[] body, LimitsOptions limits)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        using var reader = XmlReader.Create(new MemoryStream(body, writable: false), settings);
        var lineInfo = (IXmlLineInfo)reader;
        var isBundle = false;
        var entries = 0;
        var sawRoot = false;
        try
        {
            while (reader.Read())
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Element:
                        sawRoot = true;
                        if (reader.Depth + 1 > limits.MaxJsonDepth)
                            throw TooDeep(limits.MaxJsonDepth, (lineInfo.LineNumber, lineInfo.LinePosition));
                        if (reader.Depth == 0)
                            isBundle = reader.LocalName == "Bundle";
                        else if (reader.Depth == 1 && isBundle && reader.LocalName == "entry")
                            entries++;
                        while (reader.MoveToNextAttribute())
                            if (reader.Value.Length > limits.MaxStringLength)
                                throw TooLong(limits.MaxStringLength, (lineInfo.LineNumber, lineInfo.LinePosition));
                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace:
                        if (reader.Value.Length > limits.MaxStringLength)
                            throw TooLong(limits.MaxStringLength, (lineInfo.LineNumber, lineInfo.LinePosition));
                        break;
                }
            }
        }
        catch (XmlException e) when (!sawRoot && DeclaresDocumentType(body))
        {
            throw FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Security,
                $"The XML body declares a document type (<!DOCTYPE>) at line {e.LineNumber}, column {e.LinePosition}; " +
                "this server does not process DTDs or external entities. Send the resource without a DOCTYPE.");
        }
        catch (XmlException)
        {
            // Not well-formed XML from here on: the strict parser refuses it in its own words, with its own position.
            return;
        }
        if (isBundle && entries > limits.MaxBundleEntries)
            throw TooManyEntries(entries, limits.MaxBundleEntries);
    }

    private enum RootProperty { Other, ResourceType, Entry }

    /// <summary>
    /// A UTF-8 string is never shorter in bytes than in UTF-16 characters, so only strings with more bytes than the limit
    /// are decoded to count their characters.
    /// </summary>
    private static void CheckJsonString(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, int maxLength)
    {
        if (reader.ValueSpan.Length <= maxLength)
            return;
        var characters = reader.ValueIsEscaped ? reader.GetString()!.Length : Encoding.UTF8.GetCharCount(reader.ValueSpan);
        if (characters > maxLength)
            throw TooLong(maxLength, JsonPosition(utf8, reader.TokenStartIndex));
    }

    /// <summary>Line and column (1-based, in characters) of a byte offset; computed only when a limit is crossed.</summary>
    private static (int Line, int Column) JsonPosition(ReadOnlySpan<byte> utf8, long offset)
    {
        var before = utf8[..(int)offset];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        return (before.Count((byte)'\n') + 1, Encoding.UTF8.GetCharCount(before[lineStart..]) + 1);
    }

    private static bool DeclaresDocumentType(byte[] body) =>
        body.AsSpan().IndexOf("<!DOCTYPE"u8) >= 0
        || Encoding.Unicode.GetString(body).Contains("<!DOCTYPE", StringComparison.Ordinal);

    private static FhirRequestException TooDeep(int maxDepth, (int Line, int Column) at) =>
        Located(OperationOutcome.IssueType.TooCostly,
            $"The body nests deeper than the {maxDepth} levels this server accepts ({LimitsOptions.Section}:{nameof(LimitsOptions.MaxJsonDepth)}) " +
            $"at line {at.Line}, column {at.Column}.", at);

    private static FhirRequestException TooLong(int maxLength, (int Line, int Column) at) =>
        Located(OperationOutcome.IssueType.TooLong,
            $"The string at line {at.Line}, column {at.Column} is longer than the {maxLength} characters this server accepts " +
            $"({LimitsOptions.Section}:{nameof(LimitsOptions.MaxStringLength)}).", at);

    private static FhirRequestException TooManyEntries(int entries, int maxEntries) =>
        FhirRequestException.Of(StatusCodes.Status413PayloadTooLarge, OperationOutcome.IssueType.TooCostly,
            $"The Bundle has {entries} entries; this server accepts at most {maxEntries} in one request " +
            $"({LimitsOptions.Section}:{nameof(LimitsOptions.MaxBundleEntries)}). Send the entries in several Bundles.",
            "Bundle.entry");

    private static FhirRequestException Located(OperationOutcome.IssueType code, string message, (int Line, int Column) at)
    {
        var exception = FhirRequestException.Of(StatusCodes.Status400BadRequest, code, message);
        exception.Outcome.Issue[0].Extension.Add(new Extension(ValidationResult.IssueLineExtension, new Integer(at.Line)));
        exception.Outcome.Issue[0].Extension.Add(new Extension(ValidationResult.IssueColumnExtension, new Integer(at.Column)));
        return exception;
    }
}
