# Where an ingest trace's busy time went, by write-path stage.
#   dotnet-trace collect -o ingest.nettrace -- dotnet bench/FhirCaseService.ApiBench/bin/Release/net10.0/FhirCaseService.ApiBench.dll ingest sqlite 150
#   dotnet-trace convert --format speedscope -o ingest ingest.nettrace
#   python3 bench/FhirCaseService.ApiBench/trace-categories.py ingest.speedscope.json
# "Busy" = samples whose stack is not parked in a wait (thread pool idle, socket event loop, timers, finalizer).
# Each busy sample goes to the first category whose pattern matches a frame of its stack (order matters);
# CPU_TIME samples are managed code, UNMANAGED_CODE_TIME native code or a blocking syscall (SQLite's fsync is one).
import collections, os, re, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from speedscope_stacks import WAIT, intervals, compile_categories, category
WAIT = re.compile(WAIT.pattern + r'|PollGC')  # GC suspension counts as waiting here
CATS=[('startup (host build, routing init, artifacts)', r'Host\+<StartAsync>|DataSourceDependentCache|LazyArtifactSource|ModelInspector\.Import|InitClassSlow|\.cctor|EnsureDescriptorsInitialized|Program\.<Main>\$'),
('validation (engine)', r'FhirValidator\+<ValidateAsync>|FhirValidator\.ValidateAsync'),
('parse (InstanceReader.Read)', r'WriteValidation\.Parse|InstanceReader\.Read'),
('body read (limits, decoding)', r'FhirRequestBody\+<Read|RequestBodyLimits'),
('prepare: index extraction', r'ResourceIndexer\.Extract'),
('prepare: serialize+hash', r'StoredJsonTemplate\.Of'),
('prepare: DeepCopy/other', r'ResourcePreparer\.Prepare'),
('ids/rewrite/plan', r'WritePipeline\+<PrepareAsync>|WritePipeline\.PrepareAsync|ReferenceRewriter'),
('audit', r'AuditStore|AuditMiddleware\+<Write|Audit.*Record'),
('commit: SqliteTransaction.Commit (fsync)', r'SqliteTransaction\.Commit|DbTransaction\.CommitAsync'),
('commit: statements (WriteTransaction, lookups)', r'WriteTransaction|SqlBatchRunner|SqliteStatements|BeginGroupWrite|StillHold'),
('commit: other SQL (checkpoint etc)', r'Microsoft\.Data\.Sqlite|SQLitePCL'),
('response write', r'ResourceResults|WriteAsJson|FhirResponse|Serialize'),
('bench client (HttpClient, bundle text)', r'System\.Net\.Http|IngestBench'),
('Kestrel/ASP.NET pipeline rest', r'Kestrel|AspNetCore'),
('GC', r'GC|gc_heap'),
]
CATS=compile_categories(CATS)
cpu=collections.Counter(); unm=collections.Counter(); tc=tu=0
for names, dt in intervals(sys.argv[1]):
    if any(WAIT.search(n) for n in names[-4:]):
        continue
    c=category(names, CATS)
    if names[-1]=='CPU_TIME': cpu[c]+=dt; tc+=dt
    else: unm[c]+=dt; tu+=dt
tot=tc+tu
print(f"busy {tot/1000:.1f} s: managed CPU {tc/1000:.1f} s, unmanaged {tu/1000:.1f} s")
for n,_ in CATS+[('other',None)]:
    print(f"{100*(cpu[n]+unm[n])/tot:6.1f}%  (managed {100*cpu[n]/tot:5.1f}%, unmanaged {100*unm[n]/tot:5.1f}%)  {n}")
