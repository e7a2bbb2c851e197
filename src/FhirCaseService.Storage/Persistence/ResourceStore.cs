using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// <see cref="IResourceStore"/> over SQLite or PostgreSQL (the <see cref="SqlDialect"/>). Reads open a pooled
/// connection each; writes are prepared by <see cref="ResourcePreparer"/> and committed in groups by
/// <see cref="GroupCommitter"/>, one group at a time per database.
/// </summary>
internal sealed class ResourceStore : IResourceStore
{
    private readonly SqlDialect _dialect;
    private readonly ResourcePreparer _preparer;
    private readonly SearchExecutor _search;
    private readonly StorageOptions _options;
    private readonly GroupCommitter _writer;

    public ResourceStore(SqlDialect dialect, StorageOptions options, SearchParameterCatalog catalog)
    {
        _dialect = dialect;
        _options = options;
        _preparer = ResourcePreparer.For(options, catalog);
        _search = new SearchExecutor(dialect, options);
        _writer = new GroupCommitter(dialect, _preparer, _search);
    }

    internal SqlDialect Dialect => _dialect;

    /// <summary>Round trips the write path has made so far (statements on SQLite, batches on PostgreSQL).</summary>
    internal long WriteExecutions => _writer.Executions;

    /// <summary>Commit groups so far.</summary>
    internal long WriteGroups => _writer.Groups;

    /// <summary>Runs <paramref name="work"/> in the next commit group, without a change sequence (<see cref="GroupCommitter.RunSideWriteAsync"/>).</summary>
    internal Task RunSideWriteAsync(Func<SqlBatchRunner, CancellationToken, Task> work, CancellationToken cancellationToken) =>
        _writer.RunSideWriteAsync(work, cancellationToken);

    /// <summary>Time-ordered (UUID v7) so new ids land at the end of the id indexes; 32 lowercase hex digits.</summary>
    internal static string CreateId() => Guid.CreateVersion7().ToString("N");

    public string NewId() => CreateId();

    public PreparedResource Prepare(Resource resource) => _preparer.Prepare(resource);

    public PreparedResource PrepareOwned(Resource resource) => _preparer.Prepare(resource, owned: true);

