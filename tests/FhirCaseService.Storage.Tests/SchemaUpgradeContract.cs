using System.Reflection;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Xunit.Sdk;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// A database an older service left (built by the real migrations up to its version and holding the rows a store
/// wrote) upgrades on open to the latest schema and then answers every search as a store that was always current.
/// Schema 8 rebuilt the index and sort-key tables on SQLite (one clustered B-tree each) and the date span-end index on
/// PostgreSQL (covering version_key).
/// </summary>
public abstract class SchemaUpgradeContract<TBackend> where TBackend : IStoreBackend, new()
{
    /// <summary>Every search of <see cref="SearchContract{TBackend}"/>'s table, plus sorted pages that walk the sort-key tables.</summary>
    private static IEnumerable<(string Type, string Query)> Searches()
    {
        var method = typeof(SearchContract<TBackend>).GetMethod(nameof(SearchContract<TBackend>.Search_finds_exactly_the_matching_resources))!;
        foreach (var data in method.GetCustomAttributes<InlineDataAttribute>().SelectMany(a => a.GetData(method)))
            yield return ((string)data[0], (string)data[1] + "&_count=100");
        foreach (var (type, query) in new[]
                 {
                     ("Observation", "_sort=-date"), ("Observation", "_sort=date&_count=3"), ("Observation", "_sort=code"), ("Observation", "_sort=-code"),
                     ("Observation", "code=mrd&_sort=-date"), ("Patient", "_sort=family"), ("Patient", "_sort=-birthdate"), ("Patient", "_sort=-_lastUpdated"),
                     ("Observation", "subject=a-patient&_sort=-date,_id"), ("Observation", "subject=a-patient&_sort=value-quantity"),
                     ("Observation", "subject=a-patient&category=laboratory&_include=Observation:subject"),
                     ("Patient", "_id=b-patient&_revinclude=Condition:subject&_revinclude:iterate=Procedure:reason-reference"),
                 })
            yield return (type, query);
    }

