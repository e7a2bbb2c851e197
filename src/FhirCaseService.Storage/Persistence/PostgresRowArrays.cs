using FhirCaseService.Storage.Indexing;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// PostgreSQL's write of a batch's versions and of all their index rows as ONE statement with ONE fixed text, whatever
/// the number of versions and rows (<see cref="SqlDialect.InsertsRowArrays"/>): every column travels as one array
/// parameter and the rows come from <c>unnest</c>. A data-modifying <c>WITH</c> inserts the versions (their keys come
/// from the identity column), maps each version's position in the batch to its new key, and inserts each index and
/// sort-key table's rows joined to that map by position, so the index rows need not wait for the keys in another round
/// trip. Npgsql's automatic preparation keeps the one text prepared per pooled connection: each write is a bind and an
/// execute of a known plan, with ~30 parameters instead of up to 1,024 per multi-row INSERT and a dozen texts per size.
/// </summary>
internal sealed class PostgresRowArrays
{
    /// <summary>Parameters before the index tables' arrays: change_seq, last_updated_ms, then the six version columns.</summary>
    private const int VersionParameters = 8;

    /// <summary>
    /// The index and sort-key tables with their value columns (after version_key, resource_type, param, as in
    /// <see cref="SchemaMigrator.IndexColumnNames"/>) and those columns' PostgreSQL types. A sort-key table's
    /// resource_id is the version's, taken from the key map, not bound.
    /// </summary>
    private static readonly (string Table, (string Name, string Type)[] Columns, bool SortKeys)[] Tables =
    [
        .. SchemaMigrator.IndexTables.Select(t => (t.Table, ValueColumns(t.Columns), false)),
        .. SchemaMigrator.SortTables.Select(t => (t.Table, ValueColumns(t.Columns).Where(c => c.Name != "resource_id").ToArray(), true)),
    ];

    private static readonly Dictionary<string, int> TableIndex =
        Tables.Select((t, i) => (t.Table, i)).ToDictionary(p => p.Table, p => p.i, StringComparer.Ordinal);

    /// <summary>The statement: the same text for every batch of every size.</summary>
    public static readonly string InsertText = BuildText();

    private readonly long _sequence;
    private readonly long _lastUpdatedMs;
    private readonly List<string> _types = [];
    private readonly List<string> _ids = [];
    private readonly List<int> _versionIds = [];
    private readonly List<short> _deleted = [];
    private readonly List<string?> _contents = [];
    private readonly List<string?> _hashes = [];

    /// <summary>Per table: the batch position of each row's version, its param, and its value columns.</summary>
    private readonly (List<long> Positions, List<string> Params, List<object?>[] Values)[] _rows =
        Tables.Select(t => (new List<long>(), new List<string>(), t.Columns.Select(_ => new List<object?>()).ToArray())).ToArray();

    public PostgresRowArrays(long sequence, long lastUpdatedMs)
    {
        _sequence = sequence;
        _lastUpdatedMs = lastUpdatedMs;
    }

    public int Versions => _types.Count;

    /// <summary>Adds a version row (content and hash null for a deletion) and, for a stored resource, its index rows.</summary>
    public void Add(string type, string id, int versionId, string? content, string? hash, IndexEntries? entries)
    {
        _types.Add(type);
        _ids.Add(id);
        _versionIds.Add(versionId);
        _deleted.Add(content is null ? (short)1 : (short)0);
        _contents.Add(content);
        _hashes.Add(hash);
        if (entries is null)
            return;
        long position = _types.Count; // unnest's ORDINALITY counts from 1
        foreach (var e in entries.Tokens) Row("idx_token", position, e.Param, e.System, e.Code, e.Text);
        foreach (var e in entries.Strings) Row("idx_string", position, e.Param, e.Normalized, e.Exact);
        foreach (var e in entries.Dates) Row("idx_date", position, e.Param, e.Low, e.High);
        foreach (var e in entries.References) Row("idx_reference", position, e.Param, e.TargetType, e.TargetId, e.Url);
        foreach (var e in entries.Quantities) Row("idx_quantity", position, e.Param, e.Value, e.System, e.Code);
        foreach (var e in entries.Numbers) Row("idx_number", position, e.Param, e.Value);
        foreach (var e in entries.Uris) Row("idx_uri", position, e.Param, e.Uri);
        foreach (var e in entries.DateSortKeys) Row("sort_date", position, e.Param, e.Min, e.Max);
        foreach (var e in entries.TextSortKeys) Row("sort_text", position, e.Param, e.Min, e.Max);
    }

