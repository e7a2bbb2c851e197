# Where an import's CPU went, by $import stage, from `perf` samples of the service process (perf samples threads on a
# CPU at any instruction, so native code is not over-counted as dotnet-trace's suspension sampler does). Start the
# service with JIT frames mapped, attach perf once the bench prints "service pid N", then summarise:
#   dotnet $B import sqlite 1000 --keep-cohorts --service-env "DOTNET_PerfMapEnabled=1;DOTNET_EnableWriteXorExecute=0" &
#   /usr/bin/perf record -F 249 -g -p N -o imp.data -- sleep 60
#   /usr/bin/perf script -i imp.data > imp.script
#   python3 bench/FhirCaseService.ExportBench/import-perf-categories.py imp.script
# Each sample goes to the first category (in the order below) whose pattern matches its thread name or any frame of
# its stack; the native libraries' own frames are counted by library when no managed stage matched.
import collections, re, sys

THREADS = [
    ('GC threads (server GC, background GC)', re.compile(r'\.NET (Server GC|BGC)')),
    ('tiered JIT (compilation thread)', re.compile(r'\.NET Tiered Com')),
]
FRAMES = [
    ('JIT on a worker (clrjit)', r'libclrjit'),
    ('identify + hash (ImportLineProcessor.Identify)', r'ImportLineProcessor::Identify|ImportLineProcessor\.Identify'),
    ('validation (engine)', r'FhirValidator'),
    ('parse (InstanceReader)', r'InstanceReader'),
    ('limits (RequestBodyLimits.CheckJson)', r'RequestBodyLimits'),
    ('prepare: index extraction', r'ResourceIndexer'),
    ('prepare: stored JSON serialize + hash (StoredJsonTemplate.Of)', r'StoredJsonTemplate'),
    ('prepare: other', r'ResourcePreparer'),
    ('judge: other', r'ImportLineProcessor'),
    ('commit: line hashes', r'RecordLineHashes|StillCurrent'),
    ('commit: version + index rows (WriteTransaction, statements)', r'WriteTransaction|SqlBatchRunner|SqliteStatements|PostgresCopyWriter'),
    ('commit: other (job row, errors, transaction)', r'ImportJobStore|GroupCommitter'),
    ('lookup of unchanged lines', r'FindUnchanged'),
    ('read lines (NdjsonLineReader)', r'NdjsonLineReader'),
    ('GC on a worker (allocation slow path)', r'WKS::|SVR::|gc_heap|GCHeap'),
]
LIBRARIES = [('SQLite library', r'libe_sqlite3'), ('kernel', r'kernel\.kallsyms'), ('libc', r'libc\.so'), ('crypto', r'libcrypto')]
FRAMES = [(n, re.compile(p)) for n, p in FRAMES]
LIBRARIES = [(n, re.compile(p)) for n, p in LIBRARIES]


def samples(path):
    thread, frames = None, []
    with open(path, errors='replace') as f:
        for line in f:
            if not line.strip():
                if thread is not None:
                    yield thread, frames
                thread, frames = None, []
            elif not line[0].isspace():
                thread = line.split('  ')[0].strip() if '  ' in line else line.split()[0]
                # perf script: "comm pid/tid time: period event:" — the comm may hold spaces; cut before the pid.
                m = re.match(r'^(.*?)\s+\d+(/\d+)?\s', line)
                if m:
                    thread = m.group(1).strip()
            else:
                frames.append(line.strip())
    if thread is not None:
        yield thread, frames


def category(thread, frames):
    for name, pattern in THREADS:
        if pattern.search(thread):
            return name
    for name, pattern in FRAMES:
        if any(pattern.search(f) for f in frames):
            return name
    if frames:
        for name, pattern in LIBRARIES:
            if pattern.search(frames[0]):
                return name
    return 'other managed / runtime'


counts = collections.Counter()
for thread, frames in samples(sys.argv[1]):
    counts[category(thread, frames)] += 1
total = sum(counts.values())
print(f'{total} samples')
for name, n in counts.most_common():
    print(f'{100 * n / total:6.1f}%  {name}')