    public Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default) =>
        TransactionAsync((tx, ct) => tx.CreateAsync(resource, ct), cancellationToken);

    public Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default) =>
        TransactionAsync((tx, ct) => tx.UpdateAsync(resource, ifMatchVersion, ct), cancellationToken);

    public Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default) =>
        TransactionAsync((tx, ct) => tx.DeleteAsync(resourceType, id, ifMatchVersion, ct), cancellationToken);

    public async Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default)
    {
        if (!ResourceIds.IsValid(id))
            return ReadResult.NotFound;
        var sql = new SqlText(_dialect);
        sql.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE a.resource_type = {sql.P(resourceType)} AND a.resource_id = {sql.P(id)} AND a.superseded_seq IS NULL");
        var rows = await QueryAsync(sql, cancellationToken);
        return rows.Count == 0 ? ReadResult.NotFound : ReadResult.Of(rows[0]);
    }

    public async Task<ReadResult> VReadAsync(string resourceType, string id, int versionId, CancellationToken cancellationToken = default)
    {
        if (!ResourceIds.IsValid(id))
            return ReadResult.NotFound;
        var sql = new SqlText(_dialect);
        sql.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE a.resource_type = {sql.P(resourceType)} AND a.resource_id = {sql.P(id)} AND a.version_id = {sql.P(versionId)}");
        var rows = await QueryAsync(sql, cancellationToken);
        return rows.Count == 0 ? ReadResult.NotFound : ReadResult.Of(rows[0]);
    }

    /// <summary>Ids per query: well under SQLite's and PostgreSQL's parameter limits, and one round trip for any ordinary request.</summary>
    internal const int ExistingIdsChunk = 500;

    public async Task<IReadOnlySet<string>> ExistingIdsAsync(string resourceType, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        var valid = ids.Where(ResourceIds.IsValid).Distinct(StringComparer.Ordinal).ToArray();
        if (valid.Length == 0)
            return existing;
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        foreach (var chunk in valid.Chunk(ExistingIdsChunk))
        {
            var sql = new SqlText(_dialect);
            sql.Append($"SELECT a.resource_id FROM resource_version a WHERE a.resource_type = {sql.P(resourceType)} AND a.superseded_seq IS NULL AND a.is_deleted = 0 AND a.resource_id IN (");
            sql.Append(string.Join(", ", chunk.Select(id => sql.P(id))));
            sql.Append(")");
            await using var command = sql.CreateCommand(connection, null);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                existing.Add(reader.GetString(0));
        }
        return existing;
    }

    public async Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken = default)
    {
        if (query.Id is not null && query.ResourceType is null)
            throw new InvalidStorageRequestException("Instance history needs the resource type as well as the id.");
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var snapshot = query.Cursor?.Snapshot ?? await SearchExecutor.CurrentSequenceAsync(connection, null, cancellationToken);
        var offset = query.Cursor?.Offset ?? 0;
        var count = Math.Clamp(query.Count ?? _options.DefaultPageSize, 1, _options.MaxPageSize);

        string Where(SqlText sql)
        {
            var where = $"a.change_seq <= {sql.P(snapshot)}";
            if (query.ResourceType is not null) where += $" AND a.resource_type = {sql.P(query.ResourceType)}";
            if (query.Id is not null) where += $" AND a.resource_id = {sql.P(query.Id)}";
            if (query.Since is { } since) where += $" AND a.last_updated_ms >= {sql.P(since.ToUnixTimeMilliseconds())}";
            return where;
        }

        var select = new SqlText(_dialect);
        select.Append($"SELECT {VersionRows.Columns("a")} FROM resource_version a WHERE {Where(select)} ORDER BY a.change_seq DESC, a.version_key DESC LIMIT {count + 1} OFFSET {offset}");
        List<StoredResource> rows;
        await using (var command = select.CreateCommand(connection, null))
            rows = (await VersionRows.ReadAsync(command, cancellationToken)).Select(r => r.Version).ToList();
        var hasMore = rows.Count > count;
        if (hasMore)
            rows.RemoveAt(rows.Count - 1);
        var countSql = new SqlText(_dialect);
        countSql.Append($"SELECT COUNT(*) FROM resource_version a WHERE {Where(countSql)}");
        await using var counter = countSql.CreateCommand(connection, null);
        var total = Convert.ToInt32(await counter.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        return new HistoryPage(rows, total,
            hasMore ? new PageCursor(snapshot, offset + count) : null,
            offset > 0 ? new PageCursor(snapshot, Math.Max(0, offset - count)) : null,
            snapshot);
    }

    public async Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        try
        {
            return await _search.SearchAsync(connection, query, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && _dialect.IsTimeout(e))
        {
            throw new SearchTimedOutException(e);
        }
    }

    public async Task<SearchResult> EverythingAsync(EverythingQuery query, CancellationToken cancellationToken = default)
    {
        if (!ResourceIds.IsValid(query.PatientId))
            throw new InvalidStorageRequestException($"'{query.PatientId}' is not a valid FHIR id.");
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        try
        {
            return await _search.EverythingAsync(connection, query, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && _dialect.IsTimeout(e))
        {
            throw new SearchTimedOutException(e);
        }
    }

    public Task<T> TransactionAsync<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return _writer.RunAsync(work, cancellationToken);
    }

    public async Task<ChangeMark> CurrentChangeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT change_seq, last_updated_ms FROM fhir_clock WHERE id = 1";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ChangeMark(reader.GetInt64(0), FhirInstantRange.ToInstant(reader.GetInt64(1)));
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _dialect.DisposeAsync();
    }

    private async Task<List<StoredResource>> QueryAsync(SqlText sql, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        return (await VersionRows.ReadAsync(command, cancellationToken)).Select(r => r.Version).ToList();
    }
}
