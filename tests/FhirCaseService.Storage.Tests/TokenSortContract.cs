using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Token sort-key rows exist only for the token parameters a deployment declares sortable
/// (<see cref="StorageOptions.SortableTokenParameters"/>). A sort on an undeclared one computes the key from the token
/// index (the general plan) and must give exactly the declared walk's pages: ascending by the least code, descending by
/// the greatest, ties by id, resources without a code last, every page once, the same totals. Changing the declared set
/// between starts fills or deletes the rows, and an upgrade from schema 8 (rows for every token parameter) deletes
/// the undeclared ones.
/// </summary>
public abstract class TokenSortContract<TBackend>(TokenSortStores<TBackend> stores) : IClassFixture<TokenSortStores<TBackend>>
    where TBackend : IStoreBackend, new()
{
    public static TheoryData<string, string> Sorts => new()
    {
        { "Observation", "_sort=status" },
        { "Observation", "_sort=-status" },
        { "Observation", "_sort=code" },
        { "Observation", "_sort=-code" },
        { "Observation", "_sort=_tag" },
        { "Observation", "_sort=-_tag" },
        { "Observation", "_sort=category" },
        { "Observation", "_sort=-category" },
        { "Observation", "_sort=-identifier&_tag:missing=false" },
        { "Observation", "_sort=code&status:not=cancelled" },
        { "Patient", "_sort=gender" },
        { "Patient", "_sort=-gender" },
        { "Patient", "_sort=_tag" },
        { "Patient", "_sort=-_tag" },
        { "Patient", "_sort=identifier" },
        { "Patient", "_sort=-identifier" },
    };

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task A_sort_on_an_undeclared_token_parameter_gives_the_declared_walks_pages(string type, string query)
    {
        foreach (var size in new[] { 1, 3, 7, 1000 })
        {
            var (walked, walkLinks) = await PagesAsync(stores.Declared, type, $"{query}&_count={size}");
            var (general, generalLinks) = await PagesAsync(stores.Undeclared, type, $"{query}&_count={size}");

            Assert.NotEmpty(walked);
            Assert.Equal(walked, general);
            // The declared parameter walks (its next links seek past the last match); the undeclared one pages by offset.
            Assert.All(walkLinks, link => Assert.NotNull(link.After));
            Assert.All(generalLinks, link => Assert.Null(link.After));
        }
        foreach (var total in new[] { "_total=accurate", "_total=estimate&_count=2", "_count=0" })
        {
            var declared = await stores.Declared.SearchAsync(SearchQuery.Parse(type, SearchContract<TBackend>.Pairs($"{query}&{total}")));
            var undeclared = await stores.Undeclared.SearchAsync(SearchQuery.Parse(type, SearchContract<TBackend>.Pairs($"{query}&{total}")));
            Assert.Equal(declared.Total, undeclared.Total);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_undeclared_tag_sort_orders_by_the_least_or_greatest_code_then_id_with_untagged_resources_last(bool descending)
    {
        var (ids, _) = await PagesAsync(stores.Undeclared, "Observation", $"_sort={(descending ? "-" : "")}_tag&_count=4");

        var current = TokenSortStores<TBackend>.Observations(final: true).Where(o => o.Id != TokenSortStores<TBackend>.DeletedId).ToList();
        var tagged = current.Where(o => o.Meta?.Tag.Count > 0)
            .Select(o => (o.Id, Key: descending ? o.Meta!.Tag.Select(t => t.Code).Max(StringComparer.Ordinal)! : o.Meta!.Tag.Select(t => t.Code).Min(StringComparer.Ordinal)!))
            .ToList();
        var expected = (descending
                ? tagged.OrderByDescending(o => o.Key, StringComparer.Ordinal).ThenBy(o => o.Id, StringComparer.Ordinal)
                : tagged.OrderBy(o => o.Key, StringComparer.Ordinal).ThenBy(o => o.Id, StringComparer.Ordinal))
            .Select(o => o.Id!)
            .Concat(current.Where(o => o.Meta is null || o.Meta.Tag.Count == 0).Select(o => o.Id!).Order(StringComparer.Ordinal))
            .ToList();

        Assert.Equal(expected, ids);
    }

    [Fact]
    public async Task Writes_store_token_sort_rows_only_for_the_declared_parameters_and_string_and_date_rows_always()
    {
        var undeclared = ((ResourceStore)stores.Undeclared).Dialect;
        var declared = ((ResourceStore)stores.Declared).Dialect;

        Assert.Empty(await TokenSortRowsAsync(undeclared));
        Assert.Equal(
            ["Observation|_tag", "Observation|category", "Observation|code", "Observation|identifier", "Observation|status", "Patient|_tag", "Patient|gender", "Patient|identifier"],
            (await TokenSortRowsAsync(declared)).Select(r => string.Join("|", r.Split('|')[1..3])).Distinct().Order(StringComparer.Ordinal));
        // What the declared store wrote is what the token index gives for its parameters (the fill a later declaration runs).
        Assert.Equal(await ExpectedTokenRowsAsync(declared, TokenSortStores<TBackend>.DeclaredSet), await TokenSortRowsAsync(declared));
        foreach (var dialect in new[] { undeclared, declared })
        {
            Assert.NotEmpty(await SortedPagingContract<TBackend>.RowsAsync(dialect, "SELECT 1 FROM sort_text WHERE resource_type = 'Patient' AND param = 'family'"));
            Assert.NotEmpty(await SortedPagingContract<TBackend>.RowsAsync(dialect, "SELECT 1 FROM sort_date WHERE resource_type = 'Observation' AND param = 'date'"));
        }
    }

    [Fact]
    public async Task Declaring_later_fills_the_rows_and_undeclaring_deletes_them_and_the_pages_never_change()
    {
        await using var db = await new TBackend().OpenAsync();
        await TokenSortStores<TBackend>.WriteAsync(db.Store);
        var queries = new[] { ("Observation", "_sort=-_tag&_count=3"), ("Patient", "_sort=_tag&_count=2"), ("Observation", "_sort=status&_count=4"), ("Patient", "_sort=-gender&_count=3") };
        var expected = new List<List<string>>();
        foreach (var (type, query) in queries)
            expected.Add((await PagesAsync(db.Store, type, query)).Ids);
        Assert.Empty(await TokenSortRowsAsync(((ResourceStore)db.Store).Dialect));

        // Typed entries, then a bare one that covers a typed one already there (Observation._tag keeps its rows, Patient's are added), then none.
        foreach (var declared in new[] { new[] { "Observation._tag", "Observation.status" }, ["_tag", "Observation.status", "gender"], [] })
        {
            var options = Declaring(db.Options, declared);
            await using var reopened = await ResourceStoreFactory.OpenAsync(options);
            var dialect = ((ResourceStore)reopened).Dialect;

            Assert.Equal(await ExpectedTokenRowsAsync(dialect, declared), await TokenSortRowsAsync(dialect));
            Assert.Equal(declared.Order(StringComparer.Ordinal), await SortedPagingContract<TBackend>.RowsAsync(dialect, $"SELECT entry FROM {SchemaMigrator.SortableTokenTable} ORDER BY entry"));
            for (var i = 0; i < queries.Length; i++)
            {
                var (type, query) = queries[i];
                var (ids, links) = await PagesAsync(reopened, type, query);
                Assert.Equal(expected[i], ids);
                var walks = declared.Contains("_tag") && query.Contains("_tag", StringComparison.Ordinal)
                            || declared.Contains("Observation._tag") && type == "Observation" && query.Contains("_tag", StringComparison.Ordinal)
                            || declared.Contains("Observation.status") && query.Contains("status", StringComparison.Ordinal)
                            || declared.Contains("gender") && query.Contains("gender", StringComparison.Ordinal);
                Assert.NotEmpty(links);
                Assert.All(links, link => Assert.Equal(walks, link.After is not null));
            }
            // A second start with the same set finds nothing to change.
            await using var again = await ResourceStoreFactory.OpenAsync(options);
            Assert.Equal(await ExpectedTokenRowsAsync(dialect, declared), await TokenSortRowsAsync(dialect));
        }
    }

    [Fact]
    public async Task Upgrading_a_version_8_database_deletes_the_sort_rows_of_undeclared_token_parameters()
    {
        await using var db = await new TBackend().OpenAsync();
        await TokenSortStores<TBackend>.WriteAsync(db.Store);
        var current = ((ResourceStore)db.Store).Dialect;
        await using var older = await new TBackend().CreateAtSchemaAsync(8);
        await OlderSchema.CopyRowsAsync(current, older);
        // Schema 8 stored the sort keys of every token parameter with a code (what the v6 fill computes).
        await using (var connection = await older.Dialect.OpenAsync(CancellationToken.None))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"INSERT INTO sort_text (version_key, resource_type, param, {SchemaMigrator.IndexColumnNames["sort_text"]}) {SchemaMigrator.TokenSortKeys("1 = 1")}";
            Assert.True(await command.ExecuteNonQueryAsync() > 50);
        }
        var all = await TokenSortRowsAsync(older.Dialect);
        var options = SqliteBackend.Copy(null);
        options.Provider = older.Options.Provider;
        options.ConnectionString = older.Options.ConnectionString;
        options.DataDirectory = older.Options.DataDirectory;
        options.SortableTokenParameters = ["Observation.status"];

        await using var upgraded = await ResourceStoreFactory.OpenAsync(options);

        var kept = await TokenSortRowsAsync(older.Dialect);
        Assert.Equal(all.Where(r => r.Split('|')[1..3] is ["Observation", "status"]), kept);
        Assert.NotEmpty(kept);
        Assert.Equal(["Observation.status"], await SortedPagingContract<TBackend>.RowsAsync(older.Dialect, $"SELECT entry FROM {SchemaMigrator.SortableTokenTable}"));
        foreach (var (type, query) in new[] { ("Observation", "_sort=-status&_count=5"), ("Observation", "_sort=_tag&_count=5"), ("Patient", "_sort=gender&_count=2") })
            Assert.Equal((await PagesAsync(db.Store, type, query)).Ids, (await PagesAsync(upgraded, type, query)).Ids);
    }

    [Fact]
    public async Task After_another_replica_starts_with_another_set_this_one_refuses_writes_and_sorts_tokens_without_the_walk()
    {
        await using var db = await new TBackend().OpenAsync(new StorageOptions { SortableTokenParameters = ["Observation.status"] });
        await TokenSortStores<TBackend>.WriteAsync(db.Store);
        var (expected, walked) = await PagesAsync(db.Store, "Observation", "_sort=status&_count=4");
        Assert.All(walked, link => Assert.NotNull(link.After));

        // Another replica on the same database starts declaring nothing: its start deletes Observation.status's rows.
        await using var other = await ResourceStoreFactory.OpenAsync(Declaring(db.Options, []));

        // This replica would store status rows the database no longer keeps: every write is refused, and nothing is written.
        var refused = new Observation { Id = "o-refused", Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "8867-4") };
        await Assert.ThrowsAsync<SortableTokensChangedException>(() => db.Store.CreateAsync(refused));
        await Assert.ThrowsAsync<SortableTokensChangedException>(() => db.Store.UpdateAsync(refused));
        Assert.Equal(ReadStatus.NotFound, (await other.ReadAsync("Observation", "o-refused")).Status);

        // Its sorts on the parameter give the same pages, by the general plan (no walk over the rows that are gone).
        var (ids, links) = await PagesAsync(db.Store, "Observation", "_sort=status&_count=4");
        Assert.Equal(expected, ids);
        Assert.All(links, link => Assert.Null(link.After));

        // The replica that made the change writes as before.
        await other.UpdateAsync(refused);
        Assert.Equal(ReadStatus.Found, (await other.ReadAsync("Observation", "o-refused")).Status);
    }

    /// <summary>The options of another start on the same database (file or schema), declaring <paramref name="declared"/>.</summary>
    private static StorageOptions Declaring(StorageOptions database, string[] declared)
    {
        var options = SqliteBackend.Copy(database);
        options.Provider = database.Provider;
        options.ConnectionString = database.ConnectionString;
        options.DataDirectory = database.DataDirectory;
        options.SortableTokenParameters = [.. declared];
        return options;
    }

    /// <summary>Every page of a search, and the next links that led past the first.</summary>
    private static async Task<(List<string> Ids, List<PageCursor> Links)> PagesAsync(IResourceStore store, string type, string query)
    {
        var pairs = SearchContract<TBackend>.Pairs(query).ToList();
        var ids = new List<string>();
        var links = new List<PageCursor>();
        var page = await store.SearchAsync(SearchQuery.Parse(type, pairs));
        ids.AddRange(page.Matches.Select(m => m.Id));
        while (page.Next is { } next)
        {
            links.Add(next);
            page = await store.SearchAsync(SearchQuery.Parse(type, pairs.Append(new("_cursor", next.ToString()))));
            ids.AddRange(page.Matches.Select(m => m.Id));
        }
        Assert.Equal(ids.Count, ids.Distinct().Count());
        return (ids, links);
    }

    /// <summary>The token sort-key rows (version, type, param, id, least, greatest; old versions included), in one order.</summary>
    private static async Task<List<string>> TokenSortRowsAsync(SqlDialect dialect) =>
        (await SortedPagingContract<TBackend>.RowsAsync(dialect,
            "SELECT s.version_key, s.resource_type, s.param, s.resource_id, s.min_text, s.max_text FROM sort_text s " +
            "WHERE EXISTS (SELECT 1 FROM idx_token t WHERE t.version_key = s.version_key AND t.param = s.param)"))
        .Order(StringComparer.Ordinal).ToList();

    private static async Task<List<string>> ExpectedTokenRowsAsync(SqlDialect dialect, IEnumerable<string> declared) =>
        (await SortedPagingContract<TBackend>.RowsAsync(dialect, SchemaMigrator.TokenSortKeys(SortableTokens.MatchSql(declared, "t"))))
        .Order(StringComparer.Ordinal).ToList();
}

