# Where a SQLite commit's pages go: replays the stored rows of a schema-8-or-later SQLite database (e.g. the one
# `ExportBench.dll import sqlite 10000 --no-validation --keep --kept-name NAME` leaves) into a fresh file with the
# service's pragmas (WAL, synchronous FULL, a checkpoint per 32 MiB of WAL, 64 MiB writer cache), PATIENTS_PER_COMMIT
# patients per commit (one patient's transaction, as the EHR ingest sends it). The first PREFILL patients only fill the
# file; the next MEASURED patients are timed. Prints SQLite's CPU per resource, bytes written per resource (WAL and
# checkpoints, /proc/self/io), and, from a second pass over the same measured commits with the automatic checkpoint
# off, the WAL frames (= pages written) per commit of each B-tree (dbstat maps page numbers to tables and indexes).
#   python3 bench/sqlite-write-replay.py SOURCE.db OUT.db [options]
# options: page=N (page_size of the fresh file), ckpt=N (wal_autocheckpoint pages; default 32 MiB of WAL), prefill=N, measured=N, per=N (patients per commit),
#          drop=INDEX (leave an index out; repeatable), notrace (skip the frame accounting pass)
import sqlite3, sys, os, time, collections, struct

src_path, out_path = sys.argv[1], sys.argv[2]
opts = {}
drops = []
for a in sys.argv[3:]:
    k, _, v = a.partition('=')
    if k == 'drop': drops.append(v)
    else: opts[k] = v
