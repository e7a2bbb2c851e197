using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Import;

/// <summary>Schema v4: bulk import jobs and the lines they refused.</summary>
internal static class ImportSchema
{
    public static IReadOnlyList<string> Statements(SqlDialect dialect) =>
    [
        // committed_lines/committed_bytes, counts_json and error_lines change only in the transaction that stores a
        // chunk's resources: a job resumes exactly where its last stored chunk ended.
        """
        CREATE TABLE import_job (
          job_id {text} PRIMARY KEY,
          status {text} NOT NULL,
          request_json text NOT NULL,
          created_ms bigint NOT NULL,
          updated_ms bigint NOT NULL,
          owner {text} NULL,
          lease_until_ms bigint NULL,
          attempts integer NOT NULL,
          committed_lines bigint NOT NULL,
          committed_bytes bigint NOT NULL,
          counts_json text NOT NULL,
          error_lines bigint NOT NULL,
          transaction_time_ms bigint NULL,
          error_text text NULL,
          expires_ms bigint NULL)
        """,
        "CREATE INDEX ix_import_job_status ON import_job (status, lease_until_ms)",
        "CREATE INDEX ix_import_job_expires ON import_job (expires_ms)",
        // One OperationOutcome per refused input line, in line order: the job's error file.
        "CREATE TABLE import_error (job_id {text} NOT NULL, line_number bigint NOT NULL, content text NOT NULL, PRIMARY KEY (job_id, line_number))",
    ];

    /// <summary>
    /// Schema v5: per resource, the hash of the input line an import last stored it from (or found it unchanged by) and
    /// the version that line made current. A re-run recognises its unchanged lines by these without parsing them;
    /// a row whose version was superseded since (any later write) matches nothing.
    /// </summary>
    public static IReadOnlyList<string> LineHashStatements(SqlDialect dialect) =>
    [
        "CREATE TABLE import_line_hash (resource_type {text} NOT NULL, resource_id {text} NOT NULL, line_hash {text} NOT NULL, version_key bigint NOT NULL, " +
        "PRIMARY KEY (resource_type, resource_id))",
    ];
}
