using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The writes of one <see cref="IResourceStore.TransactionAsync{T}"/> call, run by the group writer under the write
/// lock. Every version it writes carries the transaction's change sequence and lastUpdated (<see cref="Clock"/>).
/// Writes are batched: one query for the current versions of all targets, one UPDATE to supersede them, then on SQLite
/// multi-row INSERTs of the versions and of the index rows of all of them, with statement texts drawn from a fixed set
/// so the engine keeps them prepared, and on PostgreSQL one statement of column arrays for all of them
/// (<see cref="PostgresRowArrays"/>) in the UPDATE's batch. The CPU work (serialization, index extraction, hashing) was done by
/// <see cref="ResourcePreparer"/> before the lock; here the stored JSON only gets its version and lastUpdated spliced in.
/// </summary>
/// <param name="clock">
/// the call's clock step; null when it is deferred to the head of the transaction's first batch (PostgreSQL,
/// <see cref="GroupCommitter"/>), which then sets it through <see cref="ClockStepped"/> before any write is built.
/// </param>
internal sealed class WriteTransaction(SqlBatchRunner sql, SqlDialect dialect, ResourcePreparer preparer, SearchExecutor search, ChangeMark? clock)
    : IResourceTransaction
{
    /// <summary>Rows per multi-row INSERT at most; smaller remainders use power-of-two sizes, so each table has 8 texts.</summary>
    private const int MaxRowsPerInsert = 128;

    private static readonly ConcurrentDictionary<(string Table, int Rows, bool Ord), string> InsertTexts = new();

    private ChangeMark? _clock = clock;

    private string? _lastUpdatedText;

    private byte[]? _lastUpdatedUtf8;

    public ChangeMark Clock => _clock ?? throw new InvalidOperationException("The clock is stepped with the transaction's first statement; none has run yet.");

    /// <summary>The deferred clock step came back (<see cref="GroupCommitter"/>).</summary>
    internal void ClockStepped(ChangeMark mark) => _clock = mark;

    /// <summary>
    /// The transaction's own session, for job state that must commit with its writes (bulk import's offset), with the
    /// clock stepped (and the call's savepoint open) before the caller runs anything on its connection.
    /// </summary>
    internal async Task<SqlBatchRunner> SessionAsync(CancellationToken cancellationToken)
    {
        await sql.FlushDeferredAsync(cancellationToken);
        return sql;
    }

    public string NewId() => ResourceStore.CreateId();

    public async Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var prepared = preparer.Prepare(resource, string.IsNullOrEmpty(resource.Id) ? NewId() : resource.Id);
        var results = await WriteAsync([new PreparedWrite(prepared, PreparedWriteKind.Create)], cancellationToken);
        return results[0].Stored;
    }

    public async Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (string.IsNullOrEmpty(resource.Id))
            throw new InvalidStorageRequestException($"An update needs the {resource.TypeName}'s id.");
        var prepared = preparer.Prepare(resource);
        var results = await WriteAsync([new PreparedWrite(prepared, PreparedWriteKind.Update, ifMatchVersion, KeepUnchanged: false)], cancellationToken);
        return new UpdateResult(results[0].Stored, results[0].Created);
    }

    public async Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default)
    {
        CheckedType(resourceType);
        CheckedId(id);
        var current = (await CurrentVersionsAsync([(resourceType, id)], cancellationToken)).GetValueOrDefault((resourceType, id));
        if (ifMatchVersion is { } expected && current?.VersionId != expected)
            throw new VersionConflictException(resourceType, id, expected, current?.VersionId);
        if (current is null)
            return null;
        if (current.IsDeleted)
            return current.ToStored(resourceType, id, null);
        var deletion = new NewVersion(resourceType, id, current.VersionId + 1, null, Created: false);
        await StoreAsync([current.Key], [deletion], cancellationToken);
        return new StoredResource(resourceType, id, deletion.VersionId, Clock.LastUpdated, Clock.Sequence, true, null);
    }

    /// <summary>The (type, id) of each write, in order; a resource written twice in one batch is refused, as its versions would collide.</summary>
    internal static List<(string Type, string Id)> DistinctTargets(IReadOnlyList<PreparedWrite> writes)
    {
        var targets = new List<(string Type, string Id)>(writes.Count);
        var seen = new HashSet<(string, string)>(writes.Count);
        foreach (var write in writes)
        {
            var target = (write.Resource.ResourceType, write.Resource.Id);
            if (!seen.Add(target))
                throw new InvalidStorageRequestException($"{write.Resource.Reference} is written twice in one batch.");
            targets.Add(target);
        }
        return targets;
    }

    public async Task<IReadOnlyList<PreparedWriteResult>> WriteAsync(IReadOnlyList<PreparedWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        if (writes.Count == 0)
            return [];
        var current = await CurrentVersionsAsync(DistinctTargets(writes), cancellationToken);

        // Every precondition is checked before anything is written: a batch fails as a whole.
        var results = new PreparedWriteResult?[writes.Count];
        var superseded = new List<long>();
        var versions = new List<NewVersion>(writes.Count);
        var versionOf = new int[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            var prepared = write.Resource;
            var existing = current.GetValueOrDefault((prepared.ResourceType, prepared.Id));
            if (write.Kind == PreparedWriteKind.Create && existing is not null)
                throw new ResourceAlreadyExistsException(prepared.ResourceType, prepared.Id);
            if (write.IfMatchVersion is { } expected && existing?.VersionId != expected)
                throw new VersionConflictException(prepared.ResourceType, prepared.Id, expected, existing?.VersionId);
            if (write.Kind == PreparedWriteKind.Update && write.KeepUnchanged && existing is { IsDeleted: false } && existing.ContentHash == prepared.ContentHash)
            {
                // Equal hashes, equal stored JSON apart from the stamps: the prepared copy stamped as the current version is it.
                results[i] = new PreparedWriteResult(existing.ToStored(prepared.ResourceType, prepared.Id,
                    Stamped(prepared.TakeResource(), existing.VersionId, existing.LastUpdated)), Created: false, Unchanged: true);
                continue;
            }
            if (existing is not null)
                superseded.Add(existing.Key);
            versionOf[i] = versions.Count;
            versions.Add(new NewVersion(prepared.ResourceType, prepared.Id, (existing?.VersionId ?? 0) + 1, prepared, existing is null || existing.IsDeleted));
        }
        await StoreAsync(superseded, versions, cancellationToken);
        for (var i = 0; i < writes.Count; i++)
        {
            if (results[i] is not null)
                continue;
            var version = versions[versionOf[i]];
            var resource = Stamped(version.Prepared!.TakeResource(), version.VersionId, Clock.LastUpdated);
            results[i] = new PreparedWriteResult(
                new StoredResource(version.ResourceType, version.Id, version.VersionId, Clock.LastUpdated, Clock.Sequence, false, resource),
                version.Created, Unchanged: false);
        }
        return results!;
    }

    public async Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default)
    {
        CheckedType(resourceType);
        if (!ResourceIds.IsValid(id))
            return ReadResult.NotFound;
        await sql.FlushDeferredAsync(cancellationToken);
        var text = new SqlText(dialect);
        text.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE a.resource_type = {text.P(resourceType)} AND a.resource_id = {text.P(id)} AND a.superseded_seq IS NULL");
        await using var command = text.CreateCommand(sql.Connection, sql.Transaction);
        var rows = await VersionRows.ReadAsync(command, cancellationToken);
        return rows.Count == 0 ? ReadResult.NotFound : ReadResult.Of(rows[0].Version);
    }

    public async Task<IReadOnlyList<StoredResource>> FindAsync(SearchQuery criteria, int limit = 2, CancellationToken cancellationToken = default)
    {
        await sql.FlushDeferredAsync(cancellationToken);
        return await search.FindAsync(sql.Connection, sql.Transaction, criteria, limit, cancellationToken);
    }

    private static Resource? Stamped(Resource? resource, int versionId, DateTimeOffset lastUpdated)
    {
        if (resource is null)
            return null;
        resource.Meta!.VersionId = versionId.ToString(CultureInfo.InvariantCulture);
        resource.Meta.LastUpdated = lastUpdated;
        return resource;
    }

    /// <summary>The current version rows of the targets, in one query whatever their number.</summary>
    private async Task<Dictionary<(string Type, string Id), CurrentVersion>> CurrentVersionsAsync(IReadOnlyList<(string Type, string Id)> targets, CancellationToken cancellationToken)
    {
        var current = new Dictionary<(string, string), CurrentVersion>(targets.Count);
        var query = new SqlStatement(
            "SELECT a.version_key, a.resource_type, a.resource_id, a.version_id, a.is_deleted, a.change_seq, a.last_updated_ms, a.content_hash, " +
            "CASE WHEN a.content_hash IS NULL THEN a.content END FROM " + dialect.CurrentVersionsFrom,
            dialect.PairValues(targets));
        await sql.RunAsync([query], reader =>
        {
            var deleted = Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture) != 0;
            // Versions written before schema v3 have no hash: it is computed from their stored JSON (not written back).
            var hash = !reader.IsDBNull(7) ? reader.GetString(7) : !reader.IsDBNull(8) ? StoredJson.HashOfStored(reader.GetString(8)) : null;
            current[(reader.GetString(1), reader.GetString(2))] = new CurrentVersion(reader.GetInt64(0), reader.GetInt32(3), deleted,
                reader.GetInt64(5), FhirInstantRange.ToInstant(reader.GetInt64(6)), deleted ? null : hash);
        }, cancellationToken);
        return current;
    }

    /// <summary>Supersedes the current versions, inserts the new ones and then their index rows: three round trips at most.</summary>
    private async Task StoreAsync(List<long> superseded, List<NewVersion> versions, CancellationToken cancellationToken)
    {
        if (dialect.InsertsRowArrays)
        {
            await StoreAsArraysAsync(superseded, versions, cancellationToken);
            return;
        }
        if (superseded.Count > 0)
            await sql.ExecuteAsync([new SqlStatement(
                "UPDATE resource_version SET superseded_seq = @p0 WHERE " + dialect.InList("version_key", "@p1") + " AND superseded_seq IS NULL",
                [Clock.Sequence, dialect.ListValue(superseded)])], cancellationToken);
        if (versions.Count == 0)
            return;

        var inserts = new List<SqlStatement>();
        var lastUpdatedMs = Clock.LastUpdated.ToUnixTimeMilliseconds();
        foreach (var (offset, count) in Chunks(versions.Count, 64))
        {
            var values = new object?[count * 8];
            for (var r = 0; r < count; r++)
            {
                var version = versions[offset + r];
                var v = r * 8;
                values[v] = version.ResourceType;
                values[v + 1] = version.Id;
                values[v + 2] = version.VersionId;
                values[v + 3] = Clock.Sequence;
                values[v + 4] = lastUpdatedMs;
                values[v + 5] = version.Prepared is null ? 1 : 0;
                values[v + 6] = version.Prepared is not { } prepared ? null : Content(prepared.Json, version.VersionId);
                values[v + 7] = version.Prepared?.ContentHash;
            }
            inserts.Add(new SqlStatement(InsertText("resource_version", count, ord: false), values));
        }
        var keys = new Dictionary<(string, string), long>(versions.Count);
        await sql.RunAsync(inserts, reader => keys[(reader.GetString(1), reader.GetString(2))] = reader.GetInt64(0), cancellationToken);

        var index = new IndexRows(dialect.ClustersIndexRows);
        foreach (var version in versions)
            if (version.Prepared is { } prepared)
                index.Add(keys[(version.ResourceType, version.Id)], prepared.ResourceType, version.Id, prepared.Index);
        await sql.ExecuteAsync(index.Statements(), cancellationToken);
    }

    /// <summary>
    /// PostgreSQL: the supersede UPDATE and one statement for the versions and all their index rows
    /// (<see cref="PostgresRowArrays"/>), in one batch: one round trip, two fixed texts. The UPDATE runs first, so the
    /// new current versions never meet the old ones in ux_resource_current.
    /// </summary>
    private async Task StoreAsArraysAsync(List<long> superseded, List<NewVersion> versions, CancellationToken cancellationToken)
    {
        if (versions.Count == 0)
            return; // nothing superseded either: a version is superseded only by a new one
        var rows = new PostgresRowArrays(Clock.Sequence, Clock.LastUpdated.ToUnixTimeMilliseconds());
        foreach (var version in versions)
            rows.Add(version.ResourceType, version.Id, version.VersionId,
                version.Prepared is { } prepared ? (string)Content(prepared.Json, version.VersionId) : null,
                version.Prepared?.ContentHash, version.Prepared?.Index);
        var statements = new List<SqlStatement>(2);
        if (superseded.Count > 0)
            statements.Add(new SqlStatement(
                "UPDATE resource_version SET superseded_seq = @p0 WHERE " + dialect.InList("version_key", "@p1") + " AND superseded_seq IS NULL",
                [Clock.Sequence, dialect.ListValue(superseded)]));
        statements.Add(rows.Statement());
        await sql.ExecuteAsync(statements, cancellationToken);
    }

    /// <summary>
    /// A version's stored JSON: as UTF-8 where SQLite binds it as it is (no encoding of each content under the lock),
    /// else as a string (PostgreSQL).
    /// </summary>
    private object Content(StoredJsonTemplate json, int versionId)
    {
        _lastUpdatedText ??= StoredJson.FormatLastUpdated(Clock.LastUpdated);
        if (!sql.BindsUtf8)
            return json.Fill(versionId.ToString(CultureInfo.InvariantCulture), _lastUpdatedText);
        _lastUpdatedUtf8 ??= Encoding.UTF8.GetBytes(_lastUpdatedText);
        Span<byte> version = stackalloc byte[11];
        versionId.TryFormat(version, out var written, provider: CultureInfo.InvariantCulture);
        return json.FillUtf8(version[..written], _lastUpdatedUtf8);
    }

    /// <summary>
    /// The index rows of all versions of a batch, per table, ready to go out as multi-row INSERTs. Where the index
    /// tables are clustered (<see cref="SqlDialect.ClustersIndexRows"/>) each index row carries ord, its position among
    /// its version's index rows, which makes its key (version_key, param, ord) unique.
    /// </summary>
    private sealed class IndexRows(bool ordinals)
    {
        private readonly Dictionary<string, (int Columns, List<object?> Values)> _tables = new(StringComparer.Ordinal);

        public void Add(long key, string type, string id, IndexEntries entries)
        {
            var ord = 0;
            foreach (var e in entries.Tokens) Index("idx_token", key, type, e.Param, ord++, e.System, e.Code, e.Text);
            foreach (var e in entries.Strings) Index("idx_string", key, type, e.Param, ord++, e.Normalized, e.Exact);
            foreach (var e in entries.Dates) Index("idx_date", key, type, e.Param, ord++, e.Low, e.High);
            foreach (var e in entries.References) Index("idx_reference", key, type, e.Param, ord++, e.TargetType, e.TargetId, e.Url);
            foreach (var e in entries.Quantities) Index("idx_quantity", key, type, e.Param, ord++, e.Value, e.System, e.Code);
            foreach (var e in entries.Numbers) Index("idx_number", key, type, e.Param, ord++, e.Value);
            foreach (var e in entries.Uris) Index("idx_uri", key, type, e.Param, ord++, e.Uri);
            foreach (var e in entries.DateSortKeys) Row("sort_date", key, type, e.Param, id, e.Min, e.Max);
            foreach (var e in entries.TextSortKeys) Row("sort_text", key, type, e.Param, id, e.Min, e.Max);
        }

        private void Index(string table, long key, string type, string param, int ord, params object?[] values)
        {
            if (ordinals)
                Row(table, [key, type, param, ord, .. values]);
            else
                Row(table, [key, type, param, .. values]);
        }

        private void Row(string table, params object?[] values)
        {
            if (!_tables.TryGetValue(table, out var rows))
                _tables[table] = rows = (values.Length, []);
            rows.Values.AddRange(values);
        }

        public List<SqlStatement> Statements()
        {
            var statements = new List<SqlStatement>();
            foreach (var (table, (columns, values)) in _tables)
                foreach (var (offset, count) in Chunks(values.Count / columns, MaxRowsPerInsert))
                    statements.Add(new SqlStatement(InsertText(table, count, WithOrd(table)), values.GetRange(offset * columns, count * columns).ToArray()));
            return statements;
        }

        private bool WithOrd(string table) => ordinals && table.StartsWith("idx_", StringComparison.Ordinal);
    }

    /// <summary>Splits <paramref name="total"/> rows into chunks of <paramref name="max"/> and power-of-two remainders.</summary>
    private static IEnumerable<(int Offset, int Count)> Chunks(int total, int max)
    {
        var offset = 0;
        for (; total - offset >= max; offset += max)
            yield return (offset, max);
        for (var size = max / 2; size >= 1; size /= 2)
            if (((total - offset) & size) != 0)
            {
                yield return (offset, size);
                offset += size;
            }
    }

    private static string InsertText(string table, int rows, bool ord) => InsertTexts.GetOrAdd((table, rows, ord), key =>
    {
        var (head, rowOf, columns) = key.Table switch
        {
            "resource_version" => ("INSERT INTO resource_version (resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content, content_hash) VALUES ",
                (Func<int, string>)(p => $"({Name(p)}, {Name(p + 1)}, {Name(p + 2)}, {Name(p + 3)}, NULL, {Name(p + 4)}, {Name(p + 5)}, {Name(p + 6)}, {Name(p + 7)})"), 8),
            _ => ($"INSERT INTO {key.Table} (version_key, resource_type, param, {(key.Ord ? "ord, " : "")}{IndexColumns(key.Table)}) VALUES ",
                p => Row(p, ColumnCount(key.Table, key.Ord)), ColumnCount(key.Table, key.Ord)),
        };
        var text = new StringBuilder(head);
        for (var r = 0; r < key.Rows; r++)
            text.Append(r == 0 ? "" : ", ").Append(rowOf(r * columns));
        if (key.Table == "resource_version")
            text.Append(" RETURNING version_key, resource_type, resource_id");
        return text.ToString();

        static string Name(int p) => SqlBatchRunner.ParameterName(p);
        static string Row(int first, int count) => "(" + string.Join(", ", Enumerable.Range(first, count).Select(Name)) + ")";
    });

    private static string IndexColumns(string table) => SchemaMigrator.IndexColumnNames[table];

    private static int ColumnCount(string table, bool ord) => (ord ? 4 : 3) + SchemaMigrator.IndexColumnNames[table].Split(',').Length;

    private static string CheckedId(string id) => ResourceIds.IsValid(id)
        ? id
        : throw new InvalidStorageRequestException($"'{id}' is not a valid FHIR id (1 to 64 of A-Z, a-z, 0-9, '-' and '.').");

    private static void CheckedType(string resourceType)
    {
        if (!ModelInfo.IsKnownResource(resourceType))
            throw new InvalidStorageRequestException($"'{resourceType}' is not a FHIR R4 resource type.");
    }

    /// <summary>A target's current version row; <see cref="ContentHash"/> is null for a deletion or an unreadable old row.</summary>
    private sealed record CurrentVersion(long Key, int VersionId, bool IsDeleted, long ChangeSequence, DateTimeOffset LastUpdated, string? ContentHash)
    {
        public StoredResource ToStored(string type, string id, Resource? resource) =>
            new(type, id, VersionId, LastUpdated, ChangeSequence, IsDeleted, resource);
    }

    /// <summary>A version to insert: <see cref="Prepared"/> is null for a deletion.</summary>
    private sealed record NewVersion(string ResourceType, string Id, int VersionId, PreparedResource? Prepared, bool Created);
}
