using System.Data.Common;
using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Audit;

/// <summary>
/// <see cref="IAuditStore"/> over the tables audit_event and audit_entity (schema v2), which the database keeps
/// append-only by triggers. On SQLite a batch joins the next commit group of the resource writer
/// (<see cref="GroupCommitter.RunSideWriteAsync"/>): the file has one write lock, so a transaction of its own only queued
/// behind (and held up) the resource writes and paid a second sync of the log; in the group it is durable with the same
/// commit, takes no change sequence, and is still answered only after that commit. On PostgreSQL a batch is one write
/// transaction of its own: it does not take the clock row, so it never delays resource writes there.
/// </summary>
internal sealed class AuditStore(StorageDatabase database) : IAuditStore
{
    /// <summary>The largest page a search returns, whatever the caller asks.</summary>
    public const int MaxCount = 1000;

    private const string Columns = "e.audit_seq, e.event_id, e.recorded_ms, e.client_id, e.action, e.subtype, e.entity_type, e.entity_id, e.outcome, e.content";

    public async Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken = default)
    {
        if (records.Count == 0)
            return;
        var dialect = await database.DialectAsync(cancellationToken);
        if (dialect is SqliteDialect)
        {
            var resources = await database.ResourceStoreAsync(cancellationToken);
            await resources.RunSideWriteAsync((sql, ct) => InsertAsync(dialect, sql.Connection, sql.Transaction, records, ct), cancellationToken);
            return;
        }
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        if (dialect is PostgresDialect)
            await new SqlBatchRunner(session.Connection, session.Transaction, dialect, null).ExecuteAsync([ArrayInsert(records)], cancellationToken);
        else
            await InsertAsync(dialect, session.Connection, session.Transaction, records, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// PostgreSQL: a batch's events and all their entity rows in ONE statement of column arrays, one fixed text (kept
    /// prepared), whatever the batch's size: the events go in in their order (so audit_seq follows it) and each entity
    /// row finds its event's new audit_seq by the event id, which is unique. One round trip instead of one per event
    /// and one per entity (a 19-entry transaction's event has 20 entities).
    /// </summary>
    private static SqlStatement ArrayInsert(IReadOnlyList<AuditRecord> records)
    {
        var entityEvents = new List<string>();
        var entityTypes = new List<string>();
        var entityIds = new List<string?>();
        foreach (var record in records)
            foreach (var entity in EntitiesOf(record))
            {
                entityEvents.Add(record.EventId);
                entityTypes.Add(entity.Type);
                entityIds.Add(entity.Id);
            }
        return new SqlStatement(
            "WITH e AS (INSERT INTO audit_event (event_id, recorded_ms, client_id, action, subtype, entity_type, entity_id, outcome, content) " +
            "SELECT * FROM unnest(@p0::text[], @p1::bigint[], @p2::text[], @p3::text[], @p4::text[], @p5::text[], @p6::text[], @p7::text[], @p8::text[]) " +
            "RETURNING audit_seq, event_id) " +
            "INSERT INTO audit_entity (audit_seq, entity_type, entity_id) SELECT e.audit_seq, x.t, x.i " +
            "FROM unnest(@p9::text[], @p10::text[], @p11::text[]) WITH ORDINALITY AS x(ev, t, i, n) JOIN e ON e.event_id = x.ev ORDER BY x.n",
            [
                records.Select(r => r.EventId).ToArray(), records.Select(r => r.Recorded.ToUnixTimeMilliseconds()).ToArray(),
                records.Select(r => r.ClientId).ToArray(), records.Select(r => r.Action).ToArray(), records.Select(r => r.Subtype).ToArray(),
                records.Select(r => r.EntityType).ToArray(), records.Select(r => r.EntityId).ToArray(), records.Select(r => r.Outcome).ToArray(),
                records.Select(r => r.Json).ToArray(),
                entityEvents.ToArray(), entityTypes.ToArray(), entityIds.ToArray(),
            ]);
    }

    private static async Task InsertAsync(SqlDialect dialect, DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            var insert = new SqlText(dialect);
            insert.Append("INSERT INTO audit_event (event_id, recorded_ms, client_id, action, subtype, entity_type, entity_id, outcome, content) VALUES (")
                .Append($"{insert.P(record.EventId)}, {insert.P(record.Recorded.ToUnixTimeMilliseconds())}, {insert.P(record.ClientId)}, ")
                .Append($"{insert.P(record.Action)}, {insert.P(record.Subtype)}, {insert.P(record.EntityType)}, {insert.P(record.EntityId)}, ")
                .Append($"{insert.P(record.Outcome)}, {insert.P(record.Json)}) RETURNING audit_seq");
            long sequence;
            await using (var command = insert.CreateCommand(connection, transaction))
                sequence = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);

            foreach (var entity in EntitiesOf(record))
            {
                var row = new SqlText(dialect);
                row.Append($"INSERT INTO audit_entity (audit_seq, entity_type, entity_id) VALUES ({row.P(sequence)}, {row.P(entity.Type)}, {row.P(entity.Id)})");
                await using var command = row.CreateCommand(connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    /// <summary>The main entity and the others, each once.</summary>
    private static IEnumerable<AuditEntityRef> EntitiesOf(AuditRecord record)
    {
        var all = new List<AuditEntityRef>();
        if (record.EntityType is not null)
            all.Add(new AuditEntityRef(record.EntityType, record.EntityId));
        if (record.Entities is not null)
            all.AddRange(record.Entities);
        return all.Distinct();
    }

    public async Task<AuditRecord?> ReadAsync(string eventId, CancellationToken cancellationToken = default)
    {
        var dialect = await database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append($"SELECT {Columns} FROM audit_event e WHERE e.event_id = {sql.P(eventId)}");
        var rows = await QueryAsync(dialect, sql, cancellationToken);
        return rows.Count == 0 ? null : rows[0].Record;
    }

    public async Task<AuditPage> SearchAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        if (query.EntityId is not null && query.EntityType is null)
            throw new InvalidStorageRequestException("An audit search by entity id needs the entity's type too.");
        var count = Math.Clamp(query.Count, 1, MaxCount);
        var dialect = await database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append($"SELECT {Columns} FROM audit_event e WHERE 1 = 1");
        if (query.RecordedFrom is { } from)
            sql.Append($" AND e.recorded_ms >= {sql.P(from.ToUnixTimeMilliseconds())}");
        if (query.RecordedTo is { } to)
            sql.Append($" AND e.recorded_ms < {sql.P(to.ToUnixTimeMilliseconds())}");
        if (query.ClientId is not null)
            sql.Append($" AND e.client_id = {sql.P(query.ClientId)}");
        if (query.Action is not null)
            sql.Append($" AND e.action = {sql.P(query.Action)}");
        if (query.Subtype is not null)
            sql.Append($" AND e.subtype = {sql.P(query.Subtype)}");
        if (query.Outcome is not null)
            sql.Append($" AND e.outcome = {sql.P(query.Outcome)}");
        if (query.EntityType is not null)
        {
            sql.Append($" AND EXISTS (SELECT 1 FROM audit_entity x WHERE x.audit_seq = e.audit_seq AND x.entity_type = {sql.P(query.EntityType)}");
            if (query.EntityId is not null)
                sql.Append($" AND x.entity_id = {sql.P(query.EntityId)}");
            sql.Append(")");
        }
        if (query.BeforeSequence is { } before)
            sql.Append($" AND e.audit_seq < {sql.P(before)}");
        // One more than a page tells whether there is a next page without counting.
        sql.Append($" ORDER BY e.audit_seq DESC LIMIT {sql.P(count + 1)}");

        var rows = await QueryAsync(dialect, sql, cancellationToken);
        var page = rows.Take(count).ToList();
        return new AuditPage([.. page.Select(r => r.Record)], rows.Count > count ? page[^1].Sequence : null);
    }

    private static async Task<List<(long Sequence, AuditRecord Record)>> QueryAsync(SqlDialect dialect, SqlText sql, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(long, AuditRecord)>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add((reader.GetInt64(0), new AuditRecord(
                reader.GetString(1),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                NullableString(reader, 3),
                reader.GetString(4),
                reader.GetString(5),
                NullableString(reader, 6),
                NullableString(reader, 7),
                reader.GetString(8),
                reader.GetString(9))));
        return rows;
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
