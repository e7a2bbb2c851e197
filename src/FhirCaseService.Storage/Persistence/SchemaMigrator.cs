using System.Data.Common;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// Creates or upgrades the schema on start. Each migration runs once, in order, recorded in schema_version; running
/// again (or from a second replica, after the dialect's migration lock) finds nothing to do.
/// </summary>
internal static class SchemaMigrator
{
    /// <summary>The index tables: name, value columns (after version_key, resource_type, param) and the search index.</summary>
    internal static readonly (string Table, string Columns, string SearchIndex)[] IndexTables =
    [
        ("idx_token", "system {text} NULL, code {text} NULL, text_norm {text} NULL", "resource_type, param, code, system"),
        ("idx_string", "value_norm {text} NOT NULL, value_exact {text} NOT NULL", "resource_type, param, value_norm"),
        ("idx_date", "low_ms bigint NOT NULL, high_ms bigint NOT NULL", "resource_type, param, low_ms, high_ms"),
        ("idx_reference", "target_type {text} NULL, target_id {text} NULL, url {text} NULL", "target_id, target_type, param"),
        ("idx_quantity", "value {decimal} NOT NULL, system {text} NULL, code {text} NULL", "resource_type, param, value"),
        ("idx_number", "value {decimal} NOT NULL", "resource_type, param, value"),
        ("idx_uri", "uri {text} NOT NULL", "resource_type, param, uri"),
    ];

    /// <summary>
    /// The sort-key tables (v6): one row per version and sortable parameter with a value, holding the version's resource
    /// id and its least (ascending) and greatest (descending) value, so a sorted page walks an index in order and stops
    /// after the page instead of computing and sorting the key of every match (docs/storage.md, "Sorted pages").
    /// </summary>
    internal static readonly (string Table, string Columns)[] SortTables =
    [
        ("sort_date", "resource_id {text} NOT NULL, min_ms bigint NOT NULL, max_ms bigint NOT NULL"),
        ("sort_text", "resource_id {text} NOT NULL, min_text {text} NOT NULL, max_text {text} NOT NULL"),
    ];

    /// <summary>
    /// The value column names (after version_key, resource_type, param) of each index and sort-key table, in the order
    /// of their definitions: the write path inserts rows in this order.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string> IndexColumnNames = IndexTables.Select(t => (t.Table, t.Columns)).Concat(SortTables)
        .ToDictionary(t => t.Table, t => string.Join(", ", t.Columns.Split(',').Select(c => c.Trim().Split(' ')[0])), StringComparer.Ordinal);

    /// <summary>
    /// The sort-key rows of every stored version, computed from its index rows: what the v6 migration fills the
    /// sort-key tables with, and equal to what the writer inserts (<see cref="Indexing.IndexEntries.ComputeSortKeys"/>).
    /// Columns in <see cref="IndexColumnNames"/> order after version_key, resource_type, param.
    /// </summary>
    internal static readonly (string Table, string Select)[] SortKeyFills =
    [
        ("sort_date", "SELECT d.version_key, d.resource_type, d.param, v.resource_id, MIN(d.low_ms), MAX(d.high_ms) FROM idx_date d " +
                      "JOIN resource_version v ON v.version_key = d.version_key GROUP BY d.version_key, d.resource_type, d.param, v.resource_id"),
        ("sort_text", "SELECT s.version_key, s.resource_type, s.param, v.resource_id, MIN(s.value_norm), MAX(s.value_norm) FROM idx_string s " +
                      "JOIN resource_version v ON v.version_key = s.version_key GROUP BY s.version_key, s.resource_type, s.param, v.resource_id"),
        ("sort_text", TokenSortKeys("1 = 1")),
    ];

    /// <summary>
    /// The token sort-key rows (least and greatest code per version and parameter) of the idx_token rows (alias t) that
    /// meet <paramref name="condition"/>: all of them in v6, a newly declared parameter's when the declared set changes.
    /// </summary>
    internal static string TokenSortKeys(string condition) =>
        "SELECT t.version_key, t.resource_type, t.param, v.resource_id, MIN(t.code), MAX(t.code) FROM idx_token t " +
        $"JOIN resource_version v ON v.version_key = t.version_key WHERE t.code IS NOT NULL AND {condition} GROUP BY t.version_key, t.resource_type, t.param, v.resource_id";

