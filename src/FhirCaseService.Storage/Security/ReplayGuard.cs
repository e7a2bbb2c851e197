using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Security;

/// <summary>
/// <see cref="IReplayGuard"/> over the table auth_jti of the process's database: the primary key makes "first use"
/// atomic across replicas (the INSERT of a second use of a key inserts nothing), and rows past their expiry are deleted
/// as new ones arrive, so the table holds at most the keys of the last few minutes.
/// </summary>
internal sealed class ReplayGuard(StorageDatabase database, TimeProvider clock) : IReplayGuard
{
    public async Task<bool> TryUseOnceAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var dialect = await database.DialectAsync(cancellationToken);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await dialect.OpenAsync(cancellationToken);

        // A key whose row has expired is free again: its assertion expired with it, so it can no longer be replayed.
        var purge = new SqlText(dialect);
        purge.Append($"DELETE FROM auth_jti WHERE expires_ms <= {purge.P(now)}");
        await using (var command = purge.CreateCommand(connection, null))
            await command.ExecuteNonQueryAsync(cancellationToken);

        var insert = new SqlText(dialect);
        insert.Append($"INSERT INTO auth_jti (jti_key, expires_ms) VALUES ({insert.P(key)}, {insert.P(expiresAt.ToUnixTimeMilliseconds())}) ON CONFLICT (jti_key) DO NOTHING");
        await using var write = insert.CreateCommand(connection, null);
        return await write.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
