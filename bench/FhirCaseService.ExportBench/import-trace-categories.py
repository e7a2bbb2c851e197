# Where an import trace's busy time went, by $import stage (the service process, attached while it imports).
#   dotnet $B import sqlite 10000 --keep-cohorts &   # then, once the "service pid N" line is printed:
#   ~/.dotnet/tools/dotnet-trace collect -p N -o imp.nettrace --duration 00:00:00:30
#   ~/.dotnet/tools/dotnet-trace convert --format speedscope -o imp imp.nettrace
#   python3 bench/FhirCaseService.ExportBench/import-trace-categories.py imp.speedscope.json
# "Busy" = samples whose innermost frames are not a wait (idle pool threads, event loops, timers, finalizer, GC
# suspension); each busy sample goes to the first category whose pattern matches a frame of its stack (order matters).
# GC suspensions (Thread.PollGC) are counted apart: they are the allocation cost's visible part.
import collections, os, re, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from speedscope_stacks import WAIT, intervals, compile_categories, category
WAIT = re.compile(WAIT.pattern + r'|EventPipe|EventSource')  # the tracer's own threads
GCWAIT=re.compile(r'PollGC')
CATS=[('identify + hash (ImportLineProcessor.Identify)', r'ImportLineProcessor\.Identify'),
('validation (engine)', r'FhirValidator\+<Validate|FhirValidator\.Validate'),
('parse (InstanceReader.Read, TryReadClean)', r'InstanceReader\.(Read|TryReadClean)'),
('limits (RequestBodyLimits.CheckJson)', r'RequestBodyLimits'),
('prepare: index extraction', r'ResourceIndexer\.Extract'),
('prepare: serialize+hash', r'StoredJsonTemplate\.Of'),
('prepare: DeepCopy/other', r'ResourcePreparer\.Prepare|PrepareOwned'),
('judge: other', r'ImportLineProcessor'),
('commit: fsync/commit', r'SqliteTransaction\.Commit|DbTransaction\.CommitAsync|NpgsqlTransaction\.Commit'),
('commit: COPY', r'PostgresCopy|NpgsqlBinaryImporter'),
('commit: line hashes', r'RecordLineHashes|StillCurrent'),
('commit: version+index rows (WriteTransaction)', r'WriteTransaction|SqlBatchRunner|SqliteStatements|VersionRows|SqlBatch'),
('commit: other (job row, errors)', r'ImportJobStore'),
('lookup FindUnchanged', r'FindUnchanged'),
('read lines (NdjsonLineReader)', r'NdjsonLineReader'),
('other SQL', r'Microsoft\.Data\.Sqlite|SQLitePCL|Npgsql'),
('GC', r'GC|gc_heap'),
]
CATS=compile_categories(CATS)
busy=collections.Counter(); tot=0; gc=0
for names, dt in intervals(sys.argv[1]):
    inner=names[-4:]
    if any('Finalizer Thread' in n for n in names[:4]): continue  # the finalizer thread, idle or finalizing: not line work
    if any(GCWAIT.search(n) for n in inner): gc+=dt
    elif not any(WAIT.search(n) for n in inner):
        c=category(names, CATS); busy[c]+=dt; tot+=dt
print(f"busy {tot/1000:.1f} s; threads suspended for GC {gc/1000:.1f} s ({100*gc/(tot+gc):.1f} % of busy+GC)")
for n,_ in CATS+[('other',None)]:
    if busy[n]: print(f"{100*busy[n]/tot:6.1f}%  {n}")