/// <summary>
/// The same resources in two stores, one declaring the sorted token parameters sortable (typed and bare entries), one
/// declaring none: Observations with one, several or no codes, tags, categories and identifiers, and without a status;
/// Patients with and without gender, tags and identifiers; written over several transactions, one updated, one deleted.
/// </summary>
public sealed class TokenSortStores<TBackend> : IAsyncLifetime where TBackend : IStoreBackend, new()
{
    private const string Tags = "https://fhircase.example.org/fhir/CodeSystem/fhircase-tags";
    private const string Concepts = "https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts";
    internal const string DeletedId = "o-13";

    public static readonly IReadOnlyList<string> DeclaredSet = ["Observation.status", "Observation.code", "category", "_tag", "identifier", "gender"];

    private TestStore? _declared;
    private TestStore? _undeclared;

    public IResourceStore Declared => _declared!.Store;

    public IResourceStore Undeclared => _undeclared!.Store;

    internal static IEnumerable<Observation> Observations(bool final)
    {
        var statuses = new ObservationStatus?[] { ObservationStatus.Final, ObservationStatus.Amended, null, ObservationStatus.Preliminary, ObservationStatus.Final };
        var tags = new[] { "beta", "alpha", "gamma" };
        for (var i = 0; i < 26; i++)
        {
            var observation = new Observation
            {
                Id = $"o-{i:D2}",
                Status = statuses[i % statuses.Length],
                Code = (i % 6) switch
                {
                    0 => new CodeableConcept { Text = "no code" },
                    1 => new CodeableConcept { Coding = [new Coding(Concepts, "m"), new Coding(Concepts, "b"), new Coding(Concepts, "x")] },
                    _ => new CodeableConcept(Concepts, ((char)('a' + i % 7)).ToString()),
                },
                Effective = new FhirDateTime($"2021-03-{i % 9 + 10}"),
            };
            if (i % 4 != 3)
                observation.Meta = new Meta { Tag = Enumerable.Range(0, i % 4).Select(k => new Coding(Tags, tags[(i + k) % 3])).ToList() };
            if (i % 3 == 0)
                observation.Category = [new CodeableConcept(Concepts, i % 2 == 0 ? "laboratory" : "vital-signs"), new CodeableConcept(Concepts, "exam")];
            if (i % 5 != 2)
                observation.Identifier = [new Identifier("urn:fhircase:obs", $"id-{(i * 7) % 11}")];
            if (final && i == 4)
            {
                observation.Status = ObservationStatus.Cancelled;
                observation.Meta = new Meta { Tag = [new Coding(Tags, "zeta")] };
            }
            yield return observation;
        }
    }

