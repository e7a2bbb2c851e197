# Replays the stored rows of a schema-7 SQLite database (e.g. one `ExportBench.dll import sqlite 1000 --keep
# --kept-name NAME` left) into a fresh file of a given index layout, one commit per patient as the EHR ingest commits
# one patient's transaction, with the service's pragmas (WAL, synchronous FULL, autocheckpoint 8,192 pages, 64 MiB
# cache); prints CPU per resource of the timed part (only SQLite executing the prepared inserts), bytes the process
# wrote per resource (WAL and checkpoints) and the file size. Layouts (joined by +): v7 or v8 (the schema's index and
# sort-key tables), notoksort (no sort_text rows for token parameters), drop:INDEX (without that index).
#   python3 bench/sqlite-layout-replay.py SOURCE.db v8 /tmp/out.db [max resources]
# Measures the B-tree work of a layout with the same rows and commit grouping, without HTTP, parse or validation.
import sqlite3, sys, os, time, collections
src_path, layout, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
limit = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
from sqlite_replay_schema import IDX, SORT, names, RESOURCE_VERSION_DDL
opts = set(layout.split('+'))
v8 = 'v8' in opts
ddl = list(RESOURCE_VERSION_DDL)
for t, cols, search in IDX:
    if v8:
        ddl.append(f"CREATE TABLE {t} (version_key bigint NOT NULL, resource_type TEXT NOT NULL, param TEXT NOT NULL, ord integer NOT NULL, {cols}, PRIMARY KEY (version_key, param, ord)) WITHOUT ROWID")
    else:
        ddl.append(f"CREATE TABLE {t} (version_key bigint NOT NULL, resource_type TEXT NOT NULL, param TEXT NOT NULL, {cols})")
        ddl.append(f"CREATE INDEX ix_{t}_version ON {t} (version_key, param)")
    ddl.append(f"CREATE INDEX ix_{t}_search ON {t} ({search})")
ddl.append("CREATE INDEX ix_idx_date_high ON idx_date (resource_type, param, high_ms)")
for t, cols, mn, mx in SORT:
    if v8:
        ddl.append(f"CREATE TABLE {t} (version_key bigint NOT NULL, resource_type TEXT NOT NULL, param TEXT NOT NULL, {cols}, PRIMARY KEY (resource_type, param, {mn}, resource_id, version_key)) WITHOUT ROWID")
    else:
        ddl.append(f"CREATE TABLE {t} (version_key bigint NOT NULL, resource_type TEXT NOT NULL, param TEXT NOT NULL, {cols})")
        ddl.append(f"CREATE INDEX ix_{t}_asc ON {t} (resource_type, param, {mn}, resource_id, version_key)")
    ddl.append(f"CREATE INDEX ix_{t}_desc ON {t} (resource_type, param, {mx} DESC, resource_id, version_key)")
for o in opts:
    if o.startswith('drop:'):
        ddl.append(f"DROP INDEX {o[5:]}")

src = sqlite3.connect(src_path)
tokparams = set()
if 'notoksort' in opts:
    tokparams = {r[0] for r in src.execute("select distinct resource_type||'|'||param from idx_token")}
# patient of each version
pat = {}
for vk, t in src.execute("select version_key, target_id from idx_reference where param='patient'"): pat[vk] = t
order = []
for vk, rt, rid in src.execute("select version_key, resource_type, resource_id from resource_version order by version_key"):
    order.append((pat.get(vk, rid if rt == 'Patient' else '~' + rt + rid), vk))
order.sort()
groups = collections.OrderedDict()
for p, vk in order[:limit]: groups.setdefault(p, []).append(vk)
rv = {r[0]: r for r in src.execute("select version_key, resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content, content_hash from resource_version")}
idxrows = {}
for t, cols, _ in IDX:
    d = collections.defaultdict(list)
    for r in src.execute(f"select version_key, resource_type, param, {', '.join(names(cols))} from {t} order by rowid"): d[r[0]].append(r)
    idxrows[t] = d
for t, cols, _, _ in SORT:
    d = collections.defaultdict(list)
    for r in src.execute(f"select version_key, resource_type, param, {', '.join(names(cols))} from {t}"):
        if t == 'sort_text' and (r[1] + '|' + r[2]) in tokparams: continue
        d[r[0]].append(r)
    idxrows[t] = d

for f in (out_path, out_path + '-wal', out_path + '-shm'):
    if os.path.exists(f): os.remove(f)
db = sqlite3.connect(out_path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL"); db.execute("PRAGMA wal_autocheckpoint=8192"); db.execute("PRAGMA cache_size=-65536")
for s in ddl: db.execute(s)
def io():
    return int([l for l in open('/proc/self/io') if l.startswith('write_bytes')][0].split()[1])
allcols = {t: names(c) for t, c, _ in IDX}; allcols.update({t: names(c) for t, c, _, _ in SORT})
# Every commit's statements and rows built first (version keys are 1, 2, ... in a fresh file), so the timed part is
# only SQLite executing them.
commits = []; key = 0
for p, vks in groups.items():
    newkey = {}
    stmts = [("INSERT INTO resource_version (resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content, content_hash) VALUES (?,?,?,?,?,?,?,?,?)",
              [rv[vk][1:] for vk in vks])]
    for vk in vks:
        key += 1; newkey[vk] = key
    for t, cols, _ in IDX:
        batch = []
        for vk in vks:
            for i, r in enumerate(idxrows[t].get(vk, [])):
                batch.append((newkey[vk],) + r[1:3] + ((i,) if v8 else ()) + r[3:])
        if batch:
            c = ['version_key', 'resource_type', 'param'] + (['ord'] if v8 else []) + allcols[t]
            stmts.append((f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?'*len(c))})", batch))
    for t, cols, _, _ in SORT:
        batch = [(newkey[vk],) + r[1:] for vk in vks for r in idxrows[t].get(vk, [])]
        if batch:
            c = ['version_key', 'resource_type', 'param'] + allcols[t]
            stmts.append((f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?'*len(c))})", batch))
    commits.append((len(vks), stmts))
w0 = io(); c0 = time.process_time(); t0 = time.time(); n = 0
for count, stmts in commits:
    db.execute("BEGIN IMMEDIATE")
    for sql, batch in stmts:
        db.executemany(sql, batch)
    db.execute("COMMIT")
    n += count
cpu = time.process_time() - c0; wall = time.time() - t0; wb = io() - w0
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
wb2 = io() - w0
db.close()
size = os.path.getsize(out_path)
print(f"{layout:40s} resources {n} commits {len(groups)}  CPU {cpu*1000/n:.3f} ms/res  wall {wall:.1f}s  wrote {wb/n/1024:.1f} KiB/res (final ckpt incl. {wb2/n/1024:.1f})  db {size/1024/1024:.1f} MB")