    private static IReadOnlyList<string> Migrations(SqlDialect dialect)
    {
        var v1 = new List<string>
        {
            // One row: the last committed change sequence and the lastUpdated it stamped. Every write transaction
            // updates it first, which serializes writers and makes sequence order equal commit order.
            "CREATE TABLE fhir_clock (id integer PRIMARY KEY, change_seq bigint NOT NULL, last_updated_ms bigint NOT NULL)",
            "INSERT INTO fhir_clock (id, change_seq, last_updated_ms) VALUES (1, 0, 0)",
            $"""
            CREATE TABLE resource_version (
              version_key {dialect.IdentityColumn},
              resource_type {TextPlaceholder} NOT NULL,
              resource_id {TextPlaceholder} NOT NULL,
              version_id integer NOT NULL,
              change_seq bigint NOT NULL,
              superseded_seq bigint NULL,
              last_updated_ms bigint NOT NULL,
              is_deleted smallint NOT NULL,
              content text NULL)
            """,
            "CREATE UNIQUE INDEX ux_resource_version ON resource_version (resource_type, resource_id, version_id)",
            "CREATE UNIQUE INDEX ux_resource_current ON resource_version (resource_type, resource_id) WHERE superseded_seq IS NULL",
            "CREATE INDEX ix_resource_type_seq ON resource_version (resource_type, change_seq)",
            "CREATE INDEX ix_resource_seq ON resource_version (change_seq)",
            "CREATE INDEX ix_resource_type_updated ON resource_version (resource_type, last_updated_ms)",
        };
        foreach (var (table, columns, searchIndex) in IndexTables)
        {
            v1.Add($"CREATE TABLE {table} (version_key bigint NOT NULL, resource_type {{text}} NOT NULL, param {{text}} NOT NULL, {columns})");
            v1.Add($"CREATE INDEX ix_{table}_search ON {table} ({searchIndex})");
            v1.Add($"CREATE INDEX ix_{table}_version ON {table} (version_key, param)");
        }
        // v2: bulk export jobs (state survives restarts; claimed by one replica at a time), the audit trail (append-only:
        // triggers refuse UPDATE and DELETE), and the token endpoint's jti replay guard (shared by replicas).
        var v2 = new List<string>
        {
            $"""
            CREATE TABLE export_job (
              job_id {TextPlaceholder} PRIMARY KEY,
              status {TextPlaceholder} NOT NULL,
              request_json text NOT NULL,
              transaction_seq bigint NOT NULL,
              transaction_time_ms bigint NOT NULL,
              created_ms bigint NOT NULL,
              updated_ms bigint NOT NULL,
              owner {TextPlaceholder} NULL,
              lease_until_ms bigint NULL,
              attempts integer NOT NULL,
              progress_json text NULL,
              result_json text NULL,
              error_text text NULL,
              expires_ms bigint NULL)
            """,
            "CREATE INDEX ix_export_job_status ON export_job (status, lease_until_ms)",
            "CREATE INDEX ix_export_job_expires ON export_job (expires_ms)",
            // Export reads one type in version_key order, batch after batch from the last key (keyset): this index makes
            // each batch a range scan instead of a sort of the whole type.
            "CREATE INDEX ix_resource_type_key ON resource_version (resource_type, version_key)",
            "CREATE TABLE export_member (job_id {text} NOT NULL, patient_id {text} NOT NULL, PRIMARY KEY (job_id, patient_id))",
            $"CREATE TABLE export_file (job_id {TextPlaceholder} NOT NULL, file_name {TextPlaceholder} NOT NULL, chunk_index integer NOT NULL, content {dialect.BlobType} NOT NULL, PRIMARY KEY (job_id, file_name, chunk_index))",
            $"""
            CREATE TABLE audit_event (
              audit_seq {dialect.IdentityColumn},
              event_id {TextPlaceholder} NOT NULL,
              recorded_ms bigint NOT NULL,
              client_id {TextPlaceholder} NULL,
              action {TextPlaceholder} NOT NULL,
              subtype {TextPlaceholder} NOT NULL,
              entity_type {TextPlaceholder} NULL,
              entity_id {TextPlaceholder} NULL,
              outcome {TextPlaceholder} NOT NULL,
              content text NOT NULL)
            """,
            "CREATE UNIQUE INDEX ux_audit_event_id ON audit_event (event_id)",
            "CREATE INDEX ix_audit_event_recorded ON audit_event (recorded_ms)",
            "CREATE INDEX ix_audit_event_client ON audit_event (client_id, recorded_ms)",
            "CREATE INDEX ix_audit_event_entity ON audit_event (entity_type, entity_id)",
            // Every resource (or searched type) an event involved: a transaction touches many, and "who touched
            // Patient/x" must find it whichever entry it was. Append-only like the events.
            "CREATE TABLE audit_entity (audit_seq bigint NOT NULL, entity_type {text} NOT NULL, entity_id {text} NULL)",
            "CREATE INDEX ix_audit_entity ON audit_entity (entity_type, entity_id, audit_seq)",
            "CREATE TABLE auth_jti (jti_key {text} PRIMARY KEY, expires_ms bigint NOT NULL)",
            "CREATE INDEX ix_auth_jti_expires ON auth_jti (expires_ms)",
        };
        v2.AddRange(dialect.AppendOnlyTriggers("audit_event"));
        v2.AddRange(dialect.AppendOnlyTriggers("audit_entity"));
        // v3: the content hash of each version (SHA-256 of its stored JSON without meta.versionId and meta.lastUpdated),
        // so an unchanged re-send is recognized without reading the content. Versions written before v3 have none; it is
        // computed from their content when needed (docs/storage.md).
        var v3 = new List<string>
        {
            "ALTER TABLE resource_version ADD COLUMN content_hash {text} NULL",
        };
        // v6: the sort-key tables, filled from the index rows of every existing version (the same least/greatest values
        // the writer computes), their in-order indexes (built after the fill), and (type, lastUpdated, id) so a
        // _lastUpdated sort walks an index too; it replaces the (type, lastUpdated) index it extends.
        var v6 = new List<string>();
        foreach (var (table, columns) in SortTables)
            v6.Add($"CREATE TABLE {table} (version_key bigint NOT NULL, resource_type {{text}} NOT NULL, param {{text}} NOT NULL, {columns})");
        foreach (var (table, select) in SortKeyFills)
            v6.Add($"INSERT INTO {table} (version_key, resource_type, param, {IndexColumnNames[table]}) {select}");
        foreach (var (table, (min, max)) in SortColumns)
        {
            // Ascending sorts walk (min, id); descending ones (max DESC, id): ties stay in ascending id order either way.
            v6.Add($"CREATE INDEX ix_{table}_asc ON {table} (resource_type, param, {min}, resource_id, version_key)");
            v6.Add(SortDescendingIndex(table, max));
        }
        v6.Add("CREATE INDEX ix_resource_type_updated_id ON resource_version (resource_type, last_updated_ms, resource_id)");
        v6.Add("DROP INDEX ix_resource_type_updated");
        return
        [
            string.Join(";\n", v1.Select(Expand)),
            string.Join(";\n", v2.Select(Expand)),
            string.Join(";\n", v3.Select(Expand)),
            // v4: bulk $import jobs and their committed chunks (Import/ImportSchema.cs).
            string.Join(";\n", Import.ImportSchema.Statements(dialect).Select(Expand)),
            // v5: the import's line hashes, so a re-run skips unchanged lines unparsed (Import/ImportSchema.cs).
            string.Join(";\n", Import.ImportSchema.LineHashStatements(dialect).Select(Expand)),
            string.Join(";\n", v6.Select(Expand)),
            // v7 (helper "search"): a date criterion's ge/gt/eb compare the span's end (high_ms), which
            // ix_idx_date_search (type, param, low_ms, high_ms) cannot seek: this index lets both engines read only the
            // date rows past the searched instant instead of every row of the parameter.
            Expand(DateHighIndex),
            string.Join(";\n", (dialect.ClustersIndexRows ? ClusteredIndexRows() : CoveringDateIndexes()).Select(Expand)),
            // v9: the token parameters that have sort-key rows (Search:SortableTokenParameters); until now every one had.
            string.Join(";\n", new[]
            {
                $"CREATE TABLE {SortableTokenTable} (entry {{text}} PRIMARY KEY)",
                $"INSERT INTO {SortableTokenTable} (entry) VALUES ('{Indexing.SortableTokens.AllEntry}')",
            }.Select(Expand)),
            // v10: a counter of changes to that set, on the clock row every write updates, so a replica started with
            // another set is noticed by the writes and token walks of the others (SqlDialect.SortableVersion).
            "ALTER TABLE fhir_clock ADD COLUMN sortable_version bigint NOT NULL DEFAULT 0",
        ];

        string Expand(string statement) => statement.Replace("{text}", dialect.TextType).Replace("{decimal}", dialect.DecimalType);
    }

