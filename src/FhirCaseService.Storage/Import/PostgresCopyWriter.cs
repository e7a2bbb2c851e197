using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace FhirCaseService.Storage.Import;

/// <summary>What one import write did: the three counts of a type in the manifest.</summary>
internal enum ImportWriteOutcome
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>
/// A bulk import chunk's writes on PostgreSQL through binary COPY instead of multi-row INSERTs: the version rows go out
/// in one <c>COPY resource_version</c> and the search index rows in one COPY per index table, in the chunk's own
/// transaction (COPY runs on the transaction's connection), so a chunk still commits with the job's position or not at
/// all and resume after a restart cannot duplicate rows. The rules are those of <c>WriteTransaction.WriteAsync</c> for
/// the two kinds an import makes: an update (update-as-create) with <see cref="PreparedWrite.KeepUnchanged"/> writes
/// nothing when the current version holds the same content; a create refuses an id in use. Version keys are the
/// identity column's: COPY leaves them to the table, and one indexed query reads them back by (type, id) before the
/// index rows are copied. Each resource at most once per call (the import splits its writes into rounds).
/// </summary>
internal static class PostgresCopyWriter
{
    private const string VersionCopy =
        "COPY resource_version (resource_type, resource_id, version_id, change_seq, last_updated_ms, is_deleted, content, content_hash) FROM STDIN (FORMAT BINARY)";

    public static async Task<ImportWriteOutcome[]> WriteAsync(SqlBatchRunner session, SqlDialect dialect, ChangeMark clock, IReadOnlyList<PreparedWrite> writes,
        CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)session.Connection;
        var outcomes = new ImportWriteOutcome[writes.Count];
        if (writes.Count == 0)
            return outcomes;
        if (writes.Any(w => w.IfMatchVersion is not null))
            throw new ArgumentException("An import write has no If-Match.", nameof(writes));
        var targets = WriteTransaction.DistinctTargets(writes);

