using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage.Import;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Import;

/// <summary>Runner settings that make small test inputs span many chunks, and a small body limit to test 413 cheaply.</summary>
public static class ImportSettings
{
    public const long MaxBodyBytes = 256 * 1024;

    public static Dictionary<string, string?> Fast(string spoolDirectory, params (string Key, string Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Import:SpoolDirectory"] = spoolDirectory,
            ["Import:PollInterval"] = "00:00:00.200",
            ["Import:CleanupInterval"] = "00:00:00.200",
            ["Import:ChunkLines"] = "7",
            ["Import:Lease"] = "00:00:03",
            ["Import:RetryAfterSeconds"] = "1",
            ["Import:MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Audit:FlushInterval"] = "00:00:00.020",
        };
        foreach (var (key, value) in overrides)
            settings["Import:" + key] = value;
        return settings;
    }

    public static string NewSpoolDirectory() => Path.Combine(Path.GetTempPath(), "fhircase-import-tests", Guid.NewGuid().ToString("N"));
}

public sealed class SqliteImportHost() : ServiceHost(new SqliteTestDatabase(), ImportSettings.Fast(ImportSettings.NewSpoolDirectory()));

public sealed class PostgresImportHost() : ServiceHost(new PostgresTestDatabase(), ImportSettings.Fast(ImportSettings.NewSpoolDirectory()));

/// <summary>A kick-off answer: status, the status URL (Content-Location), the body.</summary>
public sealed record ImportKickOff(HttpStatusCode Status, string? StatusUrl, string Body);

/// <summary>A completed import's manifest as parsed from the status answer.</summary>
public sealed record ImportManifest(JsonElement Root)
{
    public string TransactionTime => Root.GetProperty("transactionTime").GetString()!;

    public string Request => Root.GetProperty("request").GetString()!;

    public (long Count, long Created, long Updated, long Unchanged) Output(string type)
    {
        foreach (var entry in Root.GetProperty("output").EnumerateArray())
            if (entry.GetProperty("type").GetString() == type)
                return (entry.GetProperty("count").GetInt64(), entry.GetProperty("created").GetInt64(),
                    entry.GetProperty("updated").GetInt64(), entry.GetProperty("unchanged").GetInt64());
        return (0, 0, 0, 0);
    }

    public IReadOnlyList<(string Type, string Url, long Count)> Errors =>
        [.. Root.GetProperty("error").EnumerateArray().Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("url").GetString()!, e.GetProperty("count").GetInt64()))];
}

/// <summary>The $import client side the tests need: NDJSON bodies, kick-off, polling, manifest, error file.</summary>
public sealed class ImportTestClient(ServiceHost host)
{
    public HttpClient Http => host.Client;

    public IImportJobStore Jobs => host.Services.GetRequiredService<IImportJobStore>();

