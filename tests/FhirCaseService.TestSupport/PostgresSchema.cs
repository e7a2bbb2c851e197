using Npgsql;

namespace FhirCaseService.TestSupport;

/// <summary>
/// A schema of its own in the test PostgreSQL (<see cref="TestPostgres"/>), reached through the connection's search
/// path, so tests are isolated and run side by side; dropped on dispose.
/// </summary>
public sealed class PostgresSchema : IAsyncDisposable
{
    private PostgresSchema(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>The test server's connection string with the search path set to this schema.</summary>
    public string ConnectionString { get; }

    /// <param name="prefix">tells whose schema it is when one is left behind (e.g. "api_", "t_").</param>
    public static async Task<PostgresSchema> CreateAsync(string prefix)
    {
        var name = prefix + Guid.NewGuid().ToString("N");
        try
        {
            await ExecuteAsync($"CREATE SCHEMA {name}");
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException(
                $"Cannot reach PostgreSQL for the tests ({e.Message}). Run `source tools/ci/start-postgres.sh` (as root) " +
                $"or set {TestPostgres.Variable} to a connection string of a role that may create schemas.", e);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = name, MaxPoolSize = 10 }.ConnectionString;
        return new PostgresSchema(name, connectionString);
    }

    public async ValueTask DisposeAsync() => await ExecuteAsync($"DROP SCHEMA IF EXISTS {Name} CASCADE");

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestPostgres.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
