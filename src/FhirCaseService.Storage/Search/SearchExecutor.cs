using System.Data.Common;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Search;

/// <summary>
/// Runs searches, $everything and includes over one connection. Every page reads a pinned snapshot (the change
/// sequence of the first page, carried in the cursor), ordered by the sort keys then the resource id, so paging
/// neither skips nor repeats while others write. Index-ordered pages seek past the previous page's last match (the
/// cursor's <see cref="PageCursor.After"/>); other plans skip the cursor's offset.
/// </summary>
internal sealed class SearchExecutor(SqlDialect dialect, StorageOptions options)
{
    /// <summary>How many rounds of _include:iterate / _revinclude:iterate are followed; guards against reference cycles.</summary>
    private const int MaxIncludeRounds = 4;

    /// <summary>The token parameters with sort-key rows: only their sorts can walk an index (<see cref="OrderedWalk.For"/>).</summary>
    private readonly Indexing.SortableTokens _sortable = options.SortableTokens();

    /// <summary>
    /// Whether the database still has the token sort-key rows of this process's declared set: another replica's start
    /// with another set steps <c>fhir_clock.sortable_version</c> (<see cref="SqlDialect.SortableVersion"/>), after which
    /// a token walk here could miss rows, so it sorts by the general plan instead (same results, computed from idx_token).
    /// </summary>
    private async Task<bool> SortableTokensUnchangedAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (dialect.SortableVersion is not { } expected)
            return true;
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sortable_version FROM fhir_clock WHERE id = 1";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == expected;
    }

    public static async Task<long> CurrentSequenceAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT change_seq FROM fhir_clock WHERE id = 1";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The lastUpdated of the newest version committed at or before <paramref name="snapshot"/> (epoch when none): a
    /// function of the pinned sequence alone, so every page of a search gives the same value. Writers are serialized and
    /// stamp strictly increasing lastUpdated, so versions at the snapshot have lastUpdated at or before it and versions
    /// committed after it have lastUpdated after it: the boundary a <c>_lastUpdated=gt</c> pull continues from.
    /// One step back along (change_seq).
    /// </summary>
    public async Task<DateTimeOffset> LastUpdatedAtAsync(DbConnection connection, long snapshot, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        sql.Append($"SELECT a.last_updated_ms FROM resource_version a WHERE a.change_seq <= {sql.P(snapshot)} ORDER BY a.change_seq DESC LIMIT 1");
        await using var command = sql.CreateCommand(connection, null);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return Indexing.FhirInstantRange.ToInstant(value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task<SearchResult> SearchAsync(DbConnection connection, SearchQuery query, CancellationToken cancellationToken)
    {
        var snapshot = query.Cursor?.Snapshot ?? await CurrentSequenceAsync(connection, null, cancellationToken);
        var offset = query.Cursor?.Offset ?? 0;
        var count = PageSize(query.Count);

        var page = new List<(long Key, StoredResource Version)>();
        var hasMore = false;
        SeekPosition? last = null;
        List<(long Key, SeekPosition Position)>? walked = null;
        SearchPlan? plan = null;
        if (count > 0)
        {
            walked = await OrderedWalkAsync(connection, query, snapshot, offset, count, cancellationToken);
            plan = walked is not null ? Walked : await PlanAsync(connection, query, cancellationToken);
            var keys = walked?.Select(w => w.Key).ToList() ?? await SortedMatchesAsync(connection, query, plan, snapshot, offset, count, cancellationToken);
            hasMore = keys.Count > count;
            if (hasMore)
                keys.RemoveAt(keys.Count - 1);
            // The next page seeks past the last match when it is walked too (keyset paging); the offset stays for any other plan.
            if (hasMore && walked is not null)
                last = walked[count - 1].Position;
            page = await LoadAsync(connection, keys, cancellationToken);
        }
        int? total = query.Total switch
        {
            TotalMode.Accurate => await CountAsync(connection, query, plan ?? await PlanAsync(connection, query, cancellationToken), snapshot, cap: null, cancellationToken),
            _ when count == 0 => await CountAsync(connection, query, plan ?? await PlanAsync(connection, query, cancellationToken), snapshot, cap: null, cancellationToken),
            // The last page: what came before it and what it holds is the total, no count needed.
            TotalMode.Estimate when !hasMore => offset + page.Count,
            // After a walk (a broad criterion or none) the capped count walks the type too and stops at the cap, instead
            // of first collecting every row of the broad criterion.
            TotalMode.Estimate => await CountAsync(connection, query, plan ?? await PlanAsync(connection, query, cancellationToken), snapshot, EstimatedTotalCap, cancellationToken),
            _ => null,
        };
        var included = await IncludeAsync(connection, query.Includes, page, snapshot, cancellationToken);
        return new SearchResult(page.Select(p => p.Version).ToList(), included, total,
            hasMore ? new PageCursor(snapshot, offset + count) { After = last } : null,
            offset > 0 ? new PageCursor(snapshot, Math.Max(0, offset - Math.Max(count, 1))) : null,
            snapshot)
        {
            SnapshotLastUpdated = await LastUpdatedAtAsync(connection, snapshot, cancellationToken),
        };
    }

    /// <summary>
    /// The general plan: every match gets its sort keys computed and all are sorted before the page (offset, count + 1)
    /// is cut. Right when the matches are few (a patient's resources); linear in them otherwise.
    /// </summary>
    private async Task<List<long>> SortedMatchesAsync(DbConnection connection, SearchQuery query, SearchPlan plan, long snapshot, int offset, int count, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        var search = new SearchSql(sql);
        var where = search.Matching("a", query.ResourceType, snapshot, query.Criteria, plan);
        var order = string.Concat(query.Sort.Select(k => $"{search.SortExpression(k, "a")}{(k.Descending ? " DESC" : "")}, "));
        // Sort and cut the page on keys only, then load the page's rows: the stored JSON never goes through the sort.
        sql.Append($"SELECT a.version_key FROM resource_version a WHERE {where} ORDER BY {order}a.resource_id LIMIT {count + 1} OFFSET {offset}");
        return await KeysAsync(connection, sql, cancellationToken);
    }

    /// <summary>
    /// An index-table criterion matching more index rows than this is broad: walking an index in sort order and
    /// checking it per row finds a page sooner than sorting all its matches (about 10 µs each, so 1,000 is ~10 ms).
    /// </summary>
    internal const int BroadCriterionRows = 1000;

    /// <summary>
    /// The page's keys (up to count + 1) with their seek positions, read by walking an index in sort order
    /// (<see cref="OrderedWalk"/>), or null when the general plan is the better one: more than one criterion, a narrow
    /// criterion (an id, a reference, a chain, an index criterion matching at most <see cref="BroadCriterionRows"/> rows)
    /// finds few matches to sort, and _has with a narrow inner criterion and a _lastUpdated range outside a _lastUpdated
    /// sort are driven by their own indexes. Same order as the general plan: by the key, then the id, matches without a value last by id. A cursor
    /// with a position that fits this walk seeks past it; otherwise the walk skips the cursor's offset.
    /// </summary>
    private async Task<List<(long Key, SeekPosition Position)>?> OrderedWalkAsync(DbConnection connection, SearchQuery query, long snapshot, int offset, int count, CancellationToken cancellationToken)
    {
        if (OrderedWalk.For(query.Sort, _sortable) is not { } walk || !await WalkPaysAsync(connection, query, walk, cancellationToken))
            return null;
        if (walk.Key?.Parameter.Type == SearchParamType.Token && !await SortableTokensUnchangedAsync(connection, cancellationToken))
            return null;
        var after = query.Cursor?.After is { } position && Fits(walk, position) ? position : null;
        var skip = after is null ? offset : 0;
        var limit = count + 1;
        if (walk.By != OrderedWalk.Kind.SortKey)
        {
            var kind = walk.By == OrderedWalk.Kind.LastUpdated ? SeekPosition.Kinds.Number : SeekPosition.Kinds.Id;
            return await PageAsync(search => search.VersionsInOrder(walk, query.ResourceType, snapshot, query.Criteria, after), limit, skip, kind);
        }
        var valuedKind = walk.Key!.Parameter.Type == SearchParamType.Date ? SeekPosition.Kinds.Number : SeekPosition.Kinds.Text;
        var missingFrom = after is { Kind: SeekPosition.Kinds.Missing } ? after.ResourceId : null;
        var keys = missingFrom is not null
            ? []
            : await PageAsync(search => search.ValuedInOrder(walk, query.ResourceType, snapshot, query.Criteria, ordered: true, after), limit, skip, valuedKind);
        if (keys.Count == limit)
            return keys;
        // The valued matches ran out on this page: the rest of it comes from the matches without a value. Past the
        // valued ones entirely (an empty read at an offset), count them to know where the others start.
        var missingSkip = after is not null ? 0 : Math.Max(0, offset - (keys.Count > 0 || offset == 0 ? offset + keys.Count : await CountValuedAsync()));
        keys.AddRange(await PageAsync(search => search.MissingInOrder(walk, query.ResourceType, snapshot, query.Criteria, missingFrom), limit - keys.Count, missingSkip, SeekPosition.Kinds.Missing));
        return keys;

        async Task<List<(long, SeekPosition)>> PageAsync(Func<SearchSql, string> select, int rows, int skipped, SeekPosition.Kinds kind)
        {
            var sql = new SqlText(dialect);
            sql.Append(select(new SearchSql(sql)));
            sql.Append($" LIMIT {rows} OFFSET {skipped}");
            var found = new List<(long, SeekPosition)>();
            await using var command = sql.CreateCommand(connection, null);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(2);
                found.Add((reader.GetInt64(0), kind switch
                {
                    SeekPosition.Kinds.Number => new SeekPosition(kind, id, reader.GetInt64(1)),
                    SeekPosition.Kinds.Text => new SeekPosition(kind, id, Text: reader.GetString(1)),
                    _ => new SeekPosition(kind, id),
                }));
            }
            return found;
        }

        async Task<int> CountValuedAsync()
        {
            var sql = new SqlText(dialect);
            sql.Append($"SELECT COUNT(*) FROM ({new SearchSql(sql).ValuedInOrder(walk, query.ResourceType, snapshot, query.Criteria, ordered: false)}) valued");
            await using var command = sql.CreateCommand(connection, null);
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Whether a cursor's position was made by this walk (a client could pair a cursor with other parameters).</summary>
    private static bool Fits(OrderedWalk walk, SeekPosition position) => (walk.By, position.Kind) switch
    {
        (OrderedWalk.Kind.Id, SeekPosition.Kinds.Id) => true,
        (OrderedWalk.Kind.LastUpdated, SeekPosition.Kinds.Number) => true,
        (OrderedWalk.Kind.SortKey, SeekPosition.Kinds.Missing) => true,
        (OrderedWalk.Kind.SortKey, SeekPosition.Kinds.Number) => walk.Key!.Parameter.Type == SearchParamType.Date,
        (OrderedWalk.Kind.SortKey, SeekPosition.Kinds.Text) => walk.Key!.Parameter.Type != SearchParamType.Date,
        _ => false,
    };

    /// <summary>The plan after a walk: no driver, every criterion per row (on PostgreSQL too), so a capped count stops at the cap.</summary>
    internal static readonly SearchPlan Walked = new(null, CorrelatedHas: true, PerRow: true);

    /// <summary>
    /// How many index rows an index-table criterion may be counted to when choosing a driver: enough to tell a
    /// criterion that selects hundreds from one that selects tens of thousands, bounded (a covering range read).
    /// </summary>
    internal const int SelectivityProbeRows = 5000;

    /// <summary>
    /// The furthest a tie is chased: criteria still tied past this many rows are both broad, and the first one drives.
    /// </summary>
    internal const int MaxSelectivityProbeRows = 500_000;

    /// <summary>
    /// The general plan by selectivity. With several index-table criteria (and no id, reference or chain, which rank
    /// first), the one matching fewest index rows drives (<see cref="NarrowestAsync"/>; code=mrd matches 41,213 rows at 10,000 patients,
    /// date=ge2021-03 740: the date drives). _has whose inner criterion is broad (more than
    /// <see cref="BroadCriterionRows"/> rows) is checked per candidate through the reference index instead of collecting
    /// every source's target first. The same matches either way; only the cost differs.
    /// </summary>
    private async Task<SearchPlan> PlanAsync(DbConnection connection, SearchQuery query, CancellationToken cancellationToken)
    {
        var driver = SearchSql.Driver(query.Criteria);
        var candidates = query.Criteria.Where(SearchSql.IsDriver).ToList();
        if (driver is ParameterCriterion { Parameter.IsVersionColumn: false, Parameter.Type: not SearchParamType.Reference } && candidates.Count > 1)
        {
            var indexed = candidates.OfType<ParameterCriterion>().Where(c => c.Parameter is { IsVersionColumn: false, Type: not SearchParamType.Reference }).ToList();
            driver = await NarrowestAsync(indexed, (candidate, limit) => IndexRowsAsync(connection, candidate, query.ResourceType, limit, cancellationToken),
                SelectivityProbeRows, MaxSelectivityProbeRows) ?? driver;
        }
        var correlatedHas = false;
        var has = query.Criteria.OfType<HasCriterion>().ToList();
        if (has.Count > 0)
        {
            correlatedHas = true;
            foreach (var criterion in has)
                if (!await InnerIsBroadAsync(connection, criterion, cancellationToken))
                    correlatedHas = false;
        }
        return new SearchPlan(driver, correlatedHas);
    }

    /// <summary>Whether a _has's inner criterion is an index criterion matching more than <see cref="BroadCriterionRows"/> rows.</summary>
    private async Task<bool> InnerIsBroadAsync(DbConnection connection, HasCriterion has, CancellationToken cancellationToken) =>
        has.Inner is ParameterCriterion { Parameter.IsVersionColumn: false, Parameter.Type: not SearchParamType.Reference, Missing: null, Modifier: not "not" } inner
        && await IndexRowsAsync(connection, inner, has.SourceType, BroadCriterionRows + 1, cancellationToken) > BroadCriterionRows;

    /// <summary>
    /// The criterion matching fewest index rows, each counted up to a limit. Criteria that all reach the limit are
    /// counted again, ten times further, until one falls short of it or <paramref name="lastLimit"/> is passed: at
    /// 100,000 patients code=mrd (~410,000 rows) and date=ge2021-03 (~7,400) both pass 5,000, and a first-wins tie let
    /// the broad code drive (7-21 s on SQLite, a timeout on PostgreSQL). No criterion is counted past ten times the
    /// narrowest one's rows (or the first limit), and one that fell short of a limit is never counted again.
    /// </summary>
    internal static async Task<ParameterCriterion?> NarrowestAsync(IReadOnlyList<ParameterCriterion> candidates,
        Func<ParameterCriterion, int, Task<long>> rowsUpTo, int firstLimit, int lastLimit)
    {
        var open = candidates.ToList();
        for (var limit = firstLimit; open.Count > 0; limit *= 10)
        {
            var counted = new List<(ParameterCriterion Criterion, long Rows)>(open.Count);
            foreach (var candidate in open)
                counted.Add((candidate, await rowsUpTo(candidate, limit + 1)));
            var shortOfLimit = counted.Where(c => c.Rows <= limit).ToList();
            if (shortOfLimit.Count > 0)
                return shortOfLimit.MinBy(c => c.Rows).Criterion;
            // Every one reached the limit: all are counted again, further.
            if (open.Count == 1 || limit >= lastLimit)
                return open[0];
        }
        return null;
    }

    private async Task<long> IndexRowsAsync(DbConnection connection, ParameterCriterion criterion, string resourceType, int limit, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        sql.Append(new SearchSql(sql).IndexRowsUpTo(criterion, resourceType, limit));
        await using var command = sql.CreateCommand(connection, null);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<bool> WalkPaysAsync(DbConnection connection, SearchQuery query, OrderedWalk walk, CancellationToken cancellationToken)
    {
        // Two criteria can each be broad and still match few resources together (code=mrd&date=ge2021-03: 5 of 20,000
        // Observations at 1,000 patients), and a walk would then read the whole type; one criterion's breadth is known.
        if (query.Criteria.Count > 1)
            return false;
        // A _has whose inner criterion is broad is checked per candidate either way (PlanAsync's correlated _has): the
        // general plan checks every resource of the type and sorts them all (2.9 s at 100,000 patients), the walk stops
        // after the page. A narrow inner criterion collects its few targets first, which no walk beats.
        if (query.Criteria is [HasCriterion has])
            return await InnerIsBroadAsync(connection, has, cancellationToken);
        if (walk.By != OrderedWalk.Kind.LastUpdated && query.Criteria.Any(c => c is ParameterCriterion { Parameter.Name: "_lastUpdated", Missing: null }))
            return false;
        switch (SearchSql.Driver(query.Criteria))
        {
            case null:
                return true;
            case ParameterCriterion { Parameter.IsVersionColumn: false, Parameter.Type: not SearchParamType.Reference } criterion:
                var sql = new SqlText(dialect);
                sql.Append(new SearchSql(sql).IndexRowsUpTo(criterion, query.ResourceType, BroadCriterionRows + 1));
                await using (var command = sql.CreateCommand(connection, null))
                    return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > BroadCriterionRows;
            default:
                return false;
        }
    }

    private static async Task<List<long>> KeysAsync(DbConnection connection, SqlText sql, CancellationToken cancellationToken)
    {
        var keys = new List<long>();
        await using var command = sql.CreateCommand(connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            keys.Add(reader.GetInt64(0));
        return keys;
    }

    /// <summary>The rows of <paramref name="keys"/>, in that order.</summary>
    private async Task<List<(long Key, StoredResource Version)>> LoadAsync(DbConnection connection, List<long> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
            return [];
        var sql = new SqlText(dialect);
        sql.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE a.version_key IN ({string.Join(", ", keys.Select(k => sql.P(k)))})");
        await using var command = sql.CreateCommand(connection, null);
        var rows = (await VersionRows.ReadAsync(command, cancellationToken)).ToDictionary(r => r.Key);
        return keys.Select(k => rows[k]).ToList();
    }

    /// <summary>Current matches as a write transaction sees them (conditional create/update/delete).</summary>
    public async Task<IReadOnlyList<StoredResource>> FindAsync(DbConnection connection, DbTransaction transaction, SearchQuery query, int limit, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        var where = Where(new SearchSql(sql), query, "a", null);
        sql.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE {where} ORDER BY a.resource_id LIMIT {Math.Max(limit, 1)}");
        await using var command = sql.CreateCommand(connection, transaction);
        return (await VersionRows.ReadAsync(command, cancellationToken)).Select(r => r.Version).ToList();
    }

    public async Task<SearchResult> EverythingAsync(DbConnection connection, EverythingQuery query, CancellationToken cancellationToken)
    {
        var snapshot = query.Cursor?.Snapshot ?? await CurrentSequenceAsync(connection, null, cancellationToken);
        var offset = query.Cursor?.Offset ?? 0;
        var count = PageSize(query.Count);
        var sql = new SqlText(dialect);
        var where = EverythingWhere(new SearchSql(sql), sql, query, snapshot);
        var countSql = new SqlText(dialect);
        countSql.Append($"SELECT COUNT(*) FROM resource_version a WHERE {EverythingWhere(new SearchSql(countSql), countSql, query, snapshot)}");
        // The patient first, then by type and id: a stable total order for offset paging.
        sql.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE {where} " +
                   $"ORDER BY CASE WHEN a.resource_type = 'Patient' AND a.resource_id = {sql.P(query.PatientId)} THEN 0 ELSE 1 END, a.resource_type, a.resource_id " +
                   $"LIMIT {count + 1} OFFSET {offset}");
        await using var command = sql.CreateCommand(connection, null);
        var page = await VersionRows.ReadAsync(command, cancellationToken);
        var hasMore = page.Count > count;
        if (hasMore)
            page.RemoveAt(page.Count - 1);
        await using var counter = countSql.CreateCommand(connection, null);
        var total = Convert.ToInt32(await counter.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        return new SearchResult(page.Select(p => p.Version).ToList(), [], total,
            hasMore ? new PageCursor(snapshot, offset + count) : null,
            offset > 0 ? new PageCursor(snapshot, Math.Max(0, offset - Math.Max(count, 1))) : null,
            snapshot)
        {
            SnapshotLastUpdated = await LastUpdatedAtAsync(connection, snapshot, cancellationToken),
        };
    }

    private string EverythingWhere(SearchSql search, SqlText sql, EverythingQuery query, long snapshot)
    {
        var types = PatientCompartment.ParametersByType.Keys
            .Where(t => query.Types is not { Count: > 0 } || query.Types.Contains(t))
            .ToList();
        var keys = new List<string>();
        if (types.Contains("Patient"))
            keys.Add($"SELECT p.version_key FROM resource_version p WHERE p.resource_type = 'Patient' AND p.resource_id = {sql.P(query.PatientId)}");
        if (types.Count > 0)
        {
            var byParameter = string.Join(" OR ", types.Select(t =>
                $"(r.resource_type = {sql.P(t)} AND r.param IN ({string.Join(", ", PatientCompartment.ParametersByType[t].Select(sql.P))}))"));
            keys.Add($"SELECT r.version_key FROM idx_reference r WHERE r.target_id = {sql.P(query.PatientId)} AND r.target_type = 'Patient' AND ({byParameter})");
        }
        if (keys.Count == 0)
            return "1 = 0";
        var since = query.Since is { } s ? $" AND a.last_updated_ms >= {sql.P(s.ToUnixTimeMilliseconds())}" : "";
        // Driven by the patient's reference rows (and its own versions), never by a walk over the snapshot.
        return $"a.version_key IN ({string.Join(" UNION ALL ", keys)}) AND {search.Visible("a", snapshot, unindexed: true)}{since}";
    }

    private static string Where(SearchSql search, SearchQuery query, string alias, long? snapshot) =>
        search.Matching(alias, query.ResourceType, snapshot, query.Criteria);

    /// <summary>
    /// The most matches an estimated total counts: up to it Bundle.total is exact, above it left out. Counting stops at
    /// cap + 1 rows, so the cost is bounded whatever the number of matches (a full count of 100,000 Observations costs
    /// hundreds of milliseconds, more than the page itself).
    /// </summary>
    public const int EstimatedTotalCap = 1000;

    /// <summary>The number of matches; with a cap, null when there are more than that.</summary>
    private async Task<int?> CountAsync(DbConnection connection, SearchQuery query, SearchPlan plan, long snapshot, int? cap, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        var where = new SearchSql(sql).Matching("a", query.ResourceType, snapshot, query.Criteria, plan);
        if (cap is { } limit)
            sql.Append($"SELECT COUNT(*) FROM (SELECT 1 FROM resource_version a WHERE {where} LIMIT {limit + 1}) bounded");
        else
            sql.Append($"SELECT COUNT(*) FROM resource_version a WHERE {where}");
        await using var command = sql.CreateCommand(connection, null);
        var total = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        return cap is { } most && total > most ? null : total;
    }

    private int PageSize(int? requested) => Math.Clamp(requested ?? options.DefaultPageSize, 0, options.MaxPageSize);

    /// <summary>
    /// _include / _revinclude over the page, then :iterate ones over what was included, round by round. A resource
    /// appears once: never as an include when it is already a match.
    /// </summary>
    private async Task<IReadOnlyList<StoredResource>> IncludeAsync(DbConnection connection, IReadOnlyList<IncludeSpec> specs,
        IReadOnlyList<(long Key, StoredResource Version)> page, long snapshot, CancellationToken cancellationToken)
    {
        var included = new List<StoredResource>();
        if (specs.Count == 0 || page.Count == 0)
            return included;
        var seen = page.Select(p => (p.Version.ResourceType, p.Version.Id)).ToHashSet();
        var frontier = page.ToList();
        for (var round = 0; round < MaxIncludeRounds && frontier.Count > 0; round++)
        {
            var next = new List<(long Key, StoredResource Version)>();
            foreach (var spec in specs.Where(s => round == 0 || s.Iterate))
            {
                var found = spec.Reverse
                    ? await ReverseAsync(connection, spec, frontier, snapshot, cancellationToken)
                    : await ForwardAsync(connection, spec, frontier, snapshot, cancellationToken);
                foreach (var row in found)
                {
                    if (seen.Add((row.Version.ResourceType, row.Version.Id)))
                    {
                        next.Add(row);
                        included.Add(row.Version);
                    }
                }
            }
            frontier = next;
        }
        return included;
    }

    private async Task<List<(long Key, StoredResource Version)>> ForwardAsync(DbConnection connection, IncludeSpec spec,
        List<(long Key, StoredResource Version)> frontier, long snapshot, CancellationToken cancellationToken)
    {
        var sources = frontier.Where(f => f.Version.ResourceType == spec.SourceType).Select(f => f.Key).ToList();
        if (sources.Count == 0)
            return [];
        var sql = new SqlText(dialect);
        var search = new SearchSql(sql);
        var targetType = spec.TargetType is null ? "" : $" AND r.target_type = {sql.P(spec.TargetType)}";
        // The targets' current versions at the snapshot, found through the sources' reference rows then the (type, id) key.
        sql.Append($"SELECT {VersionRows.Columns("b")} FROM idx_reference r JOIN resource_version b ON b.resource_type = r.target_type AND b.resource_id = r.target_id " +
                   $"WHERE r.version_key IN ({string.Join(", ", sources.Select(k => sql.P(k)))}) AND r.param = {sql.P(spec.Reference.Name)}{targetType} " +
                   $"AND {search.Visible("b", snapshot, unindexed: true)}");
        await using var command = sql.CreateCommand(connection, null);
        return (await VersionRows.ReadAsync(command, cancellationToken)).DistinctBy(row => row.Key).ToList();
    }

    private async Task<List<(long Key, StoredResource Version)>> ReverseAsync(DbConnection connection, IncludeSpec spec,
        List<(long Key, StoredResource Version)> frontier, long snapshot, CancellationToken cancellationToken)
    {
        var targets = frontier.Where(f => spec.TargetType is null || f.Version.ResourceType == spec.TargetType).Select(f => f.Version).ToList();
        if (targets.Count == 0)
            return [];
        var sql = new SqlText(dialect);
        var search = new SearchSql(sql);
        var pointsAt = string.Join(" OR ", targets.GroupBy(t => t.ResourceType).Select(g =>
            $"(r.target_type = {sql.P(g.Key)} AND r.target_id IN ({string.Join(", ", g.Select(t => sql.P(t.Id)))}))"));
        sql.Append($"SELECT {VersionRows.Columns("b")} FROM resource_version b WHERE b.version_key IN (SELECT r.version_key FROM idx_reference r " +
                   $"WHERE r.resource_type = {sql.P(spec.SourceType)} AND r.param = {sql.P(spec.Reference.Name)} AND ({pointsAt})) " +
                   $"AND {search.Visible("b", snapshot, unindexed: true)} ORDER BY b.resource_id");
        await using var command = sql.CreateCommand(connection, null);
        return await VersionRows.ReadAsync(command, cancellationToken);
    }
}
