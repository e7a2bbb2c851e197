using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Export;

/// <summary>
/// The SQL of one batch of an export's rows for one type: a keyset range scan in version_key order, with every other
/// condition (snapshot visibility, _since, population, _typeFilter) checked per row, so each batch reads only what
/// follows the previous batch's last key and never sorts or rescans the type.
/// </summary>
internal static class ExportRowQuery
{
    public const string Columns = "a.version_key, a.resource_id, a.version_id, a.last_updated_ms, a.is_deleted, a.content";

    /// <summary>Up to this many recorded members, a batch is driven from the members' own rows instead of the type's.</summary>
    public const int DefaultDrivingMembersLimit = 2000;

    /// <param name="startKey">the key to read after: the caller's resume key, or (with _since) just before the first changed row.</param>
    /// <param name="driveFromMembers">
    /// the job recorded few members (group level, or patient level with POSTed patients): find their rows through their
    /// references instead of checking every row of the type.
    /// </param>
    public static SqlText Build(SqlDialect dialect, ExportJob job, string resourceType, IReadOnlyList<SearchQuery> filters, long startKey, int limit, bool driveFromMembers)
    {
        var sql = new SqlText(dialect);
        var search = new SearchSql(sql);
        var request = job.Request;
        var snapshot = job.TransactionTime.Sequence;
        var where = new List<string>
        {
            $"a.resource_type = {sql.P(resourceType)}",
            $"a.version_key > {sql.P(startKey)}",
            $"{NotAnIndex("a.change_seq")} <= {sql.P(snapshot)}",
            $"(a.superseded_seq IS NULL OR a.superseded_seq > {sql.P(snapshot)})",
        };
        if (request.Since is { } since)
            where.Add($"{NotAnIndex("a.last_updated_ms")} > {sql.P(SinceMilliseconds(since))}");

        var deletions = request.IncludeDeleted && request.Since is not null;
        // A small group in a large database: find the members' rows through their references (an index lookup per
        // member) rather than checking every row of the type. Deletions have no reference rows, so they are read the
        // other way.
        var driven = !deletions && driveFromMembers && HasMembers(request)
            ? MemberKeys(sql, job, resourceType, startKey)
            : null;
        // Population and _typeFilter are facts about a resource's content; a deletion has none, so they are asked of
        // the version it deleted (the one before it).
        string? Subject(string alias) => Combine(driven is null ? Population(sql, job, resourceType, alias) : null,
            Filters(search, resourceType, snapshot, filters, alias));
        var live = Subject("a");
        if (driven is not null)
            where.Add(driven);
        if (!deletions)
        {
            where.Add("a.is_deleted = 0");
            if (live is not null)
                where.Add(PerRow($"SELECT 1 WHERE {live}"));
        }
        else if (live is not null)
        {
            where.Add($"((a.is_deleted = 0 AND {PerRow($"SELECT 1 WHERE {live}")}) OR (a.is_deleted <> 0 AND " +
                      PerRow("SELECT 1 FROM resource_version pv WHERE pv.resource_type = a.resource_type AND pv.resource_id = a.resource_id " +
                             $"AND pv.version_id = a.version_id - 1 AND {Subject("pv")}") + "))");
        }
        sql.Append($"SELECT {Columns} FROM resource_version a WHERE {string.Join(" AND ", where)} ORDER BY a.version_key LIMIT {limit}");
        return sql;
    }

    /// <summary>Group level, or patient level with POSTed patients: the population is the recorded members.</summary>
    public static bool HasMembers(ExportRequest request) =>
        request.Level == ExportLevel.Group || (request.Level == ExportLevel.Patient && request.PatientIds.Count > 0);

