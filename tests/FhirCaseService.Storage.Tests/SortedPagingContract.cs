using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Index-ordered pages (<see cref="OrderedWalk"/>) give exactly the general plan's order: by the key, ties by id,
/// resources without a value last by id, old versions and deletions never; paging through every page yields each
/// match once. A second trailing <c>_id</c> key forces the general plan (several keys), with the same meaning, so
/// it is the reference the walk is compared with; date sorts are also checked against an order computed here.
/// </summary>
public abstract class SortedPagingContract<TBackend>(SortedStore<TBackend> sorted) : IClassFixture<SortedStore<TBackend>>
    where TBackend : IStoreBackend, new()
{
    public static TheoryData<string, string, string> Sorts => new()
    {
        { "Observation", "", "" },
        { "Observation", "_sort=_id", "" },
        { "Observation", "_sort=-_id", "" },
        { "Observation", "_sort=date", "" },
        { "Observation", "_sort=-date", "" },
        { "Observation", "_sort=code", "" },
        { "Observation", "_sort=-code", "" },
        { "Observation", "_sort=_lastUpdated", "" },
        { "Observation", "_sort=-_lastUpdated", "" },
        // Criteria that never drive (":not", ":missing") are checked per row of the walk.
        { "Observation", "_sort=-date", "code:not=b" },
        { "Observation", "_sort=date", "value-quantity:missing=false" },
        { "Patient", "_sort=family", "" },
        { "Patient", "_sort=-family", "" },
        { "Patient", "_sort=name", "" },
        { "Patient", "_sort=-name", "" },
        { "Patient", "_sort=birthdate", "" },
        { "Patient", "_sort=-birthdate", "" },
        { "Patient", "_sort=gender", "" },
        { "Patient", "_sort=-gender", "gender:missing=false" },
    };

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task An_index_ordered_page_has_the_general_plans_order(string type, string sort, string criteria)
    {
        var walked = await IdsAsync(type, Join(criteria, sort, "_count=1000"));
        var general = await IdsAsync(type, Join(criteria, ForcedGeneral(sort), "_count=1000"));

        Assert.NotEmpty(walked);
        Assert.Equal(general, walked);
    }

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task Paging_through_every_page_yields_each_match_exactly_once_in_order(string type, string sort, string criteria)
    {
        var all = await IdsAsync(type, Join(criteria, sort, "_count=1000"));
        foreach (var size in new[] { 1, 2, 5 })
        {
            var pairs = SearchContract<TBackend>.Pairs(Join(criteria, sort, $"_count={size}")).ToList();
            var seen = new List<string>();
            var page = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs));
            seen.AddRange(page.Matches.Select(m => m.Id));
            while (page.Next is { } next)
            {
                Assert.Equal(size, page.Matches.Count);
                page = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs.Append(new("_cursor", next.ToString()))));
                seen.AddRange(page.Matches.Select(m => m.Id));
            }
            Assert.Equal(all, seen);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_date_sort_orders_by_the_earliest_or_latest_instant_then_id_and_puts_resources_without_a_date_last(bool descending)
    {
        var walked = await IdsAsync("Observation", $"_sort={(descending ? "-" : "")}date&_count=1000");

        var valued = SortedStore<TBackend>.ObservationDates
            .Where(o => o.Value is not null)
            .Select(o => (o.Key, Value: descending ? o.Value!.Value.High : o.Value!.Value.Low))
            .ToList();
        var expected = (descending
                ? valued.OrderByDescending(o => o.Value).ThenBy(o => o.Key, StringComparer.Ordinal)
                : valued.OrderBy(o => o.Value).ThenBy(o => o.Key, StringComparer.Ordinal))
            .Select(o => o.Key)
            .Concat(SortedStore<TBackend>.ObservationDates.Where(o => o.Value is null).Select(o => o.Key).Order(StringComparer.Ordinal))
            .ToList();
        Assert.Equal(expected, walked);
        Assert.DoesNotContain("o-07", walked);
    }

    [Theory]
    [InlineData("broad")]
    [InlineData("narrow")]
    public async Task A_broad_or_narrow_criterion_gives_the_general_plans_pages(string code)
    {
        var query = $"code=https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts|{code}";
        var walked = await AllPagesAsync("Procedure", $"{query}&_sort=-date&_count=100");
        var general = await AllPagesAsync("Procedure", $"{query}&_sort=-date,_id&_count=1000");

        Assert.Equal(code == "broad" ? SortedStore<TBackend>.BroadCount * 49 / 50 : SortedStore<TBackend>.BroadCount / 50 + 1, walked.Count);
        Assert.Equal(general, walked);
        Assert.Equal(walked.Count, walked.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task A_walked_page_links_the_next_by_its_last_match_and_the_offset_alone_gives_the_same_page(string type, string sort, string criteria)
    {
        var pairs = SearchContract<TBackend>.Pairs(Join(criteria, sort, "_count=3")).ToList();
        var page = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs));
        var pages = 0;
        while (page.Next is { } next)
        {
            Assert.NotNull(next.After);
            Assert.Equal(page.Matches[^1].Id, next.After.ResourceId);
            // An offset link (as issued before keyset paging) and a seek link name the same page.
            var sought = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs.Append(new("_cursor", next.ToString()))));
            var skipped = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs.Append(new("_cursor", new PageCursor(next.Snapshot, next.Offset).ToString()))));
            Assert.Equal(skipped.Matches.Select(m => m.Id), sought.Matches.Select(m => m.Id));
            Assert.Equal(skipped.Next?.Offset, sought.Next?.Offset);
            page = sought;
            pages++;
        }
        Assert.True(pages > 0);
    }

    [Fact]
    public async Task A_seek_position_from_another_sort_is_not_trusted_the_offset_is_used()
    {
        var byDate = await sorted.Store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs("_sort=-date&_count=4")));
        var foreign = byDate.Next!;
        Assert.Equal(SeekPosition.Kinds.Number, foreign.After!.Kind);
        var all = await IdsAsync("Observation", "_sort=code&_count=1000");

        var page = await sorted.Store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs("_sort=code&_count=4").Append(new("_cursor", foreign.ToString()))));

        Assert.Equal(all.Skip(4).Take(4), page.Matches.Select(m => m.Id));
    }

    [Theory]
    [InlineData("_sort=-date")]
    [InlineData("_sort=date")]
    [InlineData("_sort=_lastUpdated")]
    [InlineData("_sort=-_id")]
    [InlineData("")]
    public async Task Resources_updated_between_pages_neither_repeat_nor_go_missing(string sort)
    {
        await using var db = await new TBackend().OpenAsync();
        for (var i = 0; i < 12; i++)
            await db.Store.UpdateAsync(Observation(i, $"2021-02-{i % 4 + 10}"));
        var pairs = SearchContract<TBackend>.Pairs(Join(sort, "_count=4")).ToList();
        var expected = (await db.Store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs(Join(sort, "_count=100"))))).Matches.Select(m => m.Id).ToList();

        var page = await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs));
        var seen = page.Matches.Select(m => m.Id).ToList();
        // Between pages: the first page's last match moves to the end of the order, a later one to the front, one is
        // deleted and a new one appears. The pages keep showing the snapshot of the first page.
        await db.Store.UpdateAsync(Observation(int.Parse(seen[^1][2..], CultureInfo.InvariantCulture), "1999-01-01"));
        await db.Store.UpdateAsync(Observation(int.Parse(expected[^1][2..], CultureInfo.InvariantCulture), "2030-01-01"));
        await db.Store.DeleteAsync("Observation", expected[6], null);
        await db.Store.UpdateAsync(Observation(40, "2021-02-11"));
        while (page.Next is { } next)
        {
            page = await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs.Append(new("_cursor", next.ToString()))));
            seen.AddRange(page.Matches.Select(m => m.Id));
        }

        Assert.Equal(expected, seen);

        static Observation Observation(int i, string date) => new()
        {
            Id = $"u-{i:D2}",
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4"),
            Effective = new FhirDateTime(date),
        };
    }

    [Theory]
    [InlineData("code={0}|broad&date=ge2022-05-01", "")]
    [InlineData("date=ge2022-05-01&code={0}|broad", "&_sort=-date")]
    [InlineData("code={0}|broad&date=lt2022-03-01", "&_sort=date")]
    [InlineData("status=completed&code={0}|narrow", "&_sort=_id")]
    public async Task Two_criteria_give_the_same_pages_whichever_drives(string criteria, string sort)
    {
        var query = string.Format(CultureInfo.InvariantCulture, criteria, "https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts");
        var paged = await AllPagesAsync("Procedure", query + sort + "&_count=7");
        // Several sort keys take the general plan, the reference order; the expected set is computed from the generator.
        var general = await AllPagesAsync("Procedure", query + (sort.Length == 0 ? "&_sort=_id,_id" : sort + ",_id") + "&_count=1000");
        var narrow = query.Contains("narrow", StringComparison.Ordinal);
        var late = query.Contains("ge2022", StringComparison.Ordinal);
        var expected = SortedStore<TBackend>.Procedures()
            .Where(p => narrow
                ? p.Code == "narrow"
                : p.Code == "broad" && p.Performed is { } d && (late ? string.CompareOrdinal(d, "2022-05-01") >= 0 : string.CompareOrdinal(d, "2022-03-01") < 0))
            .Select(p => p.Id).Order(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(expected);
        Assert.Equal(general, paged);
        Assert.Equal(expected, paged.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("broad")]
    [InlineData("narrow")]
    public async Task Has_with_a_broad_or_narrow_inner_criterion_finds_the_same_targets(string code)
    {
        var query = $"_has:Procedure:subject:code=https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts|{code}";

        Assert.Equal(["p-1"], await AllPagesAsync("Patient", query + "&_count=1"));
        Assert.Equal(["p-1"], await AllPagesAsync("Patient", query + "&_sort=-birthdate&_count=5"));
        var total = await sorted.Store.SearchAsync(SearchQuery.Parse("Patient", SearchContract<TBackend>.Pairs(query + "&_total=accurate&_count=0")));
        Assert.Equal(1, total.Total);
    }

    [Fact]
    public async Task Has_with_a_broad_inner_criterion_walks_the_targets_and_pages_by_seek()
    {
        // A broad _has used to take the general plan: every Patient checked and sorted before the page (2.9 s at
        // 100,000 patients). Walked, the page stops early and its next link seeks past its last match.
        const string Concepts = "https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts";
        await using var db = await new TBackend().OpenAsync();
        var patients = new[] { "p-a", "p-b", "p-c", "p-none" };
        var resources = patients.Select(id => (Resource)new Patient { Id = id }).ToList();
        resources.AddRange(Enumerable.Range(0, SearchExecutor.BroadCriterionRows + 10).Select(i => new Procedure
        {
            Id = $"proc-{i:D4}", Status = EventStatus.Completed, Subject = new ResourceReference($"Patient/{patients[i % 3]}"),
            Code = new CodeableConcept(Concepts, "broad"),
        }));
        await db.Store.TransactionAsync(async (tx, ct) =>
        {
            foreach (var resource in resources)
                await tx.UpdateAsync(resource, null, ct);
            return 0;
        });
        var pairs = SearchContract<TBackend>.Pairs($"_has:Procedure:subject:code={Concepts}|broad&_count=2").ToList();

        var first = await db.Store.SearchAsync(SearchQuery.Parse("Patient", pairs));
        var second = await db.Store.SearchAsync(SearchQuery.Parse("Patient", pairs.Append(new("_cursor", first.Next!.ToString()))));

        Assert.Equal(["p-a", "p-b"], first.Matches.Select(m => m.Id));
        Assert.Equal("p-b", first.Next!.After?.ResourceId);
        Assert.Equal(["p-c"], second.Matches.Select(m => m.Id));
        Assert.Null(second.Next);
    }

    private async Task<List<string>> AllPagesAsync(string type, string query)
    {
        var pairs = SearchContract<TBackend>.Pairs(query).ToList();
        var seen = new List<string>();
        var page = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs));
        seen.AddRange(page.Matches.Select(m => m.Id));
        while (page.Next is { } next)
        {
            page = await sorted.Store.SearchAsync(SearchQuery.Parse(type, pairs.Append(new("_cursor", next.ToString()))));
            seen.AddRange(page.Matches.Select(m => m.Id));
        }
        return seen;
    }

    [Fact]
    public async Task The_migrations_fill_computes_the_sort_keys_the_writer_stored()
    {
        var store = (ResourceStore)sorted.Store;
        foreach (var table in SchemaMigrator.SortTables.Select(t => t.Table))
        {
            var columns = $"version_key, resource_type, param, {SchemaMigrator.IndexColumnNames[table]}";
            var written = await RowsAsync(store.Dialect, $"SELECT {columns} FROM {table}");
            var filled = new List<string>();
            // The writer stores token sort keys of the declared parameters only.
            foreach (var (_, select) in SchemaMigrator.SortKeyFills.Where(f => f.Table == table))
                filled.AddRange(await RowsAsync(store.Dialect, select == SchemaMigrator.TokenSortKeys("1 = 1")
                    ? SchemaMigrator.TokenSortKeys(SortableTokens.MatchSql(SortedStore<TBackend>.Declared, "t"))
                    : select));

            Assert.NotEmpty(written);
            Assert.Equal(filled.Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Upgrading_a_version_5_database_fills_the_sort_keys_of_every_stored_version()
    {
        await using var db = await new TBackend().OpenAsync();
        foreach (var (id, family, birthDate) in new[] { ("p-1", "young", "2011-02-03"), ("p-2", "baker", "2010-01-01"), ("p-3", "young", "2012") })
            await db.Store.UpdateAsync(new Patient { Id = id, Name = [new HumanName { Family = family }], BirthDate = birthDate });
        await db.Store.UpdateAsync(new Patient { Id = "p-2", Name = [new HumanName { Family = "adams" }], BirthDate = "2013-01-01" });
        // A schema-5 database (no sort-key tables, the old (type, lastUpdated) index, no v7 date span-end index) holding
        // the same rows.
        await using var older = await new TBackend().CreateAtSchemaAsync(5);
        await OlderSchema.CopyRowsAsync(((ResourceStore)db.Store).Dialect, older);

        await using var upgraded = await ResourceStoreFactory.OpenAsync(older.Options);
        async Task<List<string>> Ids(string query) =>
            (await upgraded.SearchAsync(SearchQuery.Parse("Patient", SearchContract<TBackend>.Pairs(query)))).Matches.Select(m => m.Id).ToList();

        Assert.Equal(["p-2", "p-1", "p-3"], await Ids("_sort=family"));
        Assert.Equal(["p-2", "p-3", "p-1"], await Ids("_sort=-birthdate"));
        Assert.Equal(await Ids("_sort=-family,_id"), await Ids("_sort=-family"));
    }

    [Fact]
    public async Task Upgrading_a_version_6_database_adds_the_date_span_end_index_and_date_searches_keep_their_matches()
    {
        await using var db = await new TBackend().OpenAsync();
        foreach (var (id, date) in new[] { ("o-1", "2021-02-27"), ("o-2", "2021-03"), ("o-3", "2021-03-15T10:00:00Z"), ("o-4", "2021-04-02") })
            await db.Store.UpdateAsync(new Observation
            {
                Id = id, Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "8867-4"), Effective = new FhirDateTime(date),
            });
        await db.Store.UpdateAsync(new Observation
        {
            Id = "o-5", Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "8867-4"),
            Effective = new Period { Start = "2021-01-01", End = "2021-03-02" },
        });
        var dialect = ((ResourceStore)db.Store).Dialect;
        async Task<List<string>> Ids(IResourceStore store, string query) =>
            (await store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs(query)))).Matches.Select(m => m.Id).ToList();
        var queries = new[] { "date=ge2021-03&_sort=_id", "date=gt2021-03-01&_sort=_id", "date=eb2021-03&_sort=_id", "code=8867-4&date=ge2021-03-02&_sort=-date" };
        var before = new List<List<string>>();
        foreach (var query in queries)
            before.Add(await Ids(db.Store, query));
        // A schema-6 database (no span-end index) holding the same rows.
        await using var older = await new TBackend().CreateAtSchemaAsync(6);
        await OlderSchema.CopyRowsAsync(dialect, older);
        Assert.Empty(await RowsAsync(older.Dialect, "SELECT version FROM schema_version WHERE version = 7"));

        await using var upgraded = await ResourceStoreFactory.OpenAsync(older.Options);

        Assert.Equal(["7"], await RowsAsync(older.Dialect, "SELECT version FROM schema_version WHERE version = 7"));
        Assert.Equal(["o-2", "o-3", "o-4", "o-5"], before[0]);
        Assert.Equal(["o-2", "o-3", "o-4", "o-5"], before[1]);
        Assert.Equal(["o-1"], before[2]);
        Assert.Equal(["o-4", "o-2", "o-3", "o-5"], before[3]);
        for (var i = 0; i < queries.Length; i++)
            Assert.Equal(before[i], await Ids(upgraded, queries[i]));
        // The index is there: inserting a date row and searching with it uses the new schema (a second open finds nothing to do).
        await using var again = await ResourceStoreFactory.OpenAsync(older.Options);
        Assert.Equal(before[0], await Ids(again, queries[0]));
    }

    internal static async Task<List<string>> RowsAsync(SqlDialect dialect, string select)
    {
        var rows = new List<string>();
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = select;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        return rows;
    }

    private async Task<List<string>> IdsAsync(string type, string query) =>
        (await sorted.Store.SearchAsync(SearchQuery.Parse(type, SearchContract<TBackend>.Pairs(query)))).Matches.Select(m => m.Id).ToList();

    /// <summary>The same order through the general plan: a trailing _id key (ties are broken by id anyway).</summary>
    private static string ForcedGeneral(string sort) => sort.Length == 0 ? "_sort=_id,_id" : sort + ",_id";

    private static string Join(params string[] parts) => string.Join("&", parts.Where(p => p.Length > 0));
}

