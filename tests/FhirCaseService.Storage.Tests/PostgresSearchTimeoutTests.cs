using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Npgsql;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// A search PostgreSQL gives up on (statement_timeout, or Npgsql's command timeout) is the store's
/// <see cref="SearchTimedOutException"/>, which the API answers with a 503 and a too-costly OperationOutcome, not the
/// raw driver error that became an anonymous 500 (the 100,000-patient search bench hit one).
/// </summary>
public sealed class PostgresSearchTimeoutTests
{
    [Fact]
    public async Task A_search_past_the_statement_timeout_is_reported_as_timed_out()
    {
        await using var db = await new PostgresBackend().OpenAsync();
        await db.Store.UpdateAsync(new Patient { Id = "p-1", Name = [new HumanName { Family = "young" }] });
        var limitedOptions = SqliteBackend.Copy(db.Options);
        limitedOptions.Provider = StorageProvider.PostgreSql;
        limitedOptions.ConnectionString = db.Options.ConnectionString + ";Options=-c statement_timeout=500";
        await using var limited = await ResourceStoreFactory.OpenAsync(limitedOptions);

        // A writer holding resource_version exclusively makes every read wait, so the search runs into its limit.
        await using var holder = new NpgsqlConnection(db.Options.ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE resource_version IN ACCESS EXCLUSIVE MODE", holder, hold))
            await lockTable.ExecuteNonQueryAsync();

        var error = await Assert.ThrowsAsync<SearchTimedOutException>(() =>
            limited.SearchAsync(SearchQuery.Parse("Patient", SearchContract<PostgresBackend>.Pairs("family=young"))));
        Assert.Contains("_count", error.Message, StringComparison.Ordinal);

        await hold.RollbackAsync();
        Assert.Equal(["p-1"], (await limited.SearchAsync(SearchQuery.Parse("Patient", SearchContract<PostgresBackend>.Pairs("family=young")))).Matches.Select(m => m.Id));
    }

    [Fact]
    public async Task A_cancelled_search_stays_a_cancellation()
    {
        await using var db = await new PostgresBackend().OpenAsync();
        await using var holder = new NpgsqlConnection(db.Options.ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE resource_version IN ACCESS EXCLUSIVE MODE", holder, hold))
            await lockTable.ExecuteNonQueryAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var error = await Record.ExceptionAsync(() => db.Store.SearchAsync(SearchQuery.Parse("Patient", SearchContract<PostgresBackend>.Pairs("family=young")), cancel.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }
}
