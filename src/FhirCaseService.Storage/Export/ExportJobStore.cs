using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Jobs;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Export;

/// <summary>
/// <see cref="IExportJobStore"/> over the process's <see cref="StorageDatabase"/>: the shared lease machinery of
/// <see cref="LeasedJobStore{TJob}"/> over <c>export_job</c>, with the job's members, its checkpoint and its files in the
/// database. Reading rows never holds a connection between batches.
/// </summary>
internal sealed class ExportJobStore(StorageDatabase database, TimeProvider? time = null, int batchSize = ExportJobStore.DefaultBatchSize,
    int drivingMembersLimit = ExportRowQuery.DefaultDrivingMembersLimit)
    : LeasedJobStore<ExportJob>(database, time, "export_job", JobColumns, "export_file", "export_member"), IExportJobStore
{
    public const int DefaultBatchSize = 1000;

    /// <summary>Member rows per INSERT: few round trips for a large group, well under both engines' parameter limits.</summary>
    private const int MembersPerInsert = 500;

    private const string JobColumns =
        "job_id, status, request_json, transaction_seq, transaction_time_ms, created_ms, updated_ms, owner, lease_until_ms, attempts, progress_json, result_json, error_text, expires_ms";

    private static readonly JsonSerializerOptions RequestJson = new() { Converters = { new JsonStringEnumConverter() } };

    public async Task<ExportJob> CreateAsync(ExportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var dialect = await Database.DialectAsync(cancellationToken);
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        var (sequence, lastUpdatedMs) = await CurrentChangeAsync(session, cancellationToken);
        var members = request.Level switch
        {
            ExportLevel.Group => await GroupMembersAtAsync(dialect, session, request.GroupId, sequence, cancellationToken),
            ExportLevel.Patient when request.PatientIds.Count > 0 => request.PatientIds.Distinct(StringComparer.Ordinal).ToList(),
            _ => [],
        };
        if (request.Level == ExportLevel.Group && request.PatientIds.Count > 0)
        {
            var asked = request.PatientIds.ToHashSet(StringComparer.Ordinal);
            members = members.Where(asked.Contains).ToList();
        }

        var id = ResourceStore.CreateId();
        var now = NowMs;
        var insert = new SqlText(dialect);
        insert.Append($"INSERT INTO export_job ({JobColumns}) VALUES ({insert.P(id)}, {insert.P(StatusText(LeasedJobStatus.Queued))}, " +
                      $"{insert.P(JsonSerializer.Serialize(request, RequestJson))}, {insert.P(sequence)}, {insert.P(lastUpdatedMs)}, {insert.P(now)}, {insert.P(now)}, " +
                      "NULL, NULL, 0, NULL, NULL, NULL, NULL)");
        await ExecuteAsync(insert, session.Connection, session.Transaction, cancellationToken);
        foreach (var chunk in members.Chunk(MembersPerInsert))
        {
            var rows = new SqlText(dialect);
            rows.Append("INSERT INTO export_member (job_id, patient_id) VALUES " + string.Join(", ", chunk.Select(m => $"({rows.P(id)}, {rows.P(m)})")));
            await ExecuteAsync(rows, session.Connection, session.Transaction, cancellationToken);
        }
        await session.Transaction.CommitAsync(cancellationToken);
        var created = FhirInstantRange.ToInstant(now);
        return new ExportJob(id, ExportJobStatus.Queued, request, new ChangeMark(sequence, FhirInstantRange.ToInstant(lastUpdatedMs)),
            created, created, null, null, 0, null, null, null, null);
    }

    public Task<bool> RenewAsync(string jobId, string owner, TimeSpan lease, string? progressJson, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(jobId, owner, (sql, now) =>
            $"lease_until_ms = {sql.P(now + (long)lease.TotalMilliseconds)}, progress_json = COALESCE({sql.P(progressJson)}, progress_json)",
            cancellationToken);

    public Task<bool> CompleteAsync(string jobId, string owner, string resultJson, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(jobId, owner, (sql, _) =>
            $"status = {sql.P(StatusText(LeasedJobStatus.Completed))}, result_json = {sql.P(resultJson)}, " +
            $"expires_ms = {sql.P(expiresAt.ToUnixTimeMilliseconds())}, lease_until_ms = NULL",
            cancellationToken);

    public async IAsyncEnumerable<ExportRow> ReadAsync(ExportJob job, string resourceType, long afterKey,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var dialect = await Database.DialectAsync(cancellationToken);
        var filters = ExportTypeFilter.For(job.Request.TypeFilters, resourceType);
        var driveFromMembers = ExportRowQuery.HasMembers(job.Request) && await MemberCountAsync(dialect, job.Id, cancellationToken) <= drivingMembersLimit;
        var after = afterKey;
        if (job.Request.Since is { } since)
        {
            var first = await FirstChangedKeyAsync(dialect, resourceType, since, cancellationToken);
            if (first is null)
                yield break;
            after = Math.Max(after, first.Value - 1);
        }
        while (true)
        {
            // A fresh connection and query per batch: nothing is held while the caller writes the rows out.
            var batch = await ReadBatchAsync(dialect, job, resourceType, filters, after, driveFromMembers, cancellationToken);
            foreach (var row in batch)
                yield return row;
            if (batch.Count < batchSize)
                yield break;
            after = batch[^1].Key;
        }
    }

    public async Task WriteFileChunkAsync(string jobId, string fileName, int chunkIndex, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        // Writing a chunk again (a resumed runner repeating its last write) replaces it instead of failing.
        sql.Append($"INSERT INTO export_file (job_id, file_name, chunk_index, content) VALUES ({sql.P(jobId)}, {sql.P(fileName)}, {sql.P(chunkIndex)}, {sql.P(content.ToArray())}) " +
                   "ON CONFLICT (job_id, file_name, chunk_index) DO UPDATE SET content = excluded.content");
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        await ExecuteAsync(sql, session.Connection, session.Transaction, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
    }

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadFileAsync(string jobId, string fileName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var after = -1;
        while (true)
        {
            // One chunk per query: memory holds one chunk whatever the file's size, and no reader stays open while the
            // caller sends it.
            var sql = new SqlText(dialect);
            sql.Append($"SELECT chunk_index, content FROM export_file WHERE job_id = {sql.P(jobId)} AND file_name = {sql.P(fileName)} " +
                       $"AND chunk_index > {sql.P(after)} ORDER BY chunk_index LIMIT 1");
            byte[] content;
            await using (var connection = await dialect.OpenAsync(cancellationToken))
            await using (var command = sql.CreateCommand(connection, null))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                if (!await reader.ReadAsync(cancellationToken))
                    yield break;
                after = reader.GetInt32(0);
                content = reader.GetFieldValue<byte[]>(1);
            }
            yield return content;
        }
    }

    public async Task TruncateFileAsync(string jobId, string fileName, int fromChunkIndex, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append($"DELETE FROM export_file WHERE job_id = {sql.P(jobId)} AND file_name = {sql.P(fileName)} AND chunk_index >= {sql.P(fromChunkIndex)}");
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        await ExecuteAsync(sql, session.Connection, session.Transaction, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
    }

    private static async Task<(long Sequence, long LastUpdatedMs)> CurrentChangeAsync(WriteSession session, CancellationToken cancellationToken)
    {
        await using var command = session.Connection.CreateCommand();
        command.Transaction = session.Transaction;
        command.CommandText = "SELECT change_seq, last_updated_ms FROM fhir_clock WHERE id = 1";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            throw new InvalidOperationException("The fhir_clock row is missing: the schema was not created by this service.");
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The member patients of the Group's version visible at <paramref name="snapshot"/>.</summary>
    private static async Task<List<string>> GroupMembersAtAsync(SqlDialect dialect, WriteSession session, string? groupId, long snapshot, CancellationToken cancellationToken)
    {
        if (!ResourceIds.IsValid(groupId))
            throw new ExportGroupNotFoundException(groupId ?? "");
        var sql = new SqlText(dialect);
        sql.Append($"SELECT a.content FROM resource_version a WHERE a.resource_type = 'Group' AND a.resource_id = {sql.P(groupId)} " +
                   $"AND {new SearchSql(sql).Visible("a", snapshot)}");
        await using var command = sql.CreateCommand(session.Connection, session.Transaction);
        if (await command.ExecuteScalarAsync(cancellationToken) is not string json)
            throw new ExportGroupNotFoundException(groupId!);
        return GroupMembers.PatientIds(json).ToList();
    }

    private static async Task<int> MemberCountAsync(SqlDialect dialect, string jobId, CancellationToken cancellationToken)
    {
        var sql = new SqlText(dialect);
        sql.Append($"SELECT COUNT(*) FROM export_member WHERE job_id = {sql.P(jobId)}");
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static async Task<long?> FirstChangedKeyAsync(SqlDialect dialect, string resourceType, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var sql = ExportRowQuery.FirstChangedKey(dialect, resourceType, since);
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private async Task<List<ExportRow>> ReadBatchAsync(SqlDialect dialect, ExportJob job, string resourceType, IReadOnlyList<SearchQuery> filters,
        long after, bool driveFromMembers, CancellationToken cancellationToken)
    {
        var sql = ExportRowQuery.Build(dialect, job, resourceType, filters, after, batchSize, driveFromMembers);
        var rows = new List<ExportRow>(Math.Min(batchSize, 1024));
        await using var connection = await dialect.OpenAsync(cancellationToken);
        if (dialect is PostgresDialect)
        {
            // The per-row subqueries make the planner's cost estimate large enough to JIT-compile every batch: measured
            // 150-300 ms of compilation for a query that runs in 10-30 ms.
            await using var noJit = connection.CreateCommand();
            noJit.CommandText = "SET jit = off";
            await noJit.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = sql.CreateCommand(connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var deleted = Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture) != 0;
            rows.Add(new ExportRow(reader.GetInt64(0), resourceType, reader.GetString(1), reader.GetInt32(2),
                FhirInstantRange.ToInstant(reader.GetInt64(3)), deleted, deleted || reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
        return rows;
    }

    protected override ExportJob ReadJob(DbDataReader reader) =>
        new(reader.GetString(0),
            ParseStatus(reader.GetString(1)),
            JsonSerializer.Deserialize<ExportRequest>(reader.GetString(2), RequestJson)
                ?? throw new InvalidOperationException("An export job's request_json is empty."),
            new ChangeMark(reader.GetInt64(3), FhirInstantRange.ToInstant(reader.GetInt64(4))),
            FhirInstantRange.ToInstant(reader.GetInt64(5)),
            FhirInstantRange.ToInstant(reader.GetInt64(6)),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : FhirInstantRange.ToInstant(reader.GetInt64(8)),
            reader.GetInt32(9),
            reader.IsDBNull(10) ? null : reader.GetString(10),
            reader.IsDBNull(11) ? null : reader.GetString(11),
            reader.IsDBNull(12) ? null : reader.GetString(12),
            reader.IsDBNull(13) ? null : FhirInstantRange.ToInstant(reader.GetInt64(13)));

    private static ExportJobStatus ParseStatus(string text) => Enum.Parse<ExportJobStatus>(text, ignoreCase: true);
}