/// <summary>
/// Observations with tied dates, periods (earliest and latest differ), no date, tied and missing codes, written over
/// three transactions (tied and distinct lastUpdated), one updated and one deleted; patients with tied, repeated and
/// missing names, birthdates and genders; and enough Observations with one code to make that code a broad criterion.
/// </summary>
public sealed class SortedStore<TBackend> : IAsyncLifetime where TBackend : IStoreBackend, new()
{
    private const string Concepts = "https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts";
    public const int BroadCount = SearchExecutor.BroadCriterionRows + 30;

    private TestStore? _db;

    public IResourceStore Store => _db!.Store;

    /// <summary>Each plain Observation's date span as stored at the end (epoch ms, inclusive), null without a date.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, (long Low, long High)?>> ObservationDates = Dates();

    private static IReadOnlyList<KeyValuePair<string, (long Low, long High)?>> Dates()
    {
        var dates = new List<KeyValuePair<string, (long, long)?>>();
        foreach (var observation in Observations(final: true))
        {
            (long, long)? span = observation.Effective switch
            {
                FhirDateTime d => (Low(d.Value), High(d.Value)),
                Period p => (Low(p.Start), High(p.End)),
                _ => null,
            };
            if (observation.Id != "o-07")
                dates.Add(new(observation.Id!, span));
        }
        return dates;

        static long Low(string? text) => FhirInstantRange.TryParse(text, out var low, out _) ? low : throw new FormatException(text ?? "(none)");
        static long High(string? text) => FhirInstantRange.TryParse(text, out _, out var high) ? high : throw new FormatException(text ?? "(none)");
    }

