namespace FhirCaseService.Storage;

public enum StorageProvider
{
    /// <summary>Embedded: one SQLite file (WAL mode) under <see cref="StorageOptions.DataDirectory"/>. The default.</summary>
    Sqlite,
    /// <summary>A PostgreSQL database shared by several service replicas (<see cref="StorageOptions.ConnectionString"/>).</summary>
    PostgreSql,
}

/// <summary>When a commit is acknowledged, relative to the disk.</summary>
public enum StorageDurability
{
    /// <summary>
    /// A commit is on disk before it is acknowledged: it survives a power loss or OS crash (SQLite WAL with
    /// <c>synchronous = FULL</c>; PostgreSQL <c>synchronous_commit = on</c>). The default.
    /// </summary>
    Full,

    /// <summary>
    /// Faster, weaker: the database stays consistent, but the last commits acknowledged before a power loss or OS
    /// crash may be lost (SQLite <c>synchronous = NORMAL</c>; PostgreSQL <c>synchronous_commit = off</c>). A process
    /// crash loses nothing.
    /// </summary>
    Normal,
}

/// <summary>Where resources are stored. Bind from configuration section "Storage".</summary>
public sealed class StorageOptions
{
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>
    /// PostgreSQL: an Npgsql connection string (required). SQLite: optional; when set it wins over
    /// <see cref="DataDirectory"/> (e.g. "Data Source=/var/lib/fhircase/fhircase.db").
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>SQLite only: the directory holding <c>fhircase.db</c>; created when missing. Default "./data".</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Page size when a search or history asks for none.</summary>
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>The largest page served, whatever <c>_count</c> asks.</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Whether an acknowledged write survives power loss (<see cref="StorageDurability.Full"/>, the default).</summary>
    public StorageDurability Durability { get; set; } = StorageDurability.Full;

    /// <summary>How long a SQLite writer waits for the file lock held by another process before failing.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// PostgreSQL: a bulk import chunk's version and index rows go out by binary COPY (true, the default) instead of
    /// the multi-row INSERTs every other write uses. A way back, and the comparison the import bench makes.
    /// </summary>
    public bool ImportPostgresCopy { get; set; } = true;

    /// <summary>
    /// SQLite: the page cache of the writer connection while it commits bulk import chunks, in MiB (SQLite's default is
    /// 2 MiB). A chunk's index rows land all over the index B-trees; with a small cache the dirty pages spill to the WAL
    /// mid-transaction and are written again, and every chunk reads its pages back. The cache stays on the one writer
    /// connection (memory bounded by this, whatever the import's size); 0 leaves SQLite's default.
    /// </summary>
    public int ImportSqliteCacheMegabytes { get; set; } = 256;

    /// <summary>
    /// SQLite: the page size, in bytes, of a database file this service creates (a power of two from 512 to 65,536;
    /// default <see cref="DefaultSqlitePageSize"/>). An existing file keeps the page size it was made with (changing it
    /// rewrites the whole file: docs/storage.md, "SQLite specifics"). A durable commit writes every page it changed to
    /// the WAL and syncs it, and a transaction's index rows land on many pages with a row or two each: smaller pages
    /// write and sync fewer bytes per commit (docs/performance.md, helper sqlitewrite).
    /// </summary>
    public int SqlitePageSize { get; set; } = DefaultSqlitePageSize;

    /// <summary>
    /// The page size of a new SQLite file unless <see cref="SqlitePageSize"/> says otherwise: SQLite's own 4 KiB. 2 KiB
    /// writes 22-32 % fewer bytes per resource with no measured change in ingest rate, and in a quiet comparison made
    /// broad searches over many index pages 10-35 % slower and the file 6 % larger (docs/performance.md), so it is an
    /// operator's choice, not the default.
    /// </summary>
    public const int DefaultSqlitePageSize = 4096;

    /// <summary>
    /// The token parameters whose <c>_sort</c> walks an index (configuration <c>Search:SortableTokenParameters</c>):
    /// entries <c>Type.param</c> (e.g. <c>Observation.status</c>) or a bare <c>param</c> meaning every type that has it
    /// (e.g. <c>_tag</c>). Only these get token sort-key rows when a version is written; any other token parameter still
    /// sorts, with the same results, by computing each match's key (linear in the matches). Default: none. The database
    /// records the set; a start with a different set fills or deletes the rows before serving (docs/storage.md).
    /// </summary>
    public List<string> SortableTokenParameters { get; set; } = [];

    /// <summary><see cref="SortableTokenParameters"/> checked and parsed.</summary>
    internal Indexing.SortableTokens SortableTokens() => Indexing.SortableTokens.Parse(SortableTokenParameters, Indexing.SearchParameterCatalog.Shared);

    internal void Check()
    {
        if (Provider == StorageProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
            throw new InvalidStorageRequestException("Storage:ConnectionString is required when Storage:Provider is PostgreSql.");
        if (Provider == StorageProvider.Sqlite && string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(DataDirectory))
            throw new InvalidStorageRequestException("Storage:DataDirectory (or Storage:ConnectionString) is required for SQLite.");
        if (DefaultPageSize < 1 || MaxPageSize < DefaultPageSize)
            throw new InvalidStorageRequestException("Storage:DefaultPageSize must be at least 1 and at most Storage:MaxPageSize.");
        if (SqlitePageSize is < 512 or > 65_536 || (SqlitePageSize & (SqlitePageSize - 1)) != 0)
            throw new InvalidStorageRequestException($"Storage:SqlitePageSize must be a power of two from 512 to 65536 (bytes); it is {SqlitePageSize}.");
        if (ImportSqliteCacheMegabytes < 0)
            throw new InvalidStorageRequestException("Storage:ImportSqliteCacheMegabytes must be 0 or more.");
        SortableTokens();
    }
}
