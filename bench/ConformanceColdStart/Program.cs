using System.Diagnostics;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.CoreDefinitions;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;

// Cold start of the conformance layer in a fresh process: how long until the first StructureDefinition
// resolves, and what the process holds afterwards. One JSON line per run; run it several times.
var sinceProcessStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
var clock = Stopwatch.StartNew();

// `sdk`: the same first resolves through the Firely SDK's own machinery (ZipSource over specification.zip,
// behind a CachedResolver), to decide whether our embedded archive earns its keep (docs/core-definitions.md).
if (args is ["sdk"])
{
    var zip = new CachedResolver(ZipSource.CreateValidationSource());
    var sdkObservation = await zip.ResolveByCanonicalUriAsync("http://hl7.org/fhir/StructureDefinition/Observation") as StructureDefinition
        ?? throw new InvalidOperationException("Observation did not resolve through ZipSource");
    var sdkFirstMs = clock.Elapsed.TotalMilliseconds;
    var sdkPatientStart = clock.Elapsed.TotalMilliseconds;
    _ = await zip.ResolveByCanonicalUriAsync("http://hl7.org/fhir/StructureDefinition/Patient");
    var sdkSecondMs = clock.Elapsed.TotalMilliseconds - sdkPatientStart;
    var sdkMemory = Measure();
    Console.WriteLine(
        $"{{\"source\":\"sdk-zipsource\",\"runtimeStartupMs\":{sinceProcessStart.TotalMilliseconds:F0},\"firstResolveMs\":{sdkFirstMs:F1}," +
        $"\"secondResolveMs\":{sdkSecondMs:F1},\"processToFirstResolveMs\":{sinceProcessStart.TotalMilliseconds + sdkFirstMs:F0}," +
        $"\"workingSetMB\":{sdkMemory.WorkingSetMb:F1},\"gcHeapMB\":{sdkMemory.GcHeapMb:F1},\"observationElements\":{sdkObservation.Snapshot!.Element.Count}}}");
    return;
}

var core = CoreDefinitionsSource.Open();
var openMs = clock.Elapsed.TotalMilliseconds;

var observation = core.Resolve("http://hl7.org/fhir/StructureDefinition/Observation") as StructureDefinition
    ?? throw new InvalidOperationException("Observation did not resolve");
var firstResolveMs = clock.Elapsed.TotalMilliseconds - openMs;

var patientStart = clock.Elapsed.TotalMilliseconds;
_ = core.Resolve("http://hl7.org/fhir/StructureDefinition/Patient");
var secondResolveMs = clock.Elapsed.TotalMilliseconds - patientStart;

var afterResolve = Measure();
var parsedAfterResolve = core.ParseCount;

// The first profile snapshot through the default context (bundled profiles + core).
var snapshotStart = clock.Elapsed.TotalMilliseconds;
var context = ConformanceContext.CreateBuilder().WithCore(core).AddBundledProfiles().Build();
var profileUrl = context.Packages[0].Source.Artifacts
    .Where(a => a.ResourceType == "StructureDefinition")
    .Select(a => a.Url)
    .FirstOrDefault(url => context.Resolver.Resolve(url) is StructureDefinition { Type: "Observation", Derivation: StructureDefinition.TypeDerivationRule.Constraint });
var snapshot = profileUrl is null ? null : await context.Snapshots.GetAsync(profileUrl);
var firstSnapshotMs = clock.Elapsed.TotalMilliseconds - snapshotStart;

Console.WriteLine(
    $"{{\"source\":\"fhircase-core\",\"runtimeStartupMs\":{sinceProcessStart.TotalMilliseconds:F0},\"openMs\":{openMs:F1},\"firstResolveMs\":{firstResolveMs:F1}," +
    $"\"secondResolveMs\":{secondResolveMs:F1},\"processToFirstResolveMs\":{sinceProcessStart.TotalMilliseconds + openMs + firstResolveMs:F0}," +
    $"\"workingSetMB\":{afterResolve.WorkingSetMb:F1},\"gcHeapMB\":{afterResolve.GcHeapMb:F1},\"parsedAfterResolve\":{parsedAfterResolve}," +
    $"\"observationElements\":{observation.Snapshot!.Element.Count}," +
    $"\"firstProfileSnapshotMs\":{firstSnapshotMs:F0},\"profile\":\"{profileUrl}\",\"profileSnapshotElements\":{snapshot?.Definition.Snapshot?.Element.Count ?? 0}," +
    $"\"workingSetAfterSnapshotMB\":{Measure().WorkingSetMb:F1}}}");

static (double WorkingSetMb, double GcHeapMb) Measure()
{
    using var process = Process.GetCurrentProcess();
    return (process.WorkingSet64 / 1048576.0, GC.GetTotalMemory(forceFullCollection: false) / 1048576.0);
}
