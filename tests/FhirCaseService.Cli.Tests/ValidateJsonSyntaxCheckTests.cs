using System.Text.Json;
using FhirCaseService.Cli.Validate;

namespace FhirCaseService.Cli.Tests;

/// <summary>
/// The CLI's JSON syntax check reads the text once with the reader instead of building a JsonDocument: it must answer
/// every text as the document did (same verdict, message, line and column), including texts that are not FHIR at all.
/// </summary>
public sealed class ValidateJsonSyntaxCheckTests
{
    public static TheoryData<string> Texts() =>
    [
        "",
        "   ",
        "\uFEFF{\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Patient\"} ",
        "{\"resourceType\":\"Patient\"} {\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Patient\",}",
        "{\"resourceType\":\"Patient\" /* comment */}",
        "{\"resourceType\":\"Patient\", \"active\": tru",
        "{\"resourceType\":\"Patient\",\n  \"name\": [{\"text\": }]\n}",
        "{\"resourceType\":\"Patient\", \"name\": [{\"text\": \"x\"}}",
        "{\"resourceType\":\"Patient\"}}",
        "{\"resourceType\":5}",
        "{\"resourceType\":null}",
        "{\"resourceType\":{\"a\":1}}",
        "{\"resourceType\":[\"Patient\"]}",
        "{\"resourceType\":\"Patient\",\"resourceType\":5}",
        "{\"resourceType\":5,\"resourceType\":\"Patient\"}",
        "{\"resourceType\":{\"resourceType\":\"Patient\"},\"x\":1}",
        "{\"contained\":[{\"resourceType\":\"Patient\"}]}",
        "{\"nested\":{\"resourceType\":\"Patient\"}}",
        "{\"resourc\\u0065Type\":\"Patient\"}",
        "{\"ResourceType\":\"Patient\"}",
        "{}",
        "[]",
        "[{\"resourceType\":\"Patient\"}]",
        "42",
        "\"Patient\"",
        "null",
        "{\"a\":" + string.Concat(Enumerable.Repeat("[", 70)) + string.Concat(Enumerable.Repeat("]", 70)) + ",\"resourceType\":\"Patient\"}",
        "{\"a\":" + string.Concat(Enumerable.Repeat("[", 60)) + string.Concat(Enumerable.Repeat("]", 60)) + ",\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Pätïent 😀\",\n\"x\": \"\\ud800\"}",
        "{\"resourceType\":\"Patient\", \"x\": 1e999, \"y\": -0.0e-5}",
        "{\"resourceType\":\"Patient\", \"x\": 01}",
        "{\"resourceType\":\"Patient\", \"x\": \"tab\there\"}",
        "{'resourceType':'Patient'}",
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public void Syntax_check_answers_as_the_json_document_does(string text) =>
        Assert.Equal(DocumentCheck(text), ValidateFileChecker.JsonSyntaxError(text));

    [Fact]
    public void Syntax_check_answers_every_example_as_the_json_document_does()
    {
        var root = FhirCaseService.TestSupport.RepositoryRoot.Path;
        var files = Directory.EnumerateFiles(Path.Combine(root, "examples"), "*.json", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.Equal(DocumentCheck(text), ValidateFileChecker.JsonSyntaxError(text));
            // Each example cut short and with a stray character: a syntax error somewhere inside.
            var cut = text[..(text.Length * 2 / 3)];
            Assert.Equal(DocumentCheck(cut), ValidateFileChecker.JsonSyntaxError(cut));
            var broken = text.Insert(text.Length / 2, "}");
            Assert.Equal(DocumentCheck(broken), ValidateFileChecker.JsonSyntaxError(broken));
        }
    }

    /// <summary>The check as it was written before: a JsonDocument and its root's "resourceType".</summary>
    private static ValidateFileChecker.SyntaxError? DocumentCheck(string content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("resourceType", out var type)
                || type.ValueKind != JsonValueKind.String)
                return new ValidateFileChecker.SyntaxError("not a FHIR resource: expected a JSON object with a \"resourceType\" string", 1, 1, NotFhir: true);
            return null;
        }
        catch (JsonException e)
        {
            var message = e.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return new ValidateFileChecker.SyntaxError($"not valid JSON: {(cut > 0 ? message[..cut] : message).TrimEnd()}", (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
    }
}
