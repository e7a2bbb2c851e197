using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Http;

/// <summary>
/// What the FHIR specification asks of a request body's text and the SDK's parser lets through: refused here, before
/// anything is parsed, validated or stored. Valid UTF-8 (a replacement character would change the data silently);
/// JSON as RFC 8259 defines it, one document with no comments and no trailing commas; no control characters in
/// strings but tab, carriage return and line feed (FHIR's string type); numbers a decimal can hold exactly (the SDK
/// would round <c>1e-400</c> to zero). XML: well-formed, one root element, characters XML allows.
/// Refusals name a line and column, never the content: it may be patient data.
/// </summary>
public static class StrictFhirText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The body as text: UTF-8 (a byte order mark is skipped) refused with 400 where a byte sequence is not UTF-8; UTF-16 and UTF-32 with their byte order marks.</summary>
    public static string Decode(byte[] bytes)
    {
        var encoding = bytes switch
        {
            [0, 0, 0xFE, 0xFF, ..] => new UTF32Encoding(bigEndian: true, byteOrderMark: true, throwOnInvalidCharacters: true),
            [0xFF, 0xFE, 0, 0, ..] => new UTF32Encoding(bigEndian: false, byteOrderMark: true, throwOnInvalidCharacters: true),
            [0xFE, 0xFF, ..] => new UnicodeEncoding(bigEndian: true, byteOrderMark: true, throwOnInvalidBytes: true),
            [0xFF, 0xFE, ..] => new UnicodeEncoding(bigEndian: false, byteOrderMark: true, throwOnInvalidBytes: true),
            _ => (Encoding)StrictUtf8,
        };
        var preamble = encoding.Preamble.Length > 0 && bytes.AsSpan().StartsWith(encoding.Preamble) ? encoding.Preamble.Length
            : bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        try
        {
            return encoding.GetString(bytes, preamble, bytes.Length - preamble);
        }
        catch (DecoderFallbackException e)
        {
            var offset = preamble + Math.Max(0, e.Index);
            var at = Position(bytes.AsSpan(0, Math.Min(offset, bytes.Length)));
            throw Located(OperationOutcome.IssueType.Structure,
                $"The body is not valid {encoding.WebName} at line {at.Line}, column {at.Column} (byte {offset}); send it as UTF-8.", at);
        }
    }

    /// <summary>
    /// Throws a 400 naming the first place where the body is not strict JSON or holds what FHIR forbids. Takes the body's
    /// UTF-8 without a byte order mark (the bytes as received when they were UTF-8: no second encoding of the text).
    /// </summary>
    public static void CheckJson(ReadOnlySpan<byte> utf8)
    {
        // Depth is the limits' business (checked before this, with its own wording): no second maximum here.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = int.MaxValue, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                        if (reader.GetString()!.IndexOfAny(ForbiddenControlCharacters) is var index and >= 0)
                            throw ForbiddenCharacter(utf8, reader.TokenStartIndex, reader.GetString()![index]);
                        break;
                    case JsonTokenType.Number:
                        if (!IsExactDecimal(reader.ValueSpan))
                            throw NotExact(utf8, reader.TokenStartIndex);
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            var at = ((int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
            throw Located(OperationOutcome.IssueType.Structure,
                $"The body is not a single well-formed JSON document at line {at.Item1}, column {at.Item2}: {Reason(e.Message)} " +
                "FHIR JSON has no comments, no trailing commas and nothing after the resource.", at);
        }
    }

    /// <summary>Throws a 400 naming the first place where <paramref name="text"/> is not one well-formed XML document of characters XML allows.</summary>
    public static void CheckXml(string text)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            CheckCharacters = true,
            ConformanceLevel = ConformanceLevel.Document,
        };
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), settings);
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                while (reader.MoveToNextAttribute())
                {
                    if (reader.Value.IndexOfAny(ForbiddenControlCharacters) >= 0)
                    {
                        var line = (IXmlLineInfo)reader;
                        throw Located(OperationOutcome.IssueType.Structure,
                            $"The attribute at line {line.LineNumber}, column {line.LinePosition} holds a control character FHIR strings do not allow.",
                            (line.LineNumber, line.LinePosition));
                    }
                    if (reader.LocalName == "value" && LooksLikeDecimal(reader.Value) && !IsExactDecimal(Encoding.ASCII.GetBytes(reader.Value)))
                    {
                        var line = (IXmlLineInfo)reader;
                        throw Located(OperationOutcome.IssueType.Value, NotExactMessage(line.LineNumber, line.LinePosition), (line.LineNumber, line.LinePosition));
                    }
                }
            }
        }
        catch (XmlException e)
        {
            throw Located(OperationOutcome.IssueType.Structure,
                $"The body is not one well-formed XML document at line {e.LineNumber}, column {e.LinePosition}: {Reason(e.Message)}",
                (e.LineNumber, e.LinePosition));
        }
    }

    /// <summary>FHIR's string is <c>[ \r\n\t\S]+</c>: every other C0 control character is refused, however it is escaped.</summary>
    private static readonly char[] ForbiddenControlCharacters =
        [.. Enumerable.Range(0, 0x20).Where(c => c is not ('\t' or '\r' or '\n')).Select(c => (char)c)];

    /// <summary>
    /// True when a number keeps its exact value as a .NET decimal (what the SDK parses FHIR decimals and integers into):
    /// at most 28 decimal places and within ±79,228,162,514,264,337,593,543,950,335. Precision follows the text: "1.50"
    /// stays 1.50.
    /// </summary>
    private static bool IsExactDecimal(ReadOnlySpan<byte> number)
    {
        var text = Encoding.ASCII.GetString(number);
        if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            return false;
        return SameNumber(Normalize(text), Normalize(value.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>A number as significant digits and the power of ten of the last one, so equal values compare equal.</summary>
    private static (string Digits, int Exponent, bool Negative) Normalize(string text)
    {
        var negative = text.StartsWith('-');
        text = text.TrimStart('-', '+');
        var exponent = 0;
        var e = text.IndexOfAny(['e', 'E']);
        if (e >= 0)
        {
            // An exponent too large for an int is a number no decimal holds; TryParse has refused it already.
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }
        var point = text.IndexOf('.');
        if (point >= 0)
        {
            exponent -= text.Length - point - 1;
            text = text.Remove(point, 1);
        }
        var digits = text.TrimStart('0');
        var trimmed = digits.TrimEnd('0');
        exponent += digits.Length - trimmed.Length;
        return (trimmed, trimmed.Length == 0 ? 0 : exponent, negative && trimmed.Length > 0);
    }

    private static bool SameNumber((string Digits, int Exponent, bool Negative) a, (string Digits, int Exponent, bool Negative) b) => a == b;

    /// <summary>The decimal grammar of FHIR XML's value attributes; other values (codes, ids, strings) are not numbers.</summary>
    private static bool LooksLikeDecimal(string value) =>
        value.Length > 0 && value.AsSpan().IndexOfAnyExcept("0123456789+-.eE") < 0 && value.Any(char.IsAsciiDigit)
        && (value.Contains('.') || value.Contains('e') || value.Contains('E') || value.Length > 28);

    private static FhirRequestException ForbiddenCharacter(ReadOnlySpan<byte> utf8, long offset, char character)
    {
        var at = Position(utf8[..(int)offset]);
        return Located(OperationOutcome.IssueType.Structure,
            $"The string at line {at.Line}, column {at.Column} holds the control character U+{(int)character:X4}; FHIR strings allow only tab, carriage return and line feed.", at);
    }

    private static FhirRequestException NotExact(ReadOnlySpan<byte> utf8, long offset)
    {
        var at = Position(utf8[..(int)offset]);
        return Located(OperationOutcome.IssueType.Value, NotExactMessage(at.Line, at.Column), at);
    }

    private static string NotExactMessage(int line, int column) =>
        $"The number at line {line}, column {column} cannot be kept exactly (this server holds at most 28 decimal places and " +
        "magnitudes below 7.9E28); it is refused rather than rounded.";

    /// <summary>The reader's explanation without its own position (given once, in our words) and without quoted content.</summary>
    private static string Reason(string message)
    {
        var cut = message.IndexOf(" LineNumber", StringComparison.Ordinal);
        if (cut < 0)
            cut = message.IndexOf(" Line ", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).Trim().TrimEnd('.') + ".";
    }

    /// <summary>Line and column (1-based, in characters) after <paramref name="before"/>, the bytes that precede a position.</summary>
    private static (int Line, int Column) Position(ReadOnlySpan<byte> before)
    {
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        var column = 0;
        Span<char> chunk = stackalloc char[64];
        for (var rest = before[lineStart..]; !rest.IsEmpty;)
        {
            // Counted leniently: the bytes before a decoding error may end in the middle of a character.
            System.Text.Unicode.Utf8.ToUtf16(rest, chunk, out var read, out var written, replaceInvalidSequences: true, isFinalBlock: true);
            if (read == 0)
                break;
            column += written;
            rest = rest[read..];
        }
        return (before.Count((byte)'\n') + 1, column + 1);
    }

    private static FhirRequestException Located(OperationOutcome.IssueType code, string message, (int Line, int Column) at)
    {
        var exception = FhirRequestException.Of(StatusCodes.Status400BadRequest, code, message);
        exception.Outcome.Issue[0].Extension.Add(new Extension(ValidationResult.IssueLineExtension, new Integer(at.Line)));
        exception.Outcome.Issue[0].Extension.Add(new Extension(ValidationResult.IssueColumnExtension, new Integer(at.Column)));
        return exception;
    }
}
