using System.Text.Json;
using FhirCaseService.Cli.Export;
using FhirCaseService.Cli.Tests.CaseSeries;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// `fhircase export` against the real service (its $export kick-off, runner, status and files) over SQLite and
/// PostgreSQL, and `fhircase validate` over what it downloaded: the registry's check.
/// </summary>
public abstract class ExportEndToEndTests<THost>(THost host) : IAsyncLifetime where THost : ExportServiceHost
{
    private readonly TemporaryFolder _folder = new();

    public Task InitializeAsync() => host.EnsureLoadedAsync();

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private Task<CliRun> Export(string directory, params string[] extra) =>
        ExportCli.RunAsync(_folder.Path, ["--server", host.Base, "-o", directory, "--poll-interval", "0.1", "--timeout", "60", .. extra]);

    /// <summary>Each output file's resources as (type, id), for comparing folders with what the server holds.</summary>
    private IReadOnlyList<(string File, string Type, string Id)> Resources(string directory) =>
        Directory.GetFiles(_folder.File(directory), "*.ndjson")
            .Where(path => !Path.GetFileName(path).StartsWith("deleted.", StringComparison.Ordinal))
            .SelectMany(path => File.ReadLines(path).Where(l => l.Length > 0).Select(line =>
            {
                using var resource = JsonDocument.Parse(line);
                return (Path.GetFileName(path), resource.RootElement.GetProperty("resourceType").GetString()!, resource.RootElement.GetProperty("id").GetString()!);
            }))
            .ToList();

    private async Task<int> CountOnServer(string type)
    {
        using var response = await host.Client.GetAsync($"{type}?_summary=count");
        using var bundle = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return bundle.RootElement.GetProperty("total").GetInt32();
    }

    [Fact]
    public async Task Exporting_everything_downloads_every_stored_resource_and_passes_validate()
    {
        var run = await Export("all");

        Assert.True(run.ExitCode == 0, run.Error);
        var resources = Resources("all");
        foreach (var type in new[] { "Patient", "Observation", "MedicationAdministration", "Condition", "Procedure", "Group" })
            Assert.Equal(await CountOnServer(type), resources.Count(r => r.Type == type));
        Assert.All(resources, r => Assert.StartsWith(r.Type + ".", r.File, StringComparison.Ordinal));
        Assert.Equal(resources.Count, resources.Select(r => (r.Type, r.Id)).Distinct().Count());
        using var manifest = JsonDocument.Parse(File.ReadAllText(_folder.File("all/manifest.json")));
        Assert.Equal(resources.Count, manifest.RootElement.GetProperty("output").EnumerateArray().Sum(o => o.GetProperty("count").GetInt32()));
        Assert.Contains($"exported {resources.Count} resources", run.Out);

        var validate = await CliRun.StartIn(_folder.Path, "validate", "all");

        Assert.True(validate.ExitCode == 0, validate.Out + validate.Error);
        Assert.True(File.Exists(_folder.File("all/" + ExportState.FileName)));
        Assert.DoesNotContain(ExportState.FileName, validate.Out + validate.Error);
    }

    [Fact]
    public async Task Exporting_some_types_downloads_those_types_only()
    {
        var run = await Export("some", "--type", "Patient,Condition");

        Assert.True(run.ExitCode == 0, run.Error);
        var resources = Resources("some");
        Assert.Equal(["Condition", "Patient"], resources.Select(r => r.Type).Distinct().Order());
        Assert.Equal(await CountOnServer("Patient"), resources.Count(r => r.Type == "Patient"));
    }

    [Fact]
    public async Task Exporting_a_group_downloads_its_members_and_their_data_only()
    {
        var run = await Export("group", "--group", ExportServiceHost.GroupId, "--type", "Patient,Condition");

        Assert.True(run.ExitCode == 0, run.Error);
        var patients = Resources("group").Where(r => r.Type == "Patient").Select(r => r.Id).ToList();
        Assert.Equal(4, patients.Count);
        Assert.DoesNotContain(ExportServiceHost.OutsiderId, patients);
        Assert.Equal(4, Resources("group").Count(r => r.Type == "Condition"));
    }

    [Fact]
    public async Task Exporting_since_the_previous_transaction_time_downloads_what_changed_and_what_was_deleted_since()
    {
        var doomedId = "doomed-" + Guid.NewGuid().ToString("N")[..8];
        await host.SendAsync(HttpMethod.Put, $"Patient/{doomedId}", $$"""{"resourceType":"Patient","id":"{{doomedId}}","gender":"male"}""");
        var first = await Export("before", "--type", "Patient");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.False(File.Exists(_folder.File("before/deleted.1.ndjson")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(_folder.File("before/manifest.json")));
        var transactionTime = manifest.RootElement.GetProperty("transactionTime").GetString()!;
        var changedId = "changed-" + Guid.NewGuid().ToString("N")[..8];
        await host.SendAsync(HttpMethod.Put, $"Patient/{changedId}", $$"""{"resourceType":"Patient","id":"{{changedId}}","gender":"female"}""");
        await host.SendAsync(HttpMethod.Delete, $"Patient/{doomedId}", "");

        var next = await Export("after", "--type", "Patient", "--since", transactionTime);

        Assert.True(next.ExitCode == 0, next.Error);
        Assert.Equal([("Patient", changedId)], Resources("after").Select(r => (r.Type, r.Id)));
        var deletion = Assert.Single(File.ReadAllLines(_folder.File("after/deleted.1.ndjson")));
        using (var bundle = JsonDocument.Parse(deletion))
        {
            Assert.Equal("transaction", bundle.RootElement.GetProperty("type").GetString());
            var request = Assert.Single(bundle.RootElement.GetProperty("entry").EnumerateArray()).GetProperty("request");
            Assert.Equal(("DELETE", $"Patient/{doomedId}"), (request.GetProperty("method").GetString(), request.GetProperty("url").GetString()));
        }
        Assert.Contains("deleted since --since: 1 resource(s)", next.Out);

        var validate = await CliRun.StartIn(_folder.Path, "validate", "after");

        Assert.True(validate.ExitCode == 0, validate.Out + validate.Error);
    }

    [Fact]
    public async Task A_parameter_the_server_refuses_exits_2_with_its_outcome()
    {
        var run = await Export("refused", "--type", "Specimen");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("400", run.Error);
        Assert.Contains("Specimen", run.Error);
    }
}

public sealed class SqliteExportEndToEndTests(SqliteExportServiceHost host)
    : ExportEndToEndTests<SqliteExportServiceHost>(host), IClassFixture<SqliteExportServiceHost>;

public sealed class PostgresExportEndToEndTests(PostgresExportServiceHost host)
    : ExportEndToEndTests<PostgresExportServiceHost>(host), IClassFixture<PostgresExportServiceHost>;