    private void Row(string table, long position, string param, params object?[] values)
    {
        var (positions, parameters, columns) = _rows[TableIndex[table]];
        positions.Add(position);
        parameters.Add(param);
        for (var c = 0; c < columns.Length; c++)
            columns[c].Add(values[c]);
    }

    /// <summary>The statement with its values: typed arrays, one per column (empty for a table without rows).</summary>
    public SqlStatement Statement()
    {
        var values = new List<object?>
        {
            _sequence, _lastUpdatedMs,
            _types.ToArray(), _ids.ToArray(), _versionIds.ToArray(), _deleted.ToArray(), _contents.ToArray(), _hashes.ToArray(),
        };
        for (var t = 0; t < Tables.Length; t++)
        {
            var (positions, parameters, columns) = _rows[t];
            values.Add(positions.ToArray());
            values.Add(parameters.ToArray());
            for (var c = 0; c < columns.Length; c++)
                values.Add(TypedArray(Tables[t].Columns[c].Type, columns[c]));
        }
        return new SqlStatement(InsertText, [.. values]);
    }

    private static object TypedArray(string type, List<object?> values) => type switch
    {
        "bigint" => values.Select(v => (long)v!).ToArray(),
        "numeric" => values.Select(v => (decimal)v!).ToArray(),
        _ => values.Select(v => (string?)v).ToArray(),
    };

    private static string BuildText()
    {
        var p = VersionParameters;
        var text = new System.Text.StringBuilder(
            "WITH v AS (INSERT INTO resource_version (resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content, content_hash) " +
            "SELECT r.t, r.i, r.v, @p0, NULL, @p1, r.d, r.c, r.h FROM unnest(@p2::text[], @p3::text[], @p4::integer[], @p5::smallint[], @p6::text[], @p7::text[]) AS r(t, i, v, d, c, h) " +
            "RETURNING version_key, resource_type, resource_id), " +
            "m AS (SELECT v.version_key AS k, v.resource_type AS t, v.resource_id AS i, r.n FROM unnest(@p2::text[], @p3::text[]) WITH ORDINALITY AS r(t, i, n) " +
            "JOIN v ON v.resource_type = r.t AND v.resource_id = r.i)");
        for (var t = 0; t < Tables.Length; t++)
        {
            var (table, columns, sortKeys) = Tables[t];
            var names = string.Join(", ", columns.Select(c => c.Name));
            var arrays = string.Join(", ", columns.Select((c, i) => $"@p{p + 2 + i}::{c.Type}[]"));
            var aliases = string.Join(", ", columns.Select((_, i) => "c" + i));
            var selected = string.Join(", ", columns.Select((_, i) => "r.c" + i));
            var insert = $"INSERT INTO {table} (version_key, resource_type, param, {(sortKeys ? "resource_id, " : "")}{names}) " +
                         $"SELECT m.k, m.t, r.param, {(sortKeys ? "m.i, " : "")}{selected} FROM unnest(@p{p}::bigint[], @p{p + 1}::text[], {arrays}) " +
                         $"AS r(n, param, {aliases}) JOIN m ON m.n = r.n";
            // The last table's insert is the statement's own; the others are WITH parts (each runs once, to completion).
            text.Append(t < Tables.Length - 1 ? $", x{t} AS ({insert})" : " " + insert);
            p += 2 + columns.Length;
        }
        return text.ToString();
    }

    /// <summary>"name {text} NULL, low_ms bigint NOT NULL" -> (name, PostgreSQL type) pairs.</summary>
    private static (string Name, string Type)[] ValueColumns(string definition) =>
        definition.Split(',').Select(c => c.Trim().Split(' ')).Select(parts => (parts[0], parts[1] switch
        {
            "{text}" => "text",
            "{decimal}" => "numeric",
            "bigint" => "bigint",
            var other => throw new InvalidOperationException($"No array type for index column type '{other}'."),
        })).ToArray();
}
