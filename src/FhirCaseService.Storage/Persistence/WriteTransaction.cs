using System.Data.Common;
using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The writes of one database transaction. Every version it writes carries the transaction's change sequence and
/// lastUpdated (<see cref="Clock"/>), taken when the transaction began and holding the write exclusivity until commit.
/// </summary>
internal sealed class WriteTransaction(WriteSession session, SqlDialect dialect, ResourceIndexer indexer, SearchExecutor search, ChangeMark clock)
    : IResourceTransaction
{
    /// <summary>Rows per multi-row INSERT; a version has a few dozen rows, far under both engines' parameter limits.</summary>
    private const int RowsPerInsert = 200;

    public ChangeMark Clock { get; } = clock;

    /// <summary>The transaction's own session, for job state that must commit with its writes (bulk import's offset).</summary>
    internal WriteSession Session => session;

    public string NewId() => ResourceStore.CreateId();

    public async Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var id = string.IsNullOrEmpty(resource.Id) ? NewId() : CheckedId(resource.Id);
        if (await CurrentAsync(resource.TypeName, id, cancellationToken) is not null)
            throw new ResourceAlreadyExistsException(resource.TypeName, id);
        return await WriteVersionAsync(resource, id, 1, previous: null, cancellationToken);
    }

    public async Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (string.IsNullOrEmpty(resource.Id))
            throw new InvalidStorageRequestException($"An update needs the {resource.TypeName}'s id.");
        var id = CheckedId(resource.Id);
        var current = await CurrentAsync(resource.TypeName, id, cancellationToken);
        if (ifMatchVersion is { } expected && current?.VersionId != expected)
            throw new VersionConflictException(resource.TypeName, id, expected, current?.VersionId);
        var stored = await WriteVersionAsync(resource, id, (current?.VersionId ?? 0) + 1, current, cancellationToken);
        return new UpdateResult(stored, current is null || current.IsDeleted);
    }

    public async Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default)
    {
        CheckedType(resourceType);
        CheckedId(id);
        var current = await CurrentAsync(resourceType, id, cancellationToken);
        if (ifMatchVersion is { } expected && current?.VersionId != expected)
            throw new VersionConflictException(resourceType, id, expected, current?.VersionId);
        if (current is null || current.IsDeleted)
            return current;
        await SupersedeAsync(current, cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append("INSERT INTO resource_version (resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content) " +
                   $"VALUES ({sql.P(resourceType)}, {sql.P(id)}, {sql.P(current.VersionId + 1)}, {sql.P(Clock.Sequence)}, NULL, {sql.P(Clock.LastUpdated.ToUnixTimeMilliseconds())}, 1, NULL)");
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new StoredResource(resourceType, id, current.VersionId + 1, Clock.LastUpdated, Clock.Sequence, true, null);
    }

    /// <summary>Interim form: one write after the other through the single-resource paths; batching comes next.</summary>
    public async Task<IReadOnlyList<PreparedWriteResult>> WriteAsync(IReadOnlyList<PreparedWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var results = new List<PreparedWriteResult>(writes.Count);
        foreach (var write in writes)
        {
            var resource = write.Resource.Resource;
            if (write.Kind == PreparedWriteKind.Create)
            {
                results.Add(new PreparedWriteResult(await CreateAsync(resource, cancellationToken), Created: true, Unchanged: false));
                continue;
            }
            if (write.KeepUnchanged)
            {
                var current = await ReadAsync(resource.TypeName, write.Resource.Id, cancellationToken);
                if (write.IfMatchVersion is { } expected && (current.Status != ReadStatus.Found || current.Version!.VersionId != expected))
                    throw new VersionConflictException(resource.TypeName, write.Resource.Id, expected, current.Status == ReadStatus.Found ? current.Version!.VersionId : null);
                if (current.Status == ReadStatus.Found && SameContent(current.Version!.Resource!, resource))
                {
                    results.Add(new PreparedWriteResult(current.Version!, Created: false, Unchanged: true));
                    continue;
                }
            }
            var updated = await UpdateAsync(resource, write.IfMatchVersion, cancellationToken);
            results.Add(new PreparedWriteResult(updated.Stored, updated.Created, Unchanged: false));
        }
        return results;
    }

    private static bool SameContent(Resource stored, Resource incoming) =>
        string.Equals(WithoutServerStamps(stored), WithoutServerStamps(incoming), StringComparison.Ordinal);

    private static string WithoutServerStamps(Resource resource)
    {
        var copy = (Resource)resource.DeepCopy();
        if (copy.Meta is { } meta)
        {
            meta.VersionId = null;
            meta.LastUpdated = null;
            if (!meta.EnumerateElements().Any())
                copy.Meta = null;
        }
        return VersionRows.Serialize(copy);
    }

    public async Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default)
    {
        CheckedType(resourceType);
        if (!ResourceIds.IsValid(id))
            return ReadResult.NotFound;
        var sql = new SqlText(dialect);
        sql.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE a.resource_type = {sql.P(resourceType)} AND a.resource_id = {sql.P(id)} AND a.superseded_seq IS NULL");
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        var rows = await VersionRows.ReadAsync(command, cancellationToken);
        return rows.Count == 0 ? ReadResult.NotFound : ReadResult.Of(rows[0].Version);
    }

    public Task<IReadOnlyList<StoredResource>> FindAsync(SearchQuery criteria, int limit = 2, CancellationToken cancellationToken = default) =>
        search.FindAsync(session.Connection, session.Transaction, criteria, limit, cancellationToken);

    private async Task<StoredResource> WriteVersionAsync(Resource resource, string id, int versionId, StoredResource? previous, CancellationToken cancellationToken)
    {
        var copy = (Resource)resource.DeepCopy();
        copy.Id = id;
        copy.Meta ??= new Meta();
        copy.Meta.VersionId = versionId.ToString(CultureInfo.InvariantCulture);
        copy.Meta.LastUpdated = Clock.LastUpdated;
        var entries = indexer.Extract(copy);

        if (previous is not null)
            await SupersedeAsync(previous, cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append("INSERT INTO resource_version (resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content) " +
                   $"VALUES ({sql.P(copy.TypeName)}, {sql.P(id)}, {sql.P(versionId)}, {sql.P(Clock.Sequence)}, NULL, {sql.P(Clock.LastUpdated.ToUnixTimeMilliseconds())}, 0, {sql.P(VersionRows.Serialize(copy))}) " +
                   "RETURNING version_key");
        long key;
        await using (var command = sql.CreateCommand(session.Connection, session.Transaction))
            key = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        await InsertIndexAsync(key, copy.TypeName, entries, cancellationToken);
        return new StoredResource(copy.TypeName, id, versionId, Clock.LastUpdated, Clock.Sequence, false, copy);
    }

    private async Task SupersedeAsync(StoredResource current, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        sql.Append($"UPDATE resource_version SET superseded_seq = {sql.P(Clock.Sequence)} WHERE resource_type = {sql.P(current.ResourceType)} " +
                   $"AND resource_id = {sql.P(current.Id)} AND superseded_seq IS NULL");
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<StoredResource?> CurrentAsync(string resourceType, string id, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        sql.Append($"SELECT a.version_id, a.is_deleted, a.change_seq, a.last_updated_ms FROM resource_version a WHERE a.resource_type = {sql.P(resourceType)} " +
                   $"AND a.resource_id = {sql.P(id)} AND a.superseded_seq IS NULL");
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        return new StoredResource(resourceType, id, reader.GetInt32(0), FhirInstantRange.ToInstant(reader.GetInt64(3)), reader.GetInt64(2),
            Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture) != 0, null);
    }

    /// <summary>All index rows of a version in one command (one round trip): a multi-row INSERT per non-empty table.</summary>
    private async Task InsertIndexAsync(long key, string resourceType, IndexEntries entries, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        var keyParam = sql.P(key);
        var typeParam = sql.P(resourceType);
        var statements = new List<string>();
        void Rows<T>(string table, string columns, List<T> rows, Func<T, string> values)
        {
            foreach (var chunk in rows.Chunk(RowsPerInsert))
                statements.Add($"INSERT INTO {table} (version_key, resource_type, param, {columns}) VALUES " +
                               string.Join(", ", chunk.Select(row => $"({keyParam}, {typeParam}, {values(row)})")));
        }

        Rows("idx_token", "system, code, text_norm", entries.Tokens, e => $"{sql.P(e.Param)}, {sql.P(e.System)}, {sql.P(e.Code)}, {sql.P(e.Text)}");
        Rows("idx_string", "value_norm, value_exact", entries.Strings, e => $"{sql.P(e.Param)}, {sql.P(e.Normalized)}, {sql.P(e.Exact)}");
        Rows("idx_date", "low_ms, high_ms", entries.Dates, e => $"{sql.P(e.Param)}, {sql.P(e.Low)}, {sql.P(e.High)}");
        Rows("idx_reference", "target_type, target_id, url", entries.References, e => $"{sql.P(e.Param)}, {sql.P(e.TargetType)}, {sql.P(e.TargetId)}, {sql.P(e.Url)}");
        Rows("idx_quantity", "value, system, code", entries.Quantities, e => $"{sql.P(e.Param)}, {sql.P(e.Value)}, {sql.P(e.System)}, {sql.P(e.Code)}");
        Rows("idx_number", "value", entries.Numbers, e => $"{sql.P(e.Param)}, {sql.P(e.Value)}");
        Rows("idx_uri", "uri", entries.Uris, e => $"{sql.P(e.Param)}, {sql.P(e.Uri)}");
        if (statements.Count == 0)
            return;
        sql.Append(string.Join(";\n", statements));
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string CheckedId(string id) => ResourceIds.IsValid(id)
        ? id
        : throw new InvalidStorageRequestException($"'{id}' is not a valid FHIR id (1 to 64 of A-Z, a-z, 0-9, '-' and '.').");

    private static void CheckedType(string resourceType)
    {
        if (!ModelInfo.IsKnownResource(resourceType))
            throw new InvalidStorageRequestException($"'{resourceType}' is not a FHIR R4 resource type.");
    }
}