    private static IEnumerable<Observation> Observations(bool final)
    {
        var codes = new[] { "c", "a", "b" };
        for (var i = 0; i < 24; i++)
        {
            var observation = new Observation
            {
                Id = $"o-{i:D2}",
                Status = ObservationStatus.Final,
                Code = new CodeableConcept(Concepts, codes[i % 3]),
                Effective = new FhirDateTime($"2021-01-0{i % 5 + 1}"),
            };
            if (i % 4 == 0)
                observation.Value = new Quantity(i, "%", "http://unitsofmeasure.org");
            Vary(observation, i);
            yield return observation;
        }

        void Vary(Observation observation, int i)
        {
            if (i is 3 or 17)
                observation.Effective = new Period { Start = "2020-12-20", End = "2021-02-01" };
            if (i is 9 or 14 or 21)
                observation.Effective = null;
            if (i == 11)
                observation.Code = new CodeableConcept { Coding = [new Coding(Concepts, "aa"), new Coding(Concepts, "zz")] };
            if (i == 12)
                observation.Code = new CodeableConcept { Text = "no code" };
            if (i == 5 && final)
                observation.Effective = new FhirDateTime("2021-01-04");
        }
    }

    /// <summary>The token parameters sorted here, declared sortable so their sorts walk the sort-key index (TokenSortContract compares the general plan).</summary>
    public static readonly IReadOnlyList<string> Declared = ["Observation.code", "gender"];