    public static string Ndjson(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\n"));

    public static string Patient(string? id, string gender = "female", string? family = null) =>
        "{\"resourceType\":\"Patient\"" + (id is null ? "" : $",\"id\":\"{id}\"") + $",\"gender\":\"{gender}\"" +
        (family is null ? "" : $",\"name\":[{{\"family\":\"{family}\"}}]") + "}";

    /// <summary>An Observation about a patient that need not exist (a bulk load arrives in any order).</summary>
    public static string Observation(string? id, string patientId, decimal value = 0.01m) =>
        "{\"resourceType\":\"Observation\"" + (id is null ? "" : $",\"id\":\"{id}\"") +
        ",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"51124-6\"}]}" +
        $",\"subject\":{{\"reference\":\"Patient/{patientId}\"}},\"effectiveDateTime\":\"2024-03-01\"" +
        $",\"valueQuantity\":{{\"value\":{value.ToString(System.Globalization.CultureInfo.InvariantCulture)},\"unit\":\"%\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"%\"}}}}";

    public Task<ImportKickOff> KickOffAsync(string body, string contentType = "application/fhir+ndjson", bool respondAsync = true, bool gzip = false,
        HttpClient? via = null) =>
        KickOffAsync(Encoding.UTF8.GetBytes(body), contentType, respondAsync, gzip, via);

    /// <summary>The kick-off with a body of exact bytes (e.g. a line that is not UTF-8).</summary>
    public async Task<ImportKickOff> KickOffAsync(byte[] bytes, string contentType = "application/fhir+ndjson", bool respondAsync = true, bool gzip = false,
        HttpClient? via = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/$import");
        if (respondAsync)
            request.Headers.Add("Prefer", "respond-async");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        if (gzip)
        {
            using var compressed = new MemoryStream();
            using (var zip = new GZipStream(compressed, CompressionLevel.Fastest))
                zip.Write(bytes);
            bytes = compressed.ToArray();
        }
        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (gzip)
            request.Content.Headers.ContentEncoding.Add("gzip");
        using var response = await (via ?? Http).SendAsync(request);
        return new ImportKickOff(response.StatusCode, response.Content.Headers.ContentLocation?.ToString(), await response.Content.ReadAsStringAsync());
    }

    public async Task<ImportManifest> ImportAsync(IEnumerable<string> lines)
    {
        var kickOff = await KickOffAsync(Ndjson(lines));
        Assert.True(kickOff.Status == HttpStatusCode.Accepted, $"kick-off answered {kickOff.Status}: {kickOff.Body}");
        return await WaitForManifestAsync(kickOff.StatusUrl!);
    }

    /// <summary>Polls the status URL; asserts every 202 on the way carries X-Progress and Retry-After.</summary>
    public async Task<ImportManifest> WaitForManifestAsync(string statusUrl, HttpClient? via = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            using var response = await (via ?? Http).GetAsync(OnThisHost(statusUrl));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
                return new ImportManifest(JsonDocument.Parse(body).RootElement.Clone());
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"status answered {response.StatusCode}: {body}");
            Assert.Matches(@"^(Queued \(\d+ lines\)|\d+ of ~\d+ lines)$", string.Join("", response.Headers.GetValues("X-Progress")));
            Assert.NotNull(response.Headers.RetryAfter?.Delta);
            Assert.True(DateTime.UtcNow < deadline, "the import did not complete in time");
            await Task.Delay(50);
        }
    }

    /// <summary>The manifest's error file, each line parsed as an OperationOutcome.</summary>
    public async Task<List<OperationOutcome>> ErrorsAsync(ImportManifest manifest, HttpClient? via = null)
    {
        var outcomes = new List<OperationOutcome>();
        foreach (var (type, url, count) in manifest.Errors)
        {
            Assert.Equal("OperationOutcome", type);
            using var response = await (via ?? Http).GetAsync(OnThisHost(url));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
            var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(count, lines.Length);
            outcomes.AddRange(lines.Select(l => FhirSerialization.StrictJson.Deserialize<OperationOutcome>(l)));
        }
        return outcomes;
    }

    /// <summary>The input line an error file entry names, from its issue-line extension (and checked against the diagnostics).</summary>
    public static long LineOf(OperationOutcome outcome)
    {
        var issue = outcome.Issue[0];
        var extension = issue.GetExtension("http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line");
        Assert.NotNull(extension);
        var line = Assert.IsType<Integer>(extension.Value).Value!.Value;
        Assert.All(outcome.Issue, i => Assert.StartsWith($"line {line}: ", i.Diagnostics, StringComparison.Ordinal));
        return line;
    }

    public async Task<int> CountAsync(string type)
    {
        using var response = await Http.GetAsync($"/{type}?_total=accurate&_count=1");
        var bundle = FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync());
        return bundle.Total ?? throw new InvalidOperationException("no total");
    }

    /// <summary>How many versions the resource has (its instance history).</summary>
    public async Task<int> VersionsAsync(string type, string id)
    {
        using var response = await Http.GetAsync($"/{type}/{id}/_history");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync()).Entry.Count;
    }

    public static string OnThisHost(string url) => Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute.PathAndQuery : url;

    public static string JobIdOf(string statusUrl) => statusUrl[(statusUrl.LastIndexOf('/') + 1)..];

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    public static void AssertOperationOutcome(HttpStatusCode expected, ImportKickOff answer, string mentions)
    {
        Assert.True(answer.Status == expected, $"expected {expected}, got {answer.Status}: {answer.Body}");
        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(answer.Body);
        Assert.Contains(outcome.Issue, i => i.Diagnostics?.Contains(mentions, StringComparison.Ordinal) == true);
    }
}