    [Fact]
    public async Task Upgrading_a_version_7_database_keeps_every_search_result_and_every_index_row()
    {
        var seeded = new SeededStore<TBackend>();
        await seeded.InitializeAsync();
        try
        {
            var current = ((ResourceStore)seeded.Store).Dialect;
            await using var older = await new TBackend().CreateAtSchemaAsync(7);
            await OlderSchema.CopyRowsAsync(current, older);
            Assert.Equal(["7"], await SortedPagingContract<TBackend>.RowsAsync(older.Dialect, "SELECT MAX(version) FROM schema_version"));

            await using var upgraded = await ResourceStoreFactory.OpenAsync(older.Options);

            Assert.Equal([SchemaMigrator.LatestVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                await SortedPagingContract<TBackend>.RowsAsync(older.Dialect, "SELECT MAX(version) FROM schema_version"));
            var searches = Searches().ToList();
            Assert.True(searches.Count > 70, $"only {searches.Count} searches compared");
            foreach (var (type, query) in searches)
            {
                var expected = await seeded.Store.SearchAsync(SearchQuery.Parse(type, SearchContract<TBackend>.Pairs(query)));
                var actual = await upgraded.SearchAsync(SearchQuery.Parse(type, SearchContract<TBackend>.Pairs(query)));
                Assert.True(Ids(expected.Matches).SequenceEqual(Ids(actual.Matches)), $"{type}?{query}: [{string.Join(" ", Ids(expected.Matches))}] before, [{string.Join(" ", Ids(actual.Matches))}] after");
                Assert.Equal(Ids(expected.Included).Order(StringComparer.Ordinal), Ids(actual.Included).Order(StringComparer.Ordinal));
            }
            foreach (var table in SchemaMigrator.IndexTables.Select(t => t.Table).Concat(SchemaMigrator.SortTables.Select(t => t.Table)))
            {
                var select = $"SELECT version_key, resource_type, param, {SchemaMigrator.IndexColumnNames[table]} FROM {table}";
                var written = await SortedPagingContract<TBackend>.RowsAsync(current, select);
                Assert.Equal(written.Order(StringComparer.Ordinal), (await SortedPagingContract<TBackend>.RowsAsync(older.Dialect, select)).Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            await seeded.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_store_upgraded_from_version_7_writes_new_versions_that_searches_find()
    {
        await using var db = await new TBackend().OpenAsync();
        await db.Store.UpdateAsync(new Patient { Id = "p-1", Gender = AdministrativeGender.Male, Name = [new HumanName { Family = "baker" }], BirthDate = "2011" });
        await db.Store.UpdateAsync(new Patient { Id = "p-2", Gender = AdministrativeGender.Female, Name = [new HumanName { Family = "adams" }], BirthDate = "2012" });
        await using var older = await new TBackend().CreateAtSchemaAsync(7);
        await OlderSchema.CopyRowsAsync(((ResourceStore)db.Store).Dialect, older);
        await using var upgraded = await ResourceStoreFactory.OpenAsync(older.Options);

        await upgraded.UpdateAsync(new Patient { Id = "p-1", Gender = AdministrativeGender.Female, Name = [new HumanName { Family = "carter" }], BirthDate = "2010" });
        await upgraded.UpdateAsync(new Patient { Id = "p-3", Gender = AdministrativeGender.Female, Name = [new HumanName { Family = "baker" }, new HumanName { Family = "baker" }], BirthDate = "2013" });
        async Task<List<string>> IdsOf(string query) =>
            (await upgraded.SearchAsync(SearchQuery.Parse("Patient", SearchContract<TBackend>.Pairs(query)))).Matches.Select(m => m.Id).ToList();

        Assert.Equal(["p-1", "p-2", "p-3"], await IdsOf("gender=female&_sort=_id"));
        Assert.Equal(["p-3"], await IdsOf("family=baker"));
        Assert.Equal(["p-2", "p-3", "p-1"], await IdsOf("_sort=family"));
        Assert.Equal(["p-3", "p-2", "p-1"], await IdsOf("_sort=-birthdate"));
        Assert.Equal(2, (await upgraded.ReadAsync("Patient", "p-1")).Version!.VersionId);
    }

    [Fact]
    public async Task Upgrading_an_existing_database_is_logged_before_it_starts_and_when_it_ends_but_creating_a_new_one_is_not()
    {
        await using var older = await new TBackend().CreateAtSchemaAsync(7);
        var log = new ListLogger();

        await using (var upgraded = new StorageDatabase(older.Options, log))
            await upgraded.DialectAsync(CancellationToken.None);

        Assert.Collection(log.Entries,
            warning =>
            {
                Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
                Assert.Contains("from version 7 to 10", warning.Message, StringComparison.Ordinal);
            },
            done =>
            {
                Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, done.Level);
                Assert.StartsWith("Database schema upgraded to version 10 in ", done.Message, StringComparison.Ordinal);
            },
            // Schema 8 and older kept every token parameter's sort rows; the first start of schema 9 deletes the undeclared ones.
            warning =>
            {
                Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
                Assert.Contains("changed from [*] to []", warning.Message, StringComparison.Ordinal);
            },
            done =>
            {
                Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, done.Level);
                Assert.StartsWith("Token sort-key rows brought in line with Search:SortableTokenParameters in ", done.Message, StringComparison.Ordinal);
            });
        log.Entries.Clear();
        await using (var again = new StorageDatabase(older.Options, log))
            await again.DialectAsync(CancellationToken.None);
        Assert.Empty(log.Entries);
        await using var fresh = await new TBackend().CreateAtSchemaAsync(0);
        await using (var created = new StorageDatabase(fresh.Options, log))
            await created.DialectAsync(CancellationToken.None);
        Assert.Empty(log.Entries);
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<(Microsoft.Extensions.Logging.LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter) => Entries.Add((logLevel, formatter(state, exception)));
    }

    private static List<string> Ids(IEnumerable<StoredResource> resources) => resources.Select(r => r.ResourceType + "/" + r.Id).ToList();
}

public sealed class SqliteSchemaUpgradeTests : SchemaUpgradeContract<SqliteBackend>;

public sealed class PostgresSchemaUpgradeTests : SchemaUpgradeContract<PostgresBackend>;