    public async Task InitializeAsync()
    {
        _db = await new TBackend().OpenAsync(new StorageOptions { SortableTokenParameters = [.. Declared] });
        var observations = Observations(final: false).ToList();
        // Three transactions: lastUpdated ties inside each, distinct across them.
        foreach (var part in observations.Chunk(9))
            await WriteAsync(part);
        await Store.UpdateAsync(Observations(final: true).Single(o => o.Id == "o-05"));
        await Store.DeleteAsync("Observation", "o-07", null);

        var patients = new List<Resource>();
        var families = new[] { "smith", "Jones", "Ångström", "smith", null, "jones", "Smith", "zhou" };
        for (var i = 0; i < families.Length; i++)
        {
            var patient = new Patient { Id = $"p-{i}", BirthDate = i % 3 == 0 ? null : $"201{i % 2}-05-0{i % 4 + 1}" };
            if (families[i] is { } family)
                patient.Name = [new HumanName { Family = family, Given = [i % 2 == 0 ? "Ann" : "Zed"] }];
            if (i != 4)
                patient.Gender = i % 2 == 0 ? AdministrativeGender.Female : AdministrativeGender.Male;
            patients.Add(patient);
        }
        // Two names: the least value sorts it ascending, the greatest descending.
        patients.Add(new Patient { Id = "p-two", Name = [new HumanName { Family = "Baker" }, new HumanName { Family = "Young" }] });
        await WriteAsync(patients);

        // Procedures, so the Observation sorts above stay small enough to page one by one.
        var broad = Procedures().Select(p => new Procedure
        {
            Id = p.Id,
            Status = EventStatus.Completed,
            Subject = new ResourceReference("Patient/p-1"),
            Code = new CodeableConcept(Concepts, p.Code),
            Performed = p.Performed is null ? null : new FhirDateTime(p.Performed),
        }).ToList<Resource>();
        await WriteAsync(broad);
    }

    /// <summary>The Procedures' ids, codes (one in 50 "narrow") and performed dates (none for one in 10).</summary>
    public static IEnumerable<(string Id, string Code, string? Performed)> Procedures() =>
        Enumerable.Range(0, BroadCount).Select(i => ($"broad-{i:D4}", i % 50 == 0 ? "narrow" : "broad", i % 10 == 0 ? null : $"2022-0{i % 9 + 1}-1{i % 7}"));

    private async Task WriteAsync(IEnumerable<Resource> resources)
    {
        var list = resources.ToList();
        await Store.TransactionAsync(async (tx, ct) =>
        {
            foreach (var resource in list)
                await tx.UpdateAsync(resource, null, ct);
            return list.Count;
        });
    }

    public async Task DisposeAsync()
    {
        if (_db is not null)
            await _db.DisposeAsync();
    }
}

public sealed class SqliteSortedPagingTests(SortedStore<SqliteBackend> sorted) : SortedPagingContract<SqliteBackend>(sorted);

public sealed class PostgresSortedPagingTests(SortedStore<PostgresBackend> sorted) : SortedPagingContract<PostgresBackend>(sorted);