    private const string TextPlaceholder = "{text}";

    /// <summary>
    /// v8 on SQLite: each index table becomes one B-tree clustered by (version_key, param, ord) instead of a rowid table
    /// plus a (version_key, param) index, and each sort-key table one B-tree keyed by its ascending walk order instead of
    /// a rowid table plus that index. A stored resource's ~15 index rows and ~6 sort rows then make ~21 fewer B-tree inserts
    /// (docs/performance.md, "Schema v8"); the per-row probes read the clustered row itself, and the search indexes,
    /// whose entries end in the primary key, give version_key without a second lookup. <c>ord</c> makes the key unique
    /// (the value columns may be NULL and repeat within a version); copied rows keep their old rowid as ord. Each copy
    /// reads the old table in the new key order through the old index, so the new B-tree is built by appending.
    /// </summary>
    private static List<string> ClusteredIndexRows()
    {
        var statements = new List<string>();
        foreach (var (table, columns, searchIndex) in IndexTables)
        {
            var names = IndexColumnNames[table];
            statements.Add($"ALTER TABLE {table} RENAME TO {table}_v7");
            statements.Add($"CREATE TABLE {table} (version_key bigint NOT NULL, resource_type {{text}} NOT NULL, param {{text}} NOT NULL, ord integer NOT NULL, {columns}, " +
                           "PRIMARY KEY (version_key, param, ord)) WITHOUT ROWID");
            statements.Add($"INSERT INTO {table} (version_key, resource_type, param, ord, {names}) " +
                           $"SELECT version_key, resource_type, param, rowid, {names} FROM {table}_v7 ORDER BY version_key, param, rowid");
            statements.Add($"DROP TABLE {table}_v7");
            statements.Add($"CREATE INDEX ix_{table}_search ON {table} ({searchIndex})");
        }
        statements.Add(DateHighIndex);
        foreach (var (table, columns) in SortTables)
        {
            var (min, max) = SortColumns[table];
            var names = IndexColumnNames[table];
            statements.Add($"ALTER TABLE {table} RENAME TO {table}_v7");
            statements.Add($"CREATE TABLE {table} (version_key bigint NOT NULL, resource_type {{text}} NOT NULL, param {{text}} NOT NULL, {columns}, " +
                           $"PRIMARY KEY (resource_type, param, {min}, resource_id, version_key)) WITHOUT ROWID");
            statements.Add($"INSERT INTO {table} (version_key, resource_type, param, {names}) " +
                           $"SELECT version_key, resource_type, param, {names} FROM {table}_v7 ORDER BY resource_type, param, {min}, resource_id, version_key");
            statements.Add($"DROP TABLE {table}_v7");
            statements.Add(SortDescendingIndex(table, max));
        }
        return statements;
    }

