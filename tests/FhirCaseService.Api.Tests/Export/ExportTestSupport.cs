using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FhirCaseService.Api.Export;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Export;

/// <summary>Runner settings that make the small test data exercise file splitting and many checkpoints, quickly.</summary>
public static class ExportSettings
{
    public static Dictionary<string, string?> Fast(string outputDirectory, params (string Key, string Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Export:OutputDirectory"] = outputDirectory,
            ["Export:PollInterval"] = "00:00:00.200",
            ["Export:CleanupInterval"] = "00:00:00.200",
            ["Export:CheckpointRows"] = "7",
            ["Export:MaxResourcesPerFile"] = "10",
            ["Export:Lease"] = "00:00:03",
            ["Export:RetryAfterSeconds"] = "1",
        };
        foreach (var (key, value) in overrides)
            settings["Export:" + key] = value;
        return settings;
    }

    public static string NewOutputDirectory() => Path.Combine(Path.GetTempPath(), "fhircase-export-tests", Guid.NewGuid().ToString("N"));
}

/// <summary>A service host with the fast export settings, over SQLite or PostgreSQL.</summary>
public sealed class SqliteExportHost() : ServiceHost(new SqliteTestDatabase(), ExportSettings.Fast(ExportSettings.NewOutputDirectory()));

public sealed class PostgresExportHost() : ServiceHost(new PostgresTestDatabase(), ExportSettings.Fast(ExportSettings.NewOutputDirectory()));

/// <summary>A database that outlives the hosts started on it: replicas and restarts share it; <see cref="DropAsync"/> of a host leaves it alone.</summary>
public sealed class SharedDatabase(TestDatabase database) : TestDatabase, IAsyncDisposable
{
    private IReadOnlyDictionary<string, string?>? _settings;

    public override StorageProvider Provider => database.Provider;

    public override async Task<IReadOnlyDictionary<string, string?>> CreateAsync() => _settings ??= await database.CreateAsync();

    public override Task DropAsync() => Task.CompletedTask;

    public async ValueTask DisposeAsync() => await database.DropAsync();

    public static SharedDatabase For(StorageProvider provider) =>
        new(provider == StorageProvider.Sqlite ? new SqliteTestDatabase() : new PostgresTestDatabase());
}

/// <summary>One replica of the service over a <see cref="SharedDatabase"/>.</summary>
public sealed class ExportReplica(SharedDatabase database, IReadOnlyDictionary<string, string?> settings) : ServiceHost(database, settings)
{
    public static async Task<ExportReplica> StartAsync(SharedDatabase database, IReadOnlyDictionary<string, string?> settings)
    {
        var replica = new ExportReplica(database, settings);
        await replica.InitializeAsync();
        return replica;
    }
}

/// <summary>A completed export's manifest, as parsed from the status answer.</summary>
public sealed record ExportManifest(string TransactionTime, string Request, bool RequiresAccessToken,
    IReadOnlyList<(string Type, string Url, long Count)> Output, IReadOnlyList<(string Type, string Url)> Error, HttpResponseMessage Response);

/// <summary>A kick-off answer: status, the status URL (Content-Location), the OperationOutcome body.</summary>
public sealed record KickOff(HttpStatusCode Status, string? StatusUrl, string Body);

/// <summary>One exported line, parsed.</summary>
public sealed record ExportedResource(string Type, string Id, int Version, string File)
{
    public string Key => $"{Type}/{Id}";
}

/// <summary>The Bulk Data client side the tests need: kick-off, polling, manifest, download, and test data.</summary>
public sealed class ExportTestClient(ServiceHost host)
{
    public HttpClient Http => host.Client;

    public IResourceStore Store => host.Services.GetRequiredService<IResourceStore>();

    public IExportJobStore Jobs => host.Services.GetRequiredService<IExportJobStore>();

    public async Task<KickOff> KickOffAsync(string pathAndQuery, bool respondAsync = true, Parameters? body = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(body is null && rawBody is null ? HttpMethod.Get : HttpMethod.Post, pathAndQuery);
        if (respondAsync)
            request.Headers.Add("Prefer", "respond-async");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        if (body is not null || rawBody is not null)
            request.Content = new StringContent(rawBody ?? FhirSerialization.ToJson(body!), Encoding.UTF8, "application/fhir+json");
        using var response = await Http.SendAsync(request);
        return new KickOff(response.StatusCode, response.Content.Headers.ContentLocation?.ToString(), await response.Content.ReadAsStringAsync());
    }

    /// <summary>Kicks off and waits for the manifest; asserts the 202 answers along the way carry X-Progress and Retry-After.</summary>
    public async Task<ExportManifest> ExportAsync(string pathAndQuery, Parameters? body = null)
    {
        var kickOff = await KickOffAsync(pathAndQuery, body: body);
        Assert.True(kickOff.Status == HttpStatusCode.Accepted, $"kick-off answered {kickOff.Status}: {kickOff.Body}");
        return await WaitForManifestAsync(kickOff.StatusUrl!);
    }

