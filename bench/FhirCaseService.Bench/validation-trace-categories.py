# Where validation's time goes, by stage, in a dotnet-trace of the throughput bench (docs/performance.md, issue 13 section).
#   dotnet-trace collect -o X.nettrace -- dotnet bench/FhirCaseService.Bench/bin/Release/net10.0/FhirCaseService.Bench.dll /tmp/work10k
#   dotnet-trace convert --format speedscope -o X X.nettrace && python3 bench/FhirCaseService.Bench/validation-trace-categories.py X.speedscope.json
# Samples under FhirValidator.ValidateAsync(string); each goes to the first category one of its frames matches (order matters).
import collections, os, re, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from speedscope_stacks import WAIT, intervals, compile_categories, category
root=re.compile(r'FhirValidator\+<ValidateAsync>d__\d+')
COMPILING=('InitClassSlow', 'LazyArtifact', 'SchemaCompiler', 'Snapshot')
CATS=[('SDK POCO validator inside the strict parse (delayed-validation dictionary, hashing, attribute checks)', r'ScheduleDelayedValidation|runDelayedValidations|doObjectValidation|doPropertyValidation|GetHashCodeWorker|DelayedValidation'),
('fast path: literal/narrative checks on the tree (IsClean)', r'InstanceReader\.IsClean'),
('SDK JSON parse (rest)', r'SerializationUtil\.ReadJsonText|DeserializeResource'),
('source map (second JSON pass)', r'JsonSourceMapReader'),
('FHIRPath invariants (SDK engine)', r'FhirPathInvariantValidator'),
('bindings / terminology', r'BindingJudge|BindingValidator|Terminology'),
('walk: slicing, references, extensions', r'SliceMatcher|ReferenceChecker|ReferenceValidator|ExtensionPlacement|ExtensionContextValidator|ExtensionCarrier'),
('walk: rest (cardinality, types, primitives, paths)', r'InstanceWalker|ValidateParsedAsync|ValidationRun'),
]
CATS=compile_categories(CATS)
c=collections.Counter(); tot=0
for names, dt in intervals(sys.argv[1]):
    if any(root.search(n) for n in names) and not any(m in n for n in names for m in COMPILING):
        tot+=dt; c[category(names, CATS)]+=dt
for k,v in c.most_common(): print(f'| {k} | {100*v/tot:.1f} % |')