    /// <summary>
    /// v8 on PostgreSQL: the date index that ge/gt/eb seek also holds version_key, so collecting a date criterion's
    /// versions is an index-only scan instead of a bitmap heap scan over the idx_date pages (docs/performance.md).
    /// </summary>
    private static List<string> CoveringDateIndexes() =>
    [
        "CREATE INDEX ix_idx_date_high_v8 ON idx_date (resource_type, param, high_ms) INCLUDE (version_key)",
        "DROP INDEX ix_idx_date_high",
        "ALTER INDEX ix_idx_date_high_v8 RENAME TO ix_idx_date_high",
    ];

    /// <summary>The least and greatest value columns of each sort-key table.</summary>
    private static readonly Dictionary<string, (string Min, string Max)> SortColumns = new(StringComparer.Ordinal)
    {
        ["sort_date"] = ("min_ms", "max_ms"),
        ["sort_text"] = ("min_text", "max_text"),
    };

    // Descending sorts walk (max DESC, id): ties stay in ascending id order, as in the ascending walk.
    private static string SortDescendingIndex(string table, string max) =>
        $"CREATE INDEX ix_{table}_desc ON {table} (resource_type, param, {max} DESC, resource_id, version_key)";

    /// <summary>
    /// The index a sorted page walks (<see cref="Search.SearchSql.ValuedInOrder"/>): descending, the sort table's
    /// (max DESC, id) index; ascending, its (min, id) order, which since v8 is the table's own primary key on SQLite (the
    /// name SQLite gives a WITHOUT ROWID table's key; only SQLite names an index in a query).
    /// </summary>
    internal static string SortWalkIndex(string table, bool descending) => descending ? $"ix_{table}_desc" : $"sqlite_autoindex_{table}_1";

