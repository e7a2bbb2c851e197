using FhirCaseService.Api.Tests.Export;
using FhirCaseService.Storage;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Jobs;

/// <summary>
/// Tests of jobs that outlive their runner (a replica that died, a process restart): each test starts its own replicas
/// over one database of its own, with a scratch directory they share (export output, import spool) and the job kind's
/// fast settings; database and directory are removed after the test.
/// </summary>
/// <param name="settings">The job kind's settings for a replica, given the scratch directory and a test's overrides.</param>
public abstract class ReplicaTests(StorageProvider provider, string scratchDirectory,
    Func<string, (string Key, string Value)[], IReadOnlyDictionary<string, string?>> settings) : IAsyncLifetime
{
    private SharedDatabase _database = null!;

    protected string ScratchDirectory => scratchDirectory;

    public Task InitializeAsync()
    {
        _database = SharedDatabase.For(provider);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        if (Directory.Exists(scratchDirectory))
            Directory.Delete(scratchDirectory, recursive: true);
    }

    /// <summary>A replica the test stops itself (to play a crash or a restart).</summary>
    protected Task<ExportReplica> StartAsync(params (string Key, string Value)[] overrides) =>
        ExportReplica.StartAsync(_database, settings(scratchDirectory, overrides));

    /// <summary>Starts a replica, runs the rest of the test on it, and stops it however that ends.</summary>
    protected async Task OnReplicaAsync((string Key, string Value)[] overrides, Func<ExportReplica, Task> rest)
    {
        var replica = await StartAsync(overrides);
        try
        {
            await rest(replica);
        }
        finally
        {
            await replica.DisposeAsync();
        }
    }
}
