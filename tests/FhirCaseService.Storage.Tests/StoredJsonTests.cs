using System.Security.Cryptography;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// The stored JSON template is cut from the serializer's UTF-8 and hashed from those bytes: what it fills in and the
/// hash it gives must be what the text-based form gave (hashes already stored are compared with new ones).
/// </summary>
public sealed class StoredJsonTests
{
    [Theory]
    [InlineData("Plain")]
    [InlineData("Zoë Ångström 李 😀")]
    [InlineData("quote \" backslash \\ control \u0001")]
    public void The_template_fills_to_the_serializers_text_and_hashes_it_without_the_stamp_values(string family)
    {
        var patient = new Patient
        {
            Id = "p1",
            Meta = new Meta { Profile = ["https://example.org/StructureDefinition/p"], Tag = [new Coding("https://example.org/t", "x")] },
            Name = [new HumanName { Family = family, Given = [family] }],
        };
        var template = StoredJsonTemplate.Of((Patient)patient.DeepCopy());
        var lastUpdated = new DateTimeOffset(2026, 12, 6, 1, 2, 3, 456, TimeSpan.Zero);
        var expected = (Patient)patient.DeepCopy();
        expected.Meta!.VersionId = "7";
        expected.Meta.LastUpdated = lastUpdated;
        var text = FhirSerialization.ToJson(expected);
        var lastUpdatedText = StoredJson.FormatLastUpdated(lastUpdated);

        Assert.Equal(text, template.Fill("7", lastUpdatedText));
        var withoutStamps = text.Replace("\"versionId\":\"7\"", "\"versionId\":\"\"", StringComparison.Ordinal)
            .Replace($"\"lastUpdated\":\"{lastUpdatedText}\"", "\"lastUpdated\":\"\"", StringComparison.Ordinal);
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(withoutStamps)));
        Assert.Equal(sha, template.ContentHash);
        Assert.Equal(sha, StoredJson.HashOfStored(text));
    }

    [Theory]
    [InlineData("Plain", 1)]
    [InlineData("Zoë Ångström 李 😀", 12)]
    [InlineData("quote \" backslash \\ control \u0001", 2147483647)]
    public void The_utf8_fill_is_the_filled_texts_utf8(string family, int versionId)
    {
        var patient = new Patient { Id = "p1", Name = [new HumanName { Family = family, Given = [family] }] };
        var template = StoredJsonTemplate.Of((Patient)patient.DeepCopy());
        var lastUpdatedText = StoredJson.FormatLastUpdated(new DateTimeOffset(2026, 12, 6, 1, 2, 3, 456, TimeSpan.Zero));
        var version = versionId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var utf8 = template.FillUtf8(Encoding.UTF8.GetBytes(version), Encoding.UTF8.GetBytes(lastUpdatedText));

        Assert.Equal(Encoding.UTF8.GetBytes(template.Fill(version, lastUpdatedText)), utf8.Bytes);
        Assert.Equal(template.Fill(version, lastUpdatedText), utf8.ToString());
    }

    [Fact]
    public void Text_without_the_stores_meta_form_has_no_hash() =>
        Assert.Null(StoredJson.HashOfStored("""{"resourceType":"Patient","id":"p1"}"""));
}
