# Where validation's time goes, by stage, in a dotnet-trace of the throughput bench (docs/performance.md, issue 13 section).
#   dotnet-trace collect -o X.nettrace -- dotnet bench/FhirCaseService.Bench/bin/Release/net10.0/FhirCaseService.Bench.dll /tmp/work10k
#   dotnet-trace convert --format speedscope -o X X.nettrace && python3 bench/FhirCaseService.Bench/validation-trace-categories.py X.speedscope.json
# Samples under FhirValidator.ValidateAsync(string); each goes to the first category one of its frames matches (order matters).
import json, sys, collections, re
d=json.load(open(sys.argv[1]))
frames=[f['name'] for f in d['shared']['frames']]
root=re.compile(r'FhirValidator\+<ValidateAsync>d__8')
CATS=[('SDK POCO validator inside the strict parse (delayed-validation dictionary, hashing, attribute checks)', r'ScheduleDelayedValidation|runDelayedValidations|doObjectValidation|doPropertyValidation|GetHashCodeWorker|DelayedValidation'),
('fast path: literal/narrative checks on the tree (IsClean)', r'InstanceReader\.IsClean'),
('SDK JSON parse (rest)', r'SerializationUtil\.ReadJsonText|DeserializeResource'),
('source map (second JSON pass)', r'JsonSourceMapReader'),
('FHIRPath invariants (SDK engine)', r'FhirPathInvariantValidator'),
('bindings / terminology', r'BindingJudge|BindingValidator|Terminology'),
('walk: slicing, references, extensions', r'SliceMatcher|ReferenceChecker|ExtensionPlacement'),
('walk: rest (cardinality, types, primitives, paths)', r'InstanceWalker|ValidateParsedAsync|ValidationRun'),
]
CATS=[(n,re.compile(p)) for n,p in CATS]
c=collections.Counter(); tot=0
for p in d['profiles']:
    last=None; stack=[]
    for e in p['events']:
        t=e['at']
        if last is not None and stack and t>last:
            names=[frames[s] for s in stack]
            if any(root.search(n) for n in names) and not any('InitClassSlow' in n or 'LazyArtifact' in n or 'SchemaCompiler' in n or 'Snapshot' in n for n in names):
                dt=t-last; tot+=dt; cat='other'
                for n,rx in CATS:
                    if any(rx.search(x) for x in names): cat=n; break
                c[cat]+=dt
        if e['type']=='O': stack.append(e['frame'])
        else: stack.pop()
        last=t
for k,v in c.most_common(): print(f'| {k} | {100*v/tot:.1f} % |')
