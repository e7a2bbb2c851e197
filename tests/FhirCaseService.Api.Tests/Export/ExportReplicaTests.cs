using FhirCaseService.Api.Export;
using FhirCaseService.Storage;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Export;

/// <summary>Two replicas of the service on one PostgreSQL database and one shared output directory.</summary>
public sealed class PostgresExportReplicaTests : IAsyncLifetime
{
    private readonly string _output = ExportSettings.NewOutputDirectory();
    private readonly SharedDatabase _database = SharedDatabase.For(StorageProvider.PostgreSql);
    private ExportReplica _first = null!;
    private ExportReplica _second = null!;

    public async Task InitializeAsync()
    {
        _first = await ExportReplica.StartAsync(_database, ExportSettings.Fast(_output));
        _second = await ExportReplica.StartAsync(_database, ExportSettings.Fast(_output));
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _database.DisposeAsync();
        if (Directory.Exists(_output))
            Directory.Delete(_output, recursive: true);
    }

    [Fact]
    public async Task Each_job_is_claimed_and_written_once_and_either_replica_answers_its_status()
    {
        var first = new ExportTestClient(_first);
        var second = new ExportTestClient(_second);
        await first.SeedAsync(patients: 4, observationsEach: 10);
        var expected = await first.CountAsync("Observation") + await first.CountAsync("Patient");

        var kickOffs = new List<(string StatusUrl, ExportTestClient Other)>();
        for (var i = 0; i < 6; i++)
        {
            var (via, other) = i % 2 == 0 ? (first, second) : (second, first);
            var kickOff = await via.KickOffAsync("/$export?_type=Patient,Observation");
            kickOffs.Add((kickOff.StatusUrl!, other));
        }

        var owners = new[] { _first.Services.GetRequiredService<ExportRunner>().Owner, _second.Services.GetRequiredService<ExportRunner>().Owner };
        foreach (var (statusUrl, other) in kickOffs)
        {
            // The status URL names the replica that accepted the job; ask the other one.
            var path = new Uri(statusUrl).PathAndQuery;
            var manifest = await other.WaitForManifestAsync(path, other.Http);
            var exported = await other.DownloadAsync(manifest, other.Http);
            Assert.Equal(expected, exported.Count);
            Assert.Equal(expected, exported.Select(r => r.Key).Distinct().Count());
            var job = (await first.Jobs.GetAsync(ExportTestClient.JobIdOf(statusUrl)))!;
            Assert.Equal(1, job.Attempts);
            Assert.Contains(owners, owner => owner == job.Owner);
        }
    }
}