    /// <summary>The v7 index: date rows by the end of their span, for ge/gt/eb (docs/storage.md).</summary>
    internal const string DateHighIndex = "CREATE INDEX ix_idx_date_high ON idx_date (resource_type, param, high_ms)";

    public static int LatestVersion => 10;

    /// <summary>The v9 table recording which token parameters have sort-key rows (<see cref="Indexing.SortableTokens.Entries"/>).</summary>
    internal const string SortableTokenTable = "sortable_token_param";

    public static Task MigrateAsync(SqlDialect dialect, CancellationToken cancellationToken) => MigrateAsync(dialect, LatestVersion, cancellationToken);

    /// <summary>
    /// Brings the schema up to <paramref name="version"/> (tests build databases of an older version with it).
    /// <paramref name="upgrading"/> hears (from, to) before an existing database is upgraded: some upgrades rewrite most
    /// of a large SQLite file (v8) and take minutes, during which the service answers nothing.
    /// </summary>
    /// <param name="sortable">
    /// the token parameters that are to have sort-key rows (schema 9 on): when the database records another set, their
    /// rows are filled or deleted in the same exclusive transaction, before anything is served
    /// (<see cref="ReconcileSortableTokensAsync"/>); <paramref name="reconciling"/> hears of it first.
    /// </param>
    internal static Task MigrateAsync(SqlDialect dialect, int version, CancellationToken cancellationToken, Action<int, int>? upgrading = null,
        Indexing.SortableTokens? sortable = null, Action<SortableTokenChange>? reconciling = null) =>
        dialect.RunExclusiveMigrationAsync(async (connection, transaction, ct) =>
        {
            await Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at_ms bigint NOT NULL)", ct);
            await using var read = connection.CreateCommand();
            read.Transaction = transaction;
            read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
            var current = Convert.ToInt32(await read.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
            if (current > LatestVersion)
                throw new InvalidStorageRequestException($"The database schema is version {current}, newer than this service knows ({LatestVersion}); upgrade the service.");
            var migrations = Migrations(dialect);
            if (current > 0 && current < version)
                upgrading?.Invoke(current, version);
            for (var next = current + 1; next <= version; next++)
            {
                foreach (var statement in migrations[next - 1].Split(";\n"))
                    await Execute(connection, transaction, statement, ct);
                await Execute(connection, transaction,
                    $"INSERT INTO schema_version (version, applied_at_ms) VALUES ({next}, {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()})", ct);
            }
            var reached = Math.Max(current, version);
            if (sortable is not null && reached >= 9)
                await ReconcileSortableTokensAsync(connection, transaction, sortable, created: current == 0, counted: reached >= 10, reconciling, ct);
            if (sortable is not null && reached >= 10)
            {
                await using var clock = connection.CreateCommand();
                clock.Transaction = transaction;
                clock.CommandText = "SELECT sortable_version FROM fhir_clock WHERE id = 1";
                dialect.SortableVersion = Convert.ToInt64(await clock.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
            }
        }, cancellationToken);

    /// <summary>
    /// Brings the token sort-key rows in line with the declared set when the database records another one: rows of
    /// parameters no longer declared (every undeclared one when the record is "all", as schema 8 left it) are deleted,
    /// those of newly declared ones computed from idx_token (<see cref="TokenSortKeys"/>, what the writer would have
    /// stored), and the new set recorded. A token sort row is told from a string one by its version having idx_token
    /// rows for the parameter (a parameter has one type per resource type). A database created by this start has no
    /// rows to change and is not reported.
    /// </summary>
    /// <param name="counted">schema 10 on: a change also steps <c>fhir_clock.sortable_version</c>, which every write reads.</param>
    private static async Task ReconcileSortableTokensAsync(DbConnection connection, DbTransaction transaction, Indexing.SortableTokens sortable, bool created,
        bool counted, Action<SortableTokenChange>? reconciling, CancellationToken cancellationToken)
    {
        var recorded = new List<string>();
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = $"SELECT entry FROM {SortableTokenTable}";
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                recorded.Add(reader.GetString(0));
        }
        var wanted = sortable.Entries;
        if (recorded.ToHashSet(StringComparer.Ordinal).SetEquals(wanted))
            return;
        var change = new SortableTokenChange(recorded.Order(StringComparer.Ordinal).ToList(), wanted);
        if (!created)
            reconciling?.Invoke(change);
        // First the clock row, whose lock every write takes first: a write of another replica in flight commits before
        // this statement goes on (so the rows below see its rows and bring them in line), and any later one finds the
        // new count and is refused (GroupCommitter.AdvanceClockAsync).
        if (counted)
            await Execute(connection, transaction, "UPDATE fhir_clock SET sortable_version = sortable_version + 1 WHERE id = 1", cancellationToken);
        var all = recorded.Contains(Indexing.SortableTokens.AllEntry);
        var removed = recorded.Except(wanted, StringComparer.Ordinal).ToList();
        if (all || removed.Count > 0)
        {
            var gone = all ? "1 = 1" : Indexing.SortableTokens.MatchSql(removed, "sort_text");
            change.Deleted = await Execute(connection, transaction,
                $"DELETE FROM sort_text WHERE {gone} AND NOT {Indexing.SortableTokens.MatchSql(wanted, "sort_text")} " +
                "AND EXISTS (SELECT 1 FROM idx_token t WHERE t.version_key = sort_text.version_key AND t.param = sort_text.param)", cancellationToken);
        }
        var added = all ? [] : wanted.Except(recorded, StringComparer.Ordinal).ToList();
        if (added.Count > 0)
        {
            // Parameters the old set already covered (e.g. Observation._tag when _tag is added) have their rows.
            var condition = $"{Indexing.SortableTokens.MatchSql(added, "t")} AND NOT {Indexing.SortableTokens.MatchSql(recorded, "t")}";
            change.Filled = await Execute(connection, transaction,
                $"INSERT INTO sort_text (version_key, resource_type, param, {IndexColumnNames["sort_text"]}) {TokenSortKeys(condition)}", cancellationToken);
        }
        await Execute(connection, transaction, $"DELETE FROM {SortableTokenTable}", cancellationToken);
        foreach (var entry in wanted)
            await Execute(connection, transaction, $"INSERT INTO {SortableTokenTable} (entry) VALUES ('{entry}')", cancellationToken);
    }

    private static async Task<int> Execute(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>A change of the declared sortable token parameters found at start: the recorded set, the new one, and the rows changed.</summary>
internal sealed class SortableTokenChange(IReadOnlyList<string> from, IReadOnlyList<string> to)
{
    /// <summary>The recorded entries ("*": every token parameter, as schema 8 left the database).</summary>
    public IReadOnlyList<string> From { get; } = from;

    public IReadOnlyList<string> To { get; } = to;

    public int Deleted { get; set; }

    public int Filled { get; set; }
}