page = int(opts.get('page', 4096)); prefill = int(opts.get('prefill', 2000)); measured = int(opts.get('measured', 1000))
per = int(opts.get('per', 1)); trace = 'notrace' not in opts
# WAL pages at which a commit checkpoints: 32 MiB of WAL whatever the page size, as the service sets it
ckpt = int(opts.get('ckpt', 32 * 1024 * 1024 // page))

from sqlite_replay_schema import IDX, SORT, names, RESOURCE_VERSION_DDL

def ddl():
    s = RESOURCE_VERSION_DDL + [
         "CREATE TABLE fhir_clock (id integer PRIMARY KEY, change_seq bigint NOT NULL, last_updated_ms bigint NOT NULL, sortable_version bigint NOT NULL DEFAULT 0)",
         "INSERT INTO fhir_clock (id, change_seq, last_updated_ms) VALUES (1, 0, 0)"]
    for t, cols, search in IDX:
        s.append(f"CREATE TABLE {t} (version_key bigint NOT NULL, resource_type TEXT NOT NULL, param TEXT NOT NULL, ord integer NOT NULL, {cols}, PRIMARY KEY (version_key, param, ord)) WITHOUT ROWID")
        s.append(f"CREATE INDEX ix_{t}_search ON {t} ({search})")
    s.append("CREATE INDEX ix_idx_date_high ON idx_date (resource_type, param, high_ms)")
    for t, cols, mn, mx in SORT:
        s.append(f"CREATE TABLE {t} (version_key bigint NOT NULL, resource_type TEXT NOT NULL, param TEXT NOT NULL, {cols}, PRIMARY KEY (resource_type, param, {mn}, resource_id, version_key)) WITHOUT ROWID")
        s.append(f"CREATE INDEX ix_{t}_desc ON {t} (resource_type, param, {mx} DESC, resource_id, version_key)")
    for d in drops: s.append(f"DROP INDEX {d}")
    return s

src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
pat = {}
for vk, t in src.execute("select version_key, target_id from idx_reference where param in ('patient','member') or (param='subject' and target_type='Patient')"):
    pat.setdefault(vk, t)
groups = collections.OrderedDict()
for vk, rt, rid in src.execute("select version_key, resource_type, resource_id from resource_version order by version_key"):
    p = rid if rt == 'Patient' else pat.get(vk, '~' + rt + rid)
    groups.setdefault(p, []).append(vk)
patients = [g for p, g in groups.items() if not p.startswith('~')][:prefill + measured]
wanted = {vk for g in patients for vk in g}
def rows(sql):
    return [r for r in src.execute(sql) if r[0] in wanted]
rv = {r[0]: r for r in rows("select version_key, resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content, content_hash from resource_version")}
idxrows = {}
for t, cols, _ in IDX:
    d = collections.defaultdict(list)
    for r in rows(f"select version_key, resource_type, param, {', '.join(names(cols))} from {t} order by version_key, param, ord"): d[r[0]].append(r)
    idxrows[t] = d
for t, cols, _, _ in SORT:
    d = collections.defaultdict(list)
    for r in rows(f"select version_key, resource_type, param, {', '.join(names(cols))} from {t}"): d[r[0]].append(r)
    idxrows[t] = d
allcols = {t: names(c) for t, c, _ in IDX}; allcols.update({t: names(c) for t, c, _, _ in SORT})

def commits(first, last):
    key = sum(len(g) for g in patients[:first])
    out = []
    for i in range(first, last, per):
        vks = [vk for g in patients[i:i + per] for vk in g]
        newkey = {}
        for vk in vks:
            key += 1; newkey[vk] = key
        stmts = [("UPDATE fhir_clock SET change_seq = change_seq + 1, last_updated_ms = last_updated_ms + 1 WHERE id = 1", [()]),
                 ("INSERT INTO resource_version (resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content, content_hash) VALUES (?,?,?,?,?,?,?,?,?)",
                  [rv[vk][1:] for vk in vks])]
        for t, cols, _ in IDX:
            batch = [(newkey[vk],) + r[1:3] + (i,) + r[3:] for vk in vks for i, r in enumerate(idxrows[t].get(vk, []))]
            if batch:
                c = ['version_key', 'resource_type', 'param', 'ord'] + allcols[t]
                stmts.append((f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})", batch))
        for t, cols, _, _ in SORT:
            batch = [(newkey[vk],) + r[1:] for vk in vks for r in idxrows[t].get(vk, [])]
            if batch:
                c = ['version_key', 'resource_type', 'param'] + allcols[t]
                stmts.append((f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})", batch))
        out.append((len(vks), stmts))
    return out

def io():
    return int([l for l in open('/proc/self/io') if l.startswith('write_bytes')][0].split()[1])

def fresh(path, autocheckpoint):
    for f in (path, path + '-wal', path + '-shm'):
        if os.path.exists(f): os.remove(f)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size={page}")
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL"); db.execute("PRAGMA cache_size=-65536")
    db.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
    for s in ddl(): db.execute(s)
    return db

commit_seconds = []
def run(db, cs):
    n = 0
    commit_seconds.clear()
    for count, stmts in cs:
        db.execute("BEGIN IMMEDIATE")
        for sql, batch in stmts:
            db.executemany(sql, batch)
        t = time.perf_counter()
        db.execute("COMMIT")
        commit_seconds.append(time.perf_counter() - t)
        n += count
    return n

pre, meas = commits(0, prefill), commits(prefill, prefill + measured)
db = fresh(out_path, ckpt)
run(db, pre)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
w0 = io(); c0 = time.process_time(); t0 = time.time()
n = run(db, meas)
cpu = time.process_time() - c0; wall = time.time() - t0; wb = io() - w0
db.close()
size = os.path.getsize(out_path)
label = f"page {page} ckpt {ckpt}" + ''.join(f" -{d}" for d in drops)
print(f"{label:40s} measured {n} resources in {len(meas)} commits (after {sum(c for c, _ in pre)}): SQLite CPU {cpu * 1000 / n:.3f} ms/res, "
      f"wall {wall:.1f} s (COMMIT mean {sum(commit_seconds) * 1000 / len(commit_seconds):.1f} ms, p50 {sorted(commit_seconds)[len(commit_seconds) // 2] * 1000:.1f}), wrote {wb / n / 1024:.1f} KiB/res, file {size / 1024 / 1024:.1f} MB")

if trace:
    db = fresh(out_path, 8192)
    run(db, pre)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA wal_autocheckpoint=0")
    run(db, meas)
    owner = dict(db.execute("select pageno, name from dbstat"))
    wal = open(out_path + '-wal', 'rb').read()
    psize = struct.unpack('>I', wal[8:12])[0]
    frames = collections.Counter()
    total = 0
    for off in range(32, len(wal), 24 + psize):
        pgno = struct.unpack('>I', wal[off:off + 4])[0]
        frames[owner.get(pgno, '(freelist/other)')] += 1
        total += 1
    k = len(meas)
    print(f"  WAL frames per commit: {total / k:.1f} ({total * (24 + psize) / n / 1024:.1f} KiB/res before checkpoints); per B-tree:")
    for name, c in frames.most_common():
        print(f"    {name:32s} {c / k:7.2f}")
    db.close()