    public async Task<ExportManifest> WaitForManifestAsync(string statusUrl, HttpClient? via = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var response = await (via ?? Http).GetAsync(OnThisHost(statusUrl));
            if (response.StatusCode == HttpStatusCode.OK)
                return ParseManifest(response, await response.Content.ReadAsStringAsync());
            Assert.True(response.StatusCode == HttpStatusCode.Accepted,
                $"status answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.True(response.Headers.Contains("X-Progress"), "a 202 status answer carries X-Progress");
            Assert.NotNull(response.Headers.RetryAfter?.Delta);
            Assert.True(DateTime.UtcNow < deadline, $"the export did not complete in time (last progress: {string.Join("", response.Headers.GetValues("X-Progress"))})");
            await Task.Delay(50);
        }
    }

    /// <summary>A URL another replica (or an earlier process) handed out, asked of this client's host: they share the database.</summary>
    public static string OnThisHost(string url) => Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute.PathAndQuery : url;

    private static ExportManifest ParseManifest(HttpResponseMessage response, string body)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        return new ExportManifest(
            root.GetProperty("transactionTime").GetString()!,
            root.GetProperty("request").GetString()!,
            root.GetProperty("requiresAccessToken").GetBoolean(),
            [.. root.GetProperty("output").EnumerateArray().Select(o => (o.GetProperty("type").GetString()!, o.GetProperty("url").GetString()!, o.GetProperty("count").GetInt64()))],
            [.. root.GetProperty("error").EnumerateArray().Select(o => (o.GetProperty("type").GetString()!, o.GetProperty("url").GetString()!))],
            response);
    }

    /// <summary>Downloads every output file; asserts each line is a FHIR resource of the file's type and each file's count is its line count.</summary>
    public async Task<List<ExportedResource>> DownloadAsync(ExportManifest manifest, HttpClient? via = null)
    {
        var resources = new List<ExportedResource>();
        foreach (var (type, url, count) in manifest.Output)
        {
            using var response = await (via ?? Http).GetAsync(OnThisHost(url));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            Assert.EndsWith("\n", text);
            var lines = text.Split('\n')[..^1];
            Assert.Equal(count, lines.Length);
            foreach (var line in lines)
            {
                var resource = FhirSerialization.StrictJson.DeserializeResource(line);
                Assert.Equal(type, resource.TypeName);
                resources.Add(new ExportedResource(type, resource.Id!, int.Parse(resource.Meta!.VersionId!, System.Globalization.CultureInfo.InvariantCulture), url));
            }
        }
        return resources;
    }

    public async Task<Patient> CreatePatientAsync(string tag)
    {
        var patient = new Patient
        {
            Identifier = [new Identifier("urn:test:export", tag)],
            Gender = AdministrativeGender.Female,
            BirthDate = "2012-04",
        };
        return (Patient)(await Store.CreateAsync(patient)).Resource!;
    }

    public async Task<StoredResource> CreateObservationAsync(string subjectId, string loinc = "51124-6")
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", loinc),
            Subject = new ResourceReference($"Patient/{subjectId}"),
            Effective = new FhirDateTime("2024-03-01"),
            Value = new Quantity(0.01m, "%"),
        };
        return await Store.CreateAsync(observation);
    }

    public async Task<StoredResource> CreateConditionAsync(string subjectId) =>
        await Store.CreateAsync(new Condition
        {
            Code = new CodeableConcept("http://snomed.info/sct", "277571004"),
            Subject = new ResourceReference($"Patient/{subjectId}"),
        });

    /// <summary>Patients, each with <paramref name="observationsEach"/> Observations and one Condition; answers the patients.</summary>
    public async Task<List<Patient>> SeedAsync(int patients, int observationsEach)
    {
        var created = new List<Patient>();
        for (var p = 0; p < patients; p++)
        {
            var patient = await CreatePatientAsync($"p{p}-{Guid.NewGuid():N}");
            for (var o = 0; o < observationsEach; o++)
                await CreateObservationAsync(patient.Id!);
            await CreateConditionAsync(patient.Id!);
            created.Add(patient);
        }
        return created;
    }

    /// <summary>How many current resources of the type the server holds (what a whole-system export must contain).</summary>
    public async Task<int> CountAsync(string type)
    {
        var response = await Http.GetAsync($"/{type}?_total=accurate&_count=1");
        var bundle = FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync());
        return bundle.Total ?? throw new InvalidOperationException("no total");
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    public static void AssertOperationOutcome(HttpStatusCode expected, KickOff answer)
    {
        Assert.True(answer.Status == expected, $"expected {expected}, got {answer.Status}: {answer.Body}");
        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(answer.Body);
        Assert.NotEmpty(outcome.Issue);
        Assert.All(outcome.Issue, i => Assert.False(string.IsNullOrWhiteSpace(i.Diagnostics)));
    }

    public static string JobIdOf(string statusUrl) => statusUrl[(statusUrl.LastIndexOf('/') + 1)..];

    public DirectoryExportFiles DirectoryFiles => (DirectoryExportFiles)host.Services.GetRequiredService<IExportFiles>();
}
