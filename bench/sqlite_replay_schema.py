# The row tables of the stored schema (schema 8 and later) as the SQLite replay benches rebuild them: index tables with
# their value columns and search-index keys, sort-key tables, and resource_version with its indexes. Shared by
# bench/sqlite-layout-replay.py and bench/sqlite-write-replay.py (Python puts a script's folder on the import path).
IDX = [("idx_token", "system TEXT NULL, code TEXT NULL, text_norm TEXT NULL", "resource_type, param, code, system"),
       ("idx_string", "value_norm TEXT NOT NULL, value_exact TEXT NOT NULL", "resource_type, param, value_norm"),
       ("idx_date", "low_ms bigint NOT NULL, high_ms bigint NOT NULL", "resource_type, param, low_ms, high_ms"),
       ("idx_reference", "target_type TEXT NULL, target_id TEXT NULL, url TEXT NULL", "target_id, target_type, param"),
       ("idx_quantity", "value REAL NOT NULL, system TEXT NULL, code TEXT NULL", "resource_type, param, value"),
       ("idx_number", "value REAL NOT NULL", "resource_type, param, value"),
       ("idx_uri", "uri TEXT NOT NULL", "resource_type, param, uri")]
SORT = [("sort_date", "resource_id TEXT NOT NULL, min_ms bigint NOT NULL, max_ms bigint NOT NULL", "min_ms", "max_ms"),
        ("sort_text", "resource_id TEXT NOT NULL, min_text TEXT NOT NULL, max_text TEXT NOT NULL", "min_text", "max_text")]
def names(cols): return [c.strip().split(' ')[0] for c in cols.split(',')]

RESOURCE_VERSION_DDL = ["""CREATE TABLE resource_version (version_key INTEGER PRIMARY KEY AUTOINCREMENT, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,
  version_id integer NOT NULL, change_seq bigint NOT NULL, superseded_seq bigint NULL, last_updated_ms bigint NOT NULL, is_deleted smallint NOT NULL, content text NULL, content_hash TEXT NULL)""",
    "CREATE UNIQUE INDEX ux_resource_version ON resource_version (resource_type, resource_id, version_id)",
    "CREATE UNIQUE INDEX ux_resource_current ON resource_version (resource_type, resource_id) WHERE superseded_seq IS NULL",
    "CREATE INDEX ix_resource_type_seq ON resource_version (resource_type, change_seq)",
    "CREATE INDEX ix_resource_seq ON resource_version (change_seq)",
    "CREATE INDEX ix_resource_type_key ON resource_version (resource_type, version_key)",
    "CREATE INDEX ix_resource_type_updated_id ON resource_version (resource_type, last_updated_ms, resource_id)"]
