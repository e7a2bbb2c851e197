// Measures the managed heap that the validator's caches hold (compiled schemas, the snapshots and core
// definitions they were compiled from, expanded ValueSets) after validating every file of a folder.
// Usage: dotnet bench/SchemaCacheMemory/bin/Release/net10.0/SchemaCacheMemory.dll examples/resources
using FhirCaseService.Conformance;
using FhirCaseService.Validation;

if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: SchemaCacheMemory <folder of FHIR JSON files>");
    return 2;
}

var files = Directory.GetFiles(args[0], "*.json").Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal)).ToArray();
var validator = new FhirValidator(ConformanceContext.CreateDefault());

// A first tiny validation pays the SDK's own one-off start-up (model inspector, FHIRPath symbol table),
// so that what follows counts only what the files' profiles and types add.
await validator.ValidateAsync("""{"resourceType":"Basic","code":{"text":"warm-up"}}""", ResourceFormat.Json);
var before = CollectedHeap();
foreach (var file in files)
    await validator.ValidateAsync(await File.ReadAllTextAsync(file), ResourceFormat.Json);
var after = CollectedHeap();

Console.WriteLine($"files: {files.Length}; managed heap before: {Mb(before)} MB, after: {Mb(after)} MB, held by the caches: {Mb(after - before)} MB");
GC.KeepAlive(validator);
return 0;

static long CollectedHeap()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    return GC.GetTotalMemory(forceFullCollection: true);
}

static string Mb(long bytes) => (bytes / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