    /// <summary>
    /// The keys of the members' rows of the type after <paramref name="startKey"/>: the members' own versions (Patient)
    /// or the versions referencing a member through a compartment parameter.
    /// </summary>
    private static string MemberKeys(SqlText sql, ExportJob job, string resourceType, long startKey)
    {
        var members = $"FROM export_member m WHERE m.job_id = {sql.P(job.Id)}";
        if (resourceType == "Patient")
            return $"a.version_key IN (SELECT p.version_key FROM resource_version p WHERE p.resource_type = 'Patient' " +
                   $"AND p.resource_id IN (SELECT m.patient_id {members}) AND p.version_key > {sql.P(startKey)})";
        if (!PatientCompartment.ParametersByType.TryGetValue(resourceType, out var parameters))
            return "1 = 0";
        return $"a.version_key IN (SELECT r.version_key FROM idx_reference r WHERE r.target_id IN (SELECT m.patient_id {members}) " +
               $"AND r.target_type = 'Patient' AND r.resource_type = {sql.P(resourceType)} AND r.param IN ({string.Join(", ", parameters.Select(sql.P))}) " +
               $"AND r.version_key > {sql.P(startKey)})";
    }

    /// <summary>
    /// A condition checked row by row, as the keyset scan reaches each row, with index lookups by version_key. Written
    /// as a scalar subquery because PostgreSQL turns a plain EXISTS into a merge or hash join over the whole index
    /// table, which every batch would read again from its start (measured: 33,000 index rows read for a 1,000-row batch
    /// at 100,000 resources); a LIMITed scalar subquery cannot be flattened or hashed.
    /// </summary>
    private static string PerRow(string select) => $"({select} LIMIT 1) IS NOT NULL";

    /// <summary>
    /// The column in an expression no index matches, on both engines: (resource_type, change_seq) or
    /// (resource_type, last_updated_ms) would make each batch collect and sort its whole range; the keyset index drives.
    /// </summary>
    private static string NotAnIndex(string column) => $"({column} + 0)";

    /// <summary>
    /// Where a _since export may start its scan: just before the type's first row changed after <paramref name="since"/>.
    /// Writers are serialized and stamp increasing lastUpdated, so version_key order is commit order: no row after
    /// that one was changed earlier. One lookup in (resource_type, last_updated_ms) instead of a scan of the type.
    /// </summary>
    public static SqlText FirstChangedKey(SqlDialect dialect, string resourceType, DateTimeOffset since)
    {
        var sql = new SqlText(dialect);
        sql.Append($"SELECT a.version_key FROM resource_version a WHERE a.resource_type = {sql.P(resourceType)} " +
                   $"AND a.last_updated_ms > {sql.P(SinceMilliseconds(since))} ORDER BY a.last_updated_ms, a.version_key LIMIT 1");
        return sql;
    }

    /// <summary>"Changed after since", at the store's millisecond precision: later than the millisecond since falls in.</summary>
    private static long SinceMilliseconds(DateTimeOffset since) => since.ToUnixTimeMilliseconds();

    /// <summary>
    /// Who is in the export: everyone (system level); any patient's compartment (patient level); the recorded members'
    /// compartments (group level, or patient level with POSTed patients). Types outside the patient compartment have
    /// no rows at patient and group level. Null: no restriction.
    /// </summary>
    private static string? Population(SqlText sql, ExportJob job, string resourceType, string alias)
    {
        var request = job.Request;
        if (request.Level == ExportLevel.System)
            return null;
        var members = HasMembers(request);
        var memberIds = $"SELECT m.patient_id FROM export_member m WHERE m.job_id = {sql.P(job.Id)}";
        if (resourceType == "Patient")
            return members ? $"{alias}.resource_id IN ({memberIds})" : null;
        if (!PatientCompartment.ParametersByType.TryGetValue(resourceType, out var parameters))
            return "1 = 0";
        var target = members ? $" AND r.target_id IN ({memberIds})" : "";
        return $"EXISTS (SELECT 1 FROM idx_reference r WHERE r.version_key = {alias}.version_key " +
               $"AND r.param IN ({string.Join(", ", parameters.Select(sql.P))}) AND r.target_type = 'Patient'{target})";
    }

    /// <summary>The type's _typeFilter searches, ORed; null when it has none.</summary>
    private static string? Filters(SearchSql search, string resourceType, long snapshot, IReadOnlyList<SearchQuery> filters, string alias) =>
        filters.Count == 0
            ? null
            : "(" + string.Join(" OR ", filters.Select(f => "(" + search.Criteria(alias, resourceType, snapshot, f.Criteria) + ")")) + ")";

    private static string? Combine(string? first, string? second) =>
        first is null ? second : second is null ? first : $"{first} AND {second}";
}
