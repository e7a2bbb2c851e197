using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Security;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests.Security;

/// <summary>The token endpoint's replay protection: one use per key, shared by every replica of the database.</summary>
public abstract class ReplayGuardContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();
    private readonly SettableClock _clock = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_key_is_accepted_once_and_refused_on_replay()
    {
        await using var db = await _backend.OpenAsync();
        await using var database = new StorageDatabase(db.Options);
        var guard = new ReplayGuard(database, _clock);
        var expiry = _clock.GetUtcNow().AddMinutes(5);

        Assert.True(await guard.TryUseOnceAsync("ehr-client|jti-1", expiry));
        Assert.False(await guard.TryUseOnceAsync("ehr-client|jti-1", expiry));
        Assert.True(await guard.TryUseOnceAsync("ehr-client|jti-2", expiry));
        Assert.True(await guard.TryUseOnceAsync("registry-client|jti-1", expiry));
    }

    [Fact]
    public async Task A_replica_refuses_a_key_another_replica_accepted()
    {
        await using var db = await _backend.OpenAsync();
        await using var first = new StorageDatabase(db.Options);
        await using var second = new StorageDatabase(db.Options);
        var expiry = _clock.GetUtcNow().AddMinutes(5);

        Assert.True(await new ReplayGuard(first, _clock).TryUseOnceAsync("ehr-client|shared", expiry));
        Assert.False(await new ReplayGuard(second, _clock).TryUseOnceAsync("ehr-client|shared", expiry));
    }

    [Fact]
    public async Task Concurrent_uses_of_one_key_let_exactly_one_through()
    {
        await using var db = await _backend.OpenAsync();
        await using var database = new StorageDatabase(db.Options);
        var guard = new ReplayGuard(database, _clock);
        var expiry = _clock.GetUtcNow().AddMinutes(5);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => guard.TryUseOnceAsync("ehr-client|race", expiry))));

        Assert.Single(results, accepted => accepted);
    }

    [Fact]
    public async Task A_key_is_forgotten_once_its_expiry_has_passed()
    {
        await using var db = await _backend.OpenAsync();
        await using var database = new StorageDatabase(db.Options);
        var guard = new ReplayGuard(database, _clock);
        Assert.True(await guard.TryUseOnceAsync("ehr-client|old", _clock.GetUtcNow().AddMinutes(5)));

        _clock.Advance(TimeSpan.FromMinutes(6));

        Assert.True(await guard.TryUseOnceAsync("ehr-client|old", _clock.GetUtcNow().AddMinutes(5)));
        Assert.Equal(1, await CountRowsAsync(database));
    }

    [Fact]
    public async Task The_storage_composition_provides_the_guard_over_the_shared_database()
    {
        await using var db = await _backend.OpenAsync();
        var services = new ServiceCollection();
        services.AddFhirCaseStorage(o =>
        {
            o.Provider = db.Options.Provider;
            o.DataDirectory = db.Options.DataDirectory;
            o.ConnectionString = db.Options.ConnectionString;
        });
        await using var provider = services.BuildServiceProvider();
        var guard = provider.GetRequiredService<IReplayGuard>();

        Assert.True(await guard.TryUseOnceAsync("ehr-client|di", DateTimeOffset.UtcNow.AddMinutes(5)));
        Assert.False(await guard.TryUseOnceAsync("ehr-client|di", DateTimeOffset.UtcNow.AddMinutes(5)));
    }

    private static async Task<long> CountRowsAsync(StorageDatabase database)
    {
        var dialect = await database.DialectAsync(CancellationToken.None);
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM auth_jti";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

public sealed class SqliteReplayGuardTests : ReplayGuardContract<SqliteBackend>;

public sealed class PostgresReplayGuardTests : ReplayGuardContract<PostgresBackend>;
