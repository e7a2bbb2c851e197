using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Jobs;
using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Import;

/// <summary>
/// <see cref="IImportJobStore"/> over the process's <see cref="StorageDatabase"/>: the shared lease machinery of
/// <see cref="LeasedJobStore{TJob}"/> over <c>import_job</c>; a chunk runs inside the resource store's own write
/// transaction, so its resources, its refused lines and the job's position commit together or not at all. On
/// PostgreSQL a chunk's version and index rows go out by binary COPY (<see cref="PostgresCopyWriter"/>) unless
/// <paramref name="postgresCopy"/> is false (then by the resource store's multi-row INSERTs, as on SQLite). On SQLite
/// the chunk's connection (the store's one writer connection) gets a page cache of <paramref name="sqliteCacheMegabytes"/>
/// MiB (<see cref="StorageOptions.ImportSqliteCacheMegabytes"/>).
/// </summary>
internal sealed class ImportJobStore(StorageDatabase database, TimeProvider? time = null, bool postgresCopy = true, int sqliteCacheMegabytes = 0)
    : LeasedJobStore<ImportJob>(database, time, "import_job", JobColumns, "import_error"), IImportJobStore
{
    /// <summary>Refused lines per INSERT and per read batch: few round trips, far under both engines' parameter limits.</summary>
    private const int ErrorsPerStatement = 200;
    private const int ErrorReadBatch = 1000;

    /// <summary>Line hashes per upsert (4 parameters each).</summary>
    private const int HashesPerStatement = 128;

    private const string JobColumns =
        "job_id, status, request_json, created_ms, updated_ms, owner, lease_until_ms, attempts, committed_lines, committed_bytes, counts_json, error_lines, transaction_time_ms, error_text, expires_ms";

    /// <summary>A negative cache_size is in KiB; a pragma takes no parameters, so the text is built once.</summary>
    private string SqliteCachePragma => field ??= $"PRAGMA cache_size = -{(sqliteCacheMegabytes * 1024L).ToString(CultureInfo.InvariantCulture)}";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task<ImportJob> CreateAsync(string jobId, ImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!ResourceIds.IsValid(jobId))
            throw new InvalidStorageRequestException($"'{jobId}' is not a valid job id.");
        var dialect = await Database.DialectAsync(cancellationToken);
        var now = NowMs;
        var sql = new SqlText(dialect);
        sql.Append($"INSERT INTO import_job ({JobColumns}) VALUES ({sql.P(jobId)}, {sql.P(StatusText(LeasedJobStatus.Queued))}, " +
                   $"{sql.P(JsonSerializer.Serialize(request, Json))}, {sql.P(now)}, {sql.P(now)}, NULL, NULL, 0, 0, 0, '[]', 0, NULL, NULL, NULL)");
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        await ExecuteAsync(sql, session.Connection, session.Transaction, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
        var created = FhirInstantRange.ToInstant(now);
        return new ImportJob(jobId, ImportJobStatus.Queued, request, created, created, null, null, 0, 0, 0, [], 0, null, null, null);
    }

    public Task<bool> RenewAsync(string jobId, string owner, TimeSpan lease, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(jobId, owner, (sql, now) => $"lease_until_ms = {sql.P(now + (long)lease.TotalMilliseconds)}", cancellationToken);

    public async Task<ImportJob?> CommitChunkAsync(string jobId, string owner, TimeSpan lease, ImportChunk chunk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var dialect = await Database.DialectAsync(cancellationToken);
        var resources = await Database.ResourcesAsync(cancellationToken);
        try
        {
            return await resources.TransactionAsync(async (tx, ct) =>
            {
                var writer = (WriteTransaction)tx;
                var session = await writer.SessionAsync(ct);
                if (sqliteCacheMegabytes > 0 && dialect is SqliteDialect)
                    await session.ExecuteAsync([new SqlStatement(SqliteCachePragma, [])], ct);
                var position = await LockPositionAsync(dialect, session, jobId, owner, ct);
                if (position is null || position.Value.Lines + 1 != chunk.FirstLine)
                    throw new ChunkNotThisOwnersException();
                var counts = position.Value.Counts.ToDictionary(c => c.Type, StringComparer.Ordinal);
                var unchanged = chunk.Unchanged ?? [];
                if (!await StillCurrentAsync(dialect, session, unchanged, ct))
                    throw new ImportChunkStaleException();
                foreach (var line in unchanged)
                {
                    var count = counts.GetValueOrDefault(line.Type) ?? new ImportTypeCount(line.Type, 0, 0, 0);
                    counts[line.Type] = count with { Unchanged = count.Unchanged + 1 };
                }
                foreach (var round in Rounds(chunk.Writes))
                {
                    var outcomes = postgresCopy && dialect is PostgresDialect
                        ? await PostgresCopyWriter.WriteAsync(session, dialect, writer.Clock, round, ct)
                        : [.. (await tx.WriteAsync(round, ct)).Select(Outcome)];
                    for (var i = 0; i < round.Count; i++)
                        counts[round[i].Resource.ResourceType] = Count(counts.GetValueOrDefault(round[i].Resource.ResourceType), round[i].Resource.ResourceType, outcomes[i]);
                }
                await RecordLineHashesAsync(dialect, session, chunk.LineHashes ?? [], ct);
                foreach (var errors in chunk.Errors.Chunk(ErrorsPerStatement))
                {
                    var insert = new SqlText(dialect);
                    insert.Append("INSERT INTO import_error (job_id, line_number, content) VALUES " +
                                  string.Join(", ", errors.Select(e => $"({insert.P(jobId)}, {insert.P(e.Line)}, {insert.P(e.OperationOutcomeJson)})")));
                    await ExecuteAsync(insert, session.Connection, session.Transaction, ct);
                }
                var now = NowMs;
                var update = new SqlText(dialect);
                var orderedCounts = counts.Values.OrderBy(c => c.Type, StringComparer.Ordinal).ToList();
                update.Append($"UPDATE import_job SET committed_lines = {update.P(chunk.LastLine)}, committed_bytes = {update.P(chunk.EndByte)}, " +
                              $"counts_json = {update.P(JsonSerializer.Serialize(orderedCounts, Json))}, error_lines = error_lines + {update.P((long)chunk.Errors.Count)}, " +
                              $"lease_until_ms = {update.P(now + (long)lease.TotalMilliseconds)}, updated_ms = {update.P(now)} " +
                              $"WHERE job_id = {update.P(jobId)} RETURNING {JobColumns}");
                await using var command = update.CreateCommand(session.Connection, session.Transaction);
                return (await ReadJobsAsync(command, ct)).Single();
            }, cancellationToken);
        }
        catch (ChunkNotThisOwnersException)
        {
            return null;
        }
    }

    public async Task<IReadOnlyDictionary<(string Type, string Id), long>> FindUnchangedAsync(IReadOnlyList<ImportLineHash> candidates,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var found = new Dictionary<(string, string), long>();
        if (candidates.Count == 0)
            return found;
        var dialect = await Database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        // One probe of the primary key per candidate, then of the version row by its key: one query whatever the count.
        var from = dialect is PostgresDialect
            ? $"unnest({sql.P(candidates.Select(c => c.Type).ToArray())}::text[], {sql.P(candidates.Select(c => c.Id).ToArray())}::text[], " +
              $"{sql.P(candidates.Select(c => c.Hash).ToArray())}::text[]) AS k(t, i, lh) " +
              "JOIN import_line_hash h ON h.resource_type = k.t AND h.resource_id = k.i AND h.line_hash = k.lh"
            : $"json_each({sql.P(JsonSerializer.Serialize(candidates.Select(c => new[] { c.Type, c.Id, c.Hash })))}) k CROSS JOIN import_line_hash h " +
              "ON h.resource_type = json_extract(k.value, '$[0]') AND h.resource_id = json_extract(k.value, '$[1]') AND h.line_hash = json_extract(k.value, '$[2]')";
        sql.Append($"SELECT h.resource_type, h.resource_id, h.version_key FROM {from} " +
                   "JOIN resource_version a ON a.version_key = h.version_key AND a.resource_type = h.resource_type AND a.resource_id = h.resource_id " +
                   "AND a.superseded_seq IS NULL AND a.is_deleted = 0");
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            found[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
        return found;
    }

    /// <summary>Whether every unchanged line's version is still current, checked under the chunk's write lock.</summary>
    private static async Task<bool> StillCurrentAsync(SqlDialect dialect, SqlBatchRunner session, IReadOnlyList<ImportUnchangedLine> unchanged, CancellationToken cancellationToken)
    {
        if (unchanged.Count == 0)
            return true;
        var keys = unchanged.Select(u => u.VersionKey).Distinct().ToList();
        var current = 0;
        await session.RunAsync([new SqlStatement(
            "SELECT count(*) FROM resource_version WHERE " + dialect.InList("version_key", "@p0") + " AND superseded_seq IS NULL AND is_deleted = 0",
            [dialect.ListValue(keys)])], row => current = Convert.ToInt32(row.GetValue(0), CultureInfo.InvariantCulture), cancellationToken);
        return current == keys.Count;
    }

    /// <summary>
    /// Records, per resource, the hash of the last accepted line of the chunk that named it and the version now current:
    /// the next import of the same line finds it with <see cref="FindUnchangedAsync"/>.
    /// </summary>
    private static async Task RecordLineHashesAsync(SqlDialect dialect, SqlBatchRunner session, IReadOnlyList<ImportLineHash> hashes, CancellationToken cancellationToken)
    {
        if (hashes.Count == 0)
            return;
        var last = new Dictionary<(string, string), string>(hashes.Count);
        foreach (var hash in hashes)
            last[(hash.Type, hash.Id)] = hash.Hash;
        var pairs = last.Keys.ToList();
        var keys = new Dictionary<(string, string), long>(pairs.Count);
        await session.RunAsync([new SqlStatement("SELECT a.version_key, a.resource_type, a.resource_id FROM " + dialect.CurrentVersionsFrom, dialect.PairValues(pairs))],
            row => keys[(row.GetString(1), row.GetString(2))] = row.GetInt64(0), cancellationToken);
        var rows = pairs.Where(keys.ContainsKey).ToList();
        var statements = new List<SqlStatement>();
        foreach (var batch in rows.Chunk(HashesPerStatement))
        {
            var values = new object?[batch.Length * 4];
            for (var r = 0; r < batch.Length; r++)
            {
                values[r * 4] = batch[r].Item1;
                values[r * 4 + 1] = batch[r].Item2;
                values[r * 4 + 2] = last[batch[r]];
                values[r * 4 + 3] = keys[batch[r]];
            }
            statements.Add(new SqlStatement(UpsertHashesText(batch.Length), values));
        }
        await session.ExecuteAsync(statements, cancellationToken);
    }

    private static string UpsertHashesText(int rows) => UpsertHashesTexts.GetOrAdd(rows, count =>
        "INSERT INTO import_line_hash (resource_type, resource_id, line_hash, version_key) VALUES " +
        string.Join(", ", Enumerable.Range(0, count).Select(r =>
            $"({SqlBatchRunner.ParameterName(r * 4)}, {SqlBatchRunner.ParameterName(r * 4 + 1)}, {SqlBatchRunner.ParameterName(r * 4 + 2)}, {SqlBatchRunner.ParameterName(r * 4 + 3)})")) +
        " ON CONFLICT (resource_type, resource_id) DO UPDATE SET line_hash = excluded.line_hash, version_key = excluded.version_key");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> UpsertHashesTexts = new();

    /// <summary>
    /// The writes split so that each resource appears at most once per batch (the batch contract): the n-th line naming
    /// a resource goes into the n-th batch, so batches run in order and the last line naming it is written last.
    /// </summary>
    private static List<List<PreparedWrite>> Rounds(IReadOnlyList<PreparedWrite> writes)
    {
        var rounds = new List<List<PreparedWrite>>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            var round = seen.TryGetValue(write.Resource.Reference, out var previous) ? previous + 1 : 0;
            seen[write.Resource.Reference] = round;
            if (round == rounds.Count)
                rounds.Add([]);
            rounds[round].Add(write);
        }
        return rounds;
    }

    private static ImportWriteOutcome Outcome(PreparedWriteResult result) => result switch
    {
        { Unchanged: true } => ImportWriteOutcome.Unchanged,
        { Created: true } => ImportWriteOutcome.Created,
        _ => ImportWriteOutcome.Updated,
    };

    private static ImportTypeCount Count(ImportTypeCount? count, string type, ImportWriteOutcome outcome)
    {
        count ??= new ImportTypeCount(type, 0, 0, 0);
        return outcome switch
        {
            ImportWriteOutcome.Unchanged => count with { Unchanged = count.Unchanged + 1 },
            ImportWriteOutcome.Created => count with { Created = count.Created + 1 },
            _ => count with { Updated = count.Updated + 1 },
        };
    }

    /// <summary>The job's committed position, if it is this owner's running job; locks its row (PostgreSQL) until commit.</summary>
    private async Task<(long Lines, IReadOnlyList<ImportTypeCount> Counts)?> LockPositionAsync(SqlDialect dialect, SqlBatchRunner session, string jobId, string owner,
        CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        var lockRow = dialect is PostgresDialect ? " FOR UPDATE" : "";
        sql.Append($"SELECT committed_lines, counts_json FROM import_job WHERE job_id = {sql.P(jobId)} AND owner = {sql.P(owner)} " +
                   $"AND status = {sql.P(StatusText(LeasedJobStatus.Running))}{lockRow}");
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        return (reader.GetInt64(0), DeserializeCounts(reader.GetString(1)));
    }

    /// <summary>The share of the stored versions a job must write for <see cref="RefreshStatisticsAsync"/> to analyze (autovacuum's default).</summary>
    internal const double StatisticsStaleFraction = 0.1;

    /// <summary>The tables an import writes rows into.</summary>
    internal static readonly IReadOnlyList<string> LoadedTables =
        ["resource_version", .. SchemaMigrator.IndexTables.Select(t => t.Table), .. SchemaMigrator.SortTables.Select(t => t.Table), "import_line_hash"];

    public async Task<bool> RefreshStatisticsAsync(long writtenResources, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        if (writtenResources <= 0 || dialect is not PostgresDialect)
            return false;
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using (var size = connection.CreateCommand())
        {
            // The row count as of the last ANALYZE or VACUUM (autovacuum's may have run part-way through this load); -1: never.
            size.CommandText = "SELECT reltuples FROM pg_class WHERE oid = 'resource_version'::regclass";
            var rows = Convert.ToDouble(await size.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (rows > 0 && writtenResources < rows * StatisticsStaleFraction)
                return false;
        }
        await using var analyze = connection.CreateCommand();
        // ANALYZE reads a bounded sample of each table (300 x the statistics target rows), seconds even at millions of rows.
        analyze.CommandText = "ANALYZE " + string.Join(", ", LoadedTables);
        analyze.CommandTimeout = 600;
        await analyze.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    public Task<bool> CompleteAsync(string jobId, string owner, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(jobId, owner, (sql, _) =>
            $"status = {sql.P(StatusText(LeasedJobStatus.Completed))}, " +
            "transaction_time_ms = (SELECT last_updated_ms FROM fhir_clock WHERE id = 1), " +
            $"expires_ms = {sql.P(expiresAt.ToUnixTimeMilliseconds())}, lease_until_ms = NULL",
            cancellationToken);

    public async IAsyncEnumerable<ImportLineError> ReadErrorsAsync(string jobId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var after = 0L;
        while (true)
        {
            // A fresh query per batch: no connection is held while the caller sends the lines.
            var sql = new SqlText(dialect);
            sql.Append($"SELECT line_number, content FROM import_error WHERE job_id = {sql.P(jobId)} AND line_number > {sql.P(after)} " +
                       $"ORDER BY line_number LIMIT {ErrorReadBatch.ToString(CultureInfo.InvariantCulture)}");
            var batch = new List<ImportLineError>();
            await using (var connection = await dialect.OpenAsync(cancellationToken))
            await using (var command = sql.CreateCommand(connection, null))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                    batch.Add(new ImportLineError(reader.GetInt64(0), reader.GetString(1)));
            }
            foreach (var error in batch)
                yield return error;
            if (batch.Count < ErrorReadBatch)
                yield break;
            after = batch[^1].Line;
        }
    }

    protected override ImportJob ReadJob(DbDataReader reader) =>
        new(reader.GetString(0),
            Enum.Parse<ImportJobStatus>(reader.GetString(1), ignoreCase: true),
            JsonSerializer.Deserialize<ImportRequest>(reader.GetString(2), Json)
                ?? throw new InvalidOperationException("An import job's request_json is empty."),
            FhirInstantRange.ToInstant(reader.GetInt64(3)),
            FhirInstantRange.ToInstant(reader.GetInt64(4)),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : FhirInstantRange.ToInstant(reader.GetInt64(6)),
            reader.GetInt32(7),
            reader.GetInt64(8),
            reader.GetInt64(9),
            DeserializeCounts(reader.GetString(10)),
            reader.GetInt64(11),
            reader.IsDBNull(12) ? null : FhirInstantRange.ToInstant(reader.GetInt64(12)),
            reader.IsDBNull(13) ? null : reader.GetString(13),
            reader.IsDBNull(14) ? null : FhirInstantRange.ToInstant(reader.GetInt64(14)));

    private static IReadOnlyList<ImportTypeCount> DeserializeCounts(string json) =>
        JsonSerializer.Deserialize<List<ImportTypeCount>>(json, Json) ?? [];

    /// <summary>Rolls back a chunk's transaction when the job turned out not to be this owner's (or not at the chunk's start).</summary>
    private sealed class ChunkNotThisOwnersException : Exception;
}
