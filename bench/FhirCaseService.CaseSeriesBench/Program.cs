using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FhirCaseService.CaseSeries;
using FhirCaseService.CaseSeries.Mapping;

using FhirCaseService.CaseSeries.Synthetic;

// Synthetic cohort: fhircase generate's library call, timed (wall and CPU), into a fresh directory.
//   dotnet run -c Release --project bench/FhirCaseService.CaseSeriesBench -- generate ndjson|bundles DIR N [N...]
if (args.Length >= 4 && args[0] == "generate")
{
    var format = Enum.Parse<SyntheticOutputFormat>(args[1], ignoreCase: true);
    foreach (var patients in args.Skip(3).Select(a => int.Parse(a, CultureInfo.InvariantCulture)))
    {
        var directory = Path.Combine(args[2], $"{format.ToString().ToLowerInvariant()}-{patients}");
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        var watch = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var summary = await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(patients), format, directory);
        var elapsed = watch.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var bytes = summary.Files.Sum(f => new FileInfo(f).Length);
        Console.WriteLine(FormattableString.Invariant(
            $"{format,-7} {patients,7} patients  {summary.ResourceCount,9} resources  {bytes / (1024 * 1024),6} MiB  {elapsed.TotalSeconds,7:F2} s  CPU {cpuUsed.TotalSeconds,7:F2} s  {patients / elapsed.TotalSeconds,7:F0} patients/s  {summary.ResourceCount / elapsed.TotalSeconds,8:F0} resources/s  peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB"));
    }
    return 0;
}

// Converter scaling: an N-patient case-series record made of copies of the paper's four patients (fresh pseudonyms),
// read + mapped by CaseSeriesConverter, then serialized as the CLI would.
// The record is indented like the example unless --minified (one line, as HTTP clients usually send it).
//   dotnet run -c Release --project bench/FhirCaseService.CaseSeriesBench -- convert [--minified] 500 5000 50000
if (args.Length < 2 || args[0] != "convert")
{
    Console.Error.WriteLine("usage: convert [--minified] N [N...] | generate ndjson|bundles DIR N [N...]");
    return 2;
}
var minified = args.Contains("--minified");

var example = JsonNode.Parse(File.ReadAllText(FindExample()))!.AsObject();
foreach (var count in args.Skip(1).Where(a => a != "--minified").Select(a => int.Parse(a, CultureInfo.InvariantCulture)))
{
    var record = Record(example, count, minified);
    var watch = Stopwatch.StartNew();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var conversion = CaseSeriesConverter.Convert(record);
    var converted = watch.Elapsed;
    var convertedCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    if (!conversion.Succeeded)
    {
        Console.Error.WriteLine(string.Join("\n", conversion.Errors.Take(5)));
        return 1;
    }
    var json = CaseSeriesJson.Serialize(conversion.Bundle!);
    var serialized = watch.Elapsed - converted;
    var serializedCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu - convertedCpu;
    Console.WriteLine(FormattableString.Invariant(
        $"{count,7} patients  {record.Length / 1024,8} KiB record  {conversion.Bundle!.Entry.Count,8} entries  convert {converted.TotalSeconds,7:F2} s (CPU {convertedCpu.TotalSeconds,6:F2} s)  serialize {serialized.TotalSeconds,6:F2} s (CPU {serializedCpu.TotalSeconds,6:F2} s)  ({count / converted.TotalSeconds,8:F0} patients/s converted)"));
}
return 0;

static byte[] Record(JsonObject example, int count, bool minified)
{
    var record = (JsonObject)example.DeepClone();
    var source = example["patients"]!.AsArray();
    var patients = new JsonArray();
    for (var i = 0; i < count; i++)
    {
        var patient = source[i % source.Count]!.DeepClone().AsObject();
        patient["pseudonym"] = $"{patient["pseudonym"]!.GetValue<string>()}-{i / source.Count:D6}";
        patients.Add(patient);
    }
    record["patients"] = patients;
    return System.Text.Encoding.UTF8.GetBytes(record.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = !minified }));
}

static string FindExample() => FhirCaseService.TestSupport.RepositoryRoot.Combine("examples", "case-series", "aertgeerts-2025-ino-bridge.json");
