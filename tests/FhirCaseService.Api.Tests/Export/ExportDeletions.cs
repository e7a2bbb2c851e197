using System.Net;
using System.Text.Json;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Api.Tests.Export;

/// <summary>The manifest's <c>deleted</c> files, downloaded and checked line by line against the Bulk Data Access IG 2.0.0.</summary>
public static class ExportDeletions
{
    /// <summary>
    /// Every deleted file's entries as "Type/id", in file order. Asserts each file is a Bundle file whose count is its line
    /// count, and each line a transaction Bundle of exactly one DELETE entry without a resource.
    /// </summary>
    public static async Task<List<string>> DownloadAsync(ExportTestClient client, ExportManifest manifest)
    {
        using var json = JsonDocument.Parse(await manifest.Response.Content.ReadAsStringAsync());
        var deleted = new List<string>();
        foreach (var file in json.RootElement.GetProperty("deleted").EnumerateArray())
        {
            Assert.Equal("Bundle", file.GetProperty("type").GetString());
            using var response = await client.Http.GetAsync(ExportTestClient.OnThisHost(file.GetProperty("url").GetString()!));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            Assert.EndsWith("\n", text);
            var lines = text.Split('\n')[..^1];
            Assert.Equal(file.GetProperty("count").GetInt64(), lines.Length);
            foreach (var line in lines)
            {
                var bundle = FhirSerialization.StrictJson.Deserialize<Bundle>(line);
                Assert.Equal(Bundle.BundleType.Transaction, bundle.Type);
                Assert.NotNull(bundle.Meta?.LastUpdated);
                var entry = Assert.Single(bundle.Entry);
                Assert.Null(entry.Resource);
                Assert.Equal(Bundle.HTTPVerb.DELETE, entry.Request?.Method);
                deleted.Add(entry.Request!.Url!);
            }
        }
        return deleted;
    }
}