        var current = await CurrentVersionsAsync(session, dialect, targets, cancellationToken);
        var superseded = new List<long>();
        var versions = new List<(PreparedResource Prepared, int VersionId)>(writes.Count);
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            var prepared = write.Resource;
            var existing = current.GetValueOrDefault((prepared.ResourceType, prepared.Id));
            if (write.Kind == PreparedWriteKind.Create && existing is not null)
                throw new ResourceAlreadyExistsException(prepared.ResourceType, prepared.Id);
            if (write.Kind == PreparedWriteKind.Update && write.KeepUnchanged && existing is { IsDeleted: false } && existing.ContentHash == prepared.ContentHash)
            {
                outcomes[i] = ImportWriteOutcome.Unchanged;
                continue;
            }
            if (existing is not null)
                superseded.Add(existing.Key);
            outcomes[i] = existing is null || existing.IsDeleted ? ImportWriteOutcome.Created : ImportWriteOutcome.Updated;
            versions.Add((prepared, (existing?.VersionId ?? 0) + 1));
        }
        if (superseded.Count > 0)
            await session.ExecuteAsync([new SqlStatement(
                "UPDATE resource_version SET superseded_seq = @p0 WHERE " + dialect.InList("version_key", "@p1") + " AND superseded_seq IS NULL",
                [clock.Sequence, dialect.ListValue(superseded)])], cancellationToken);
        if (versions.Count == 0)
            return outcomes;

        await CopyVersionsAsync(connection, clock, versions, cancellationToken);
        var keys = await NewKeysAsync(session, dialect, versions, cancellationToken);
        await CopyIndexRowsAsync(connection, versions, keys, cancellationToken);
        return outcomes;
    }

    private sealed record CurrentVersion(long Key, int VersionId, bool IsDeleted, string? ContentHash);

    private static async Task<Dictionary<(string Type, string Id), CurrentVersion>> CurrentVersionsAsync(SqlBatchRunner session, SqlDialect dialect,
        IReadOnlyList<(string Type, string Id)> targets, CancellationToken cancellationToken)
    {
        var current = new Dictionary<(string, string), CurrentVersion>(targets.Count);
        await session.RunAsync([new SqlStatement(
            "SELECT a.version_key, a.resource_type, a.resource_id, a.version_id, a.is_deleted, a.content_hash, CASE WHEN a.content_hash IS NULL THEN a.content END FROM " +
            dialect.CurrentVersionsFrom, dialect.PairValues(targets))], row =>
        {
            var deleted = Convert.ToInt32(row.GetValue(4), CultureInfo.InvariantCulture) != 0;
            // A version stored before content hashes were kept (schema v3) is hashed from its stored JSON, as a write does.
            var hash = !row.IsDBNull(5) ? row.GetString(5) : !row.IsDBNull(6) ? StoredJson.HashOfStored(row.GetString(6)) : null;
            current[(row.GetString(1), row.GetString(2))] = new CurrentVersion(row.GetInt64(0), row.GetInt32(3), deleted, deleted ? null : hash);
        }, cancellationToken);
        return current;
    }

    private static async Task CopyVersionsAsync(NpgsqlConnection connection, ChangeMark clock, List<(PreparedResource Prepared, int VersionId)> versions,
        CancellationToken cancellationToken)
    {
        var lastUpdatedText = StoredJson.FormatLastUpdated(clock.LastUpdated);
        var lastUpdatedMs = clock.LastUpdated.ToUnixTimeMilliseconds();
        await using var copy = await connection.BeginBinaryImportAsync(VersionCopy, cancellationToken);
        // Values are written synchronously: they go into the importer's buffer, which is sent when full (a local
        // socket write); an awaited call per value cost more CPU than the rows (a state machine and continuation each).
        foreach (var (prepared, versionId) in versions)
        {
            copy.StartRow();
            copy.Write(prepared.ResourceType, NpgsqlDbType.Text);
            copy.Write(prepared.Id, NpgsqlDbType.Text);
            copy.Write(versionId, NpgsqlDbType.Integer);
            copy.Write(clock.Sequence, NpgsqlDbType.Bigint);
            copy.Write(lastUpdatedMs, NpgsqlDbType.Bigint);
            copy.Write((short)0, NpgsqlDbType.Smallint);
            copy.Write(prepared.Json.Fill(versionId.ToString(CultureInfo.InvariantCulture), lastUpdatedText), NpgsqlDbType.Text);
            copy.Write(prepared.ContentHash, NpgsqlDbType.Text);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>The version keys the table gave the new versions: they are now the current versions of their resources.</summary>
    private static async Task<Dictionary<(string, string), long>> NewKeysAsync(SqlBatchRunner session, SqlDialect dialect,
        List<(PreparedResource Prepared, int VersionId)> versions, CancellationToken cancellationToken)
    {
        var keys = new Dictionary<(string, string), long>(versions.Count);
        await session.RunAsync([new SqlStatement("SELECT a.version_key, a.resource_type, a.resource_id FROM " + dialect.CurrentVersionsFrom,
            dialect.PairValues([.. versions.Select(v => (v.Prepared.ResourceType, v.Prepared.Id))]))],
            row => keys[(row.GetString(1), row.GetString(2))] = row.GetInt64(0), cancellationToken);
        if (keys.Count != versions.Count)
            throw new InvalidOperationException($"COPY stored {versions.Count} versions but {keys.Count} are current.");
        return keys;
    }

    /// <summary>One COPY per index table that has rows; the column order is the schema's (<see cref="SchemaMigrator.IndexColumnNames"/>).</summary>
    private static async Task CopyIndexRowsAsync(NpgsqlConnection connection, List<(PreparedResource Prepared, int VersionId)> versions,
        Dictionary<(string, string), long> keys, CancellationToken cancellationToken)
    {
        var rows = versions.Select(v => (Key: keys[(v.Prepared.ResourceType, v.Prepared.Id)], v.Prepared.ResourceType, v.Prepared.Id, v.Prepared.Index)).ToList();
        await CopyAsync(connection, "idx_token", rows, i => i.Tokens, (copy, e) =>
        {
            Text(copy, e.Param);
            Text(copy, e.System);
            Text(copy, e.Code);
            Text(copy, e.Text);
        }, cancellationToken);
        await CopyAsync(connection, "idx_string", rows, i => i.Strings, (copy, e) =>
        {
            Text(copy, e.Param);
            Text(copy, e.Normalized);
            Text(copy, e.Exact);
        }, cancellationToken);
        await CopyAsync(connection, "idx_date", rows, i => i.Dates, (copy, e) =>
        {
            Text(copy, e.Param);
            copy.Write(e.Low, NpgsqlDbType.Bigint);
            copy.Write(e.High, NpgsqlDbType.Bigint);
        }, cancellationToken);
        await CopyAsync(connection, "idx_reference", rows, i => i.References, (copy, e) =>
        {
            Text(copy, e.Param);
            Text(copy, e.TargetType);
            Text(copy, e.TargetId);
            Text(copy, e.Url);
        }, cancellationToken);
        await CopyAsync(connection, "idx_quantity", rows, i => i.Quantities, (copy, e) =>
        {
            Text(copy, e.Param);
            copy.Write(e.Value, NpgsqlDbType.Numeric);
            Text(copy, e.System);
            Text(copy, e.Code);
        }, cancellationToken);
        await CopyAsync(connection, "idx_number", rows, i => i.Numbers, (copy, e) =>
        {
            Text(copy, e.Param);
            copy.Write(e.Value, NpgsqlDbType.Numeric);
        }, cancellationToken);
        await CopyAsync(connection, "idx_uri", rows, i => i.Uris, (copy, e) =>
        {
            Text(copy, e.Param);
            Text(copy, e.Uri);
        }, cancellationToken);
        // The sort-key tables (schema v6) carry the resource id beside the key, so a sorted page walks them in order.
        await CopyAsync(connection, "sort_date", rows, i => i.DateSortKeys, (copy, e, id) =>
        {
            Text(copy, e.Param);
            Text(copy, id);
            copy.Write(e.Min, NpgsqlDbType.Bigint);
            copy.Write(e.Max, NpgsqlDbType.Bigint);
        }, cancellationToken);
        await CopyAsync(connection, "sort_text", rows, i => i.TextSortKeys, (copy, e, id) =>
        {
            Text(copy, e.Param);
            Text(copy, id);
            Text(copy, e.Min);
            Text(copy, e.Max);
        }, cancellationToken);
    }

    private static Task CopyAsync<TEntry>(NpgsqlConnection connection, string table, List<(long Key, string ResourceType, string Id, IndexEntries Index)> rows,
        Func<IndexEntries, List<TEntry>> entries, Action<NpgsqlBinaryImporter, TEntry> writeColumns, CancellationToken cancellationToken) =>
        CopyAsync(connection, table, rows, entries, (copy, entry, _) => writeColumns(copy, entry), cancellationToken);

    /// <param name="writeColumns">writes an entry's value columns (after version_key and resource_type); it is given the resource id too.</param>
    private static async Task CopyAsync<TEntry>(NpgsqlConnection connection, string table, List<(long Key, string ResourceType, string Id, IndexEntries Index)> rows,
        Func<IndexEntries, List<TEntry>> entries, Action<NpgsqlBinaryImporter, TEntry, string> writeColumns, CancellationToken cancellationToken)
    {
        if (!rows.Any(r => entries(r.Index).Count > 0))
            return;
        await using var copy = await connection.BeginBinaryImportAsync(
            $"COPY {table} (version_key, resource_type, param, {SchemaMigrator.IndexColumnNames[table]}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var (key, type, id, index) in rows)
            foreach (var entry in entries(index))
            {
                copy.StartRow();
                copy.Write(key, NpgsqlDbType.Bigint);
                copy.Write(type, NpgsqlDbType.Text);
                writeColumns(copy, entry, id);
            }
        await copy.CompleteAsync(cancellationToken);
    }

    private static void Text(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
            copy.WriteNull();
        else
            copy.Write(value, NpgsqlDbType.Text);
    }
}