    private static IEnumerable<Patient> Patients()
    {
        for (var i = 0; i < 9; i++)
        {
            var patient = new Patient { Id = $"p-{i}" };
            if (i % 4 != 1)
                patient.Gender = (AdministrativeGender)(i % 3);
            if (i % 3 != 0)
                patient.Meta = new Meta { Tag = [new Coding(Tags, i % 2 == 0 ? "alpha" : "beta"), new Coding(Tags, "omega")] };
            if (i != 5)
                patient.Identifier = [new Identifier("urn:fhircase:mrn", $"mrn-{9 - i}"), new Identifier("urn:fhircase:other", $"b-{i % 2}")];
            patient.Name = [new HumanName { Family = $"family-{i % 4}" }];
            yield return patient;
        }
    }

    internal static async Task WriteAsync(IResourceStore store)
    {
        foreach (var part in Observations(final: false).Chunk(10))
            await TransactionAsync(part);
        await store.UpdateAsync(Observations(final: true).Single(o => o.Id == "o-04"));
        await store.DeleteAsync("Observation", DeletedId, null);
        await TransactionAsync(Patients());

        async Task TransactionAsync(IEnumerable<Resource> resources)
        {
            var list = resources.ToList();
            await store.TransactionAsync(async (tx, ct) =>
            {
                foreach (var resource in list)
                    await tx.UpdateAsync(resource, null, ct);
                return list.Count;
            });
        }
    }

    public async Task InitializeAsync()
    {
        _declared = await new TBackend().OpenAsync(new StorageOptions { SortableTokenParameters = [.. DeclaredSet] });
        _undeclared = await new TBackend().OpenAsync();
        await WriteAsync(Declared);
        await WriteAsync(Undeclared);
    }

    public async Task DisposeAsync()
    {
        if (_declared is not null)
            await _declared.DisposeAsync();
        if (_undeclared is not null)
            await _undeclared.DisposeAsync();
    }
}

public sealed class SqliteTokenSortTests(TokenSortStores<SqliteBackend> stores) : TokenSortContract<SqliteBackend>(stores);

public sealed class PostgresTokenSortTests(TokenSortStores<PostgresBackend> stores) : TokenSortContract<PostgresBackend>(stores);
