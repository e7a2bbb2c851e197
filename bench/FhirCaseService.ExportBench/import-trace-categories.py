# Where an import trace's busy time went, by $import stage (the service process, attached while it imports).
#   dotnet $B import sqlite 10000 --keep-cohorts &   # then, once the "service pid N" line is printed:
#   ~/.dotnet/tools/dotnet-trace collect -p N -o imp.nettrace --duration 00:00:00:30
#   ~/.dotnet/tools/dotnet-trace convert --format speedscope -o imp imp.nettrace
#   python3 bench/FhirCaseService.ExportBench/import-trace-categories.py imp.speedscope.json
# "Busy" = samples whose innermost frames are not a wait (idle pool threads, event loops, timers, finalizer, GC
# suspension); each busy sample goes to the first category whose pattern matches a frame of its stack (order matters).
# GC suspensions (Thread.PollGC) are counted apart: they are the allocation cost's visible part.
import json, sys, collections, re
d=json.load(open(sys.argv[1]))
frames=[f['name'] for f in d['shared']['frames']]
WAIT=re.compile(r'Monitor\.Wait|WaitOneNoCheck|LowLevelLifoSemaphore\.Wait|Interop\+Sys\.Read|WaitForSignal|LowLevelSpinWaiter|ManualResetEventSlim\.Wait|Sys\.WaitForSocketEvents|epoll|Thread\.Sleep|SemaphoreSlim\.Wait|RunFinalizers|Finalize\(|SpinThenBlockingWait|Heartbeat|TimerQueue.TimerThread|FileSystemWatcher|SocketAsyncEngine.EventLoop|EventPipe|EventSource')
GCWAIT=re.compile(r'PollGC')
CATS=[('identify + hash (ImportLineProcessor.Identify)', r'ImportLineProcessor\.Identify'),
('validation (engine)', r'FhirValidator\+<Validate|FhirValidator\.Validate'),
('parse (InstanceReader.Read)', r'InstanceReader\.Read'),
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
CATS=[(n,re.compile(p)) for n,p in CATS]
busy=collections.Counter(); tot=0; gc=0
for p in d['profiles']:
    stack=[]; last=None
    for e in p['events']:
        t=e['at']
        if last is not None and stack and t>last:
            dt=t-last
            names=[frames[s] for s in stack]
            inner=names[-4:]
            if any('Finalizer Thread' in n for n in names[:4]): pass  # the finalizer thread, idle or finalizing: not line work
            elif any(GCWAIT.search(n) for n in inner): gc+=dt
            elif not any(WAIT.search(n) for n in inner):
                c='other'
                for n,rx in CATS:
                    if any(rx.search(x) for x in names): c=n; break
                busy[c]+=dt; tot+=dt
        last=t
        if e['type']=='O': stack.append(e['frame'])
        elif stack: stack.pop()
print(f"busy {tot/1000:.1f} s; threads suspended for GC {gc/1000:.1f} s ({100*gc/(tot+gc):.1f} % of busy+GC)")
for n,_ in CATS+[('other',None)]:
    if busy[n]: print(f"{100*busy[n]/tot:6.1f}%  {n}")
