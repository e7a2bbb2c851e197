using FhirCaseService.Tools.CoreDefinitionsPacker;

// Usage: CoreDefinitionsPacker <specification.zip> <package version> <output zip>
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: CoreDefinitionsPacker <specification.zip of Hl7.Fhir.Specification.Data.R4> <package version> <output .zip>");
    return 2;
}

var specificationZip = args[0];
var packageVersion = args[1];
var outputPath = args[2];
if (!File.Exists(specificationZip))
{
    Console.Error.WriteLine($"specification.zip not found: {specificationZip}");
    return 2;
}

try
{
    var repairs = new PublicationRepairs();
    var resources = SourceBundles.Read(specificationZip).Select(ResourceTrimmer.Trim).Select(repairs.Repair).ToList();
    var fhirVersions = resources.Select(r => (string?)r["fhirVersion"]).OfType<string>().Distinct().ToList();
    if (fhirVersions is not ["4.0.1"])
    {
        Console.Error.WriteLine($"expected FHIR 4.0.1 definitions only, found fhirVersion {string.Join(", ", fhirVersions)}");
        return 1;
    }
    var summary = CoreArchiveWriter.Write(resources, SourceBundles.ReadProvenance(specificationZip, packageVersion, fhirVersions[0]), outputPath);
    Console.WriteLine($"repaired {repairs.Changes.Count} defects of the publication:");
    foreach (var change in repairs.Changes)
    {
        Console.WriteLine($"  {change}");
    }
    Console.WriteLine($"wrote {outputPath}: {summary.EntryCount} resources, {summary.ArchiveBytes} bytes");
    foreach (var (type, count) in summary.CountsByType)
    {
        Console.WriteLine($"  {type}: {count}");
    }
    return 0;
}
catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException or FormatException)
{
    Console.Error.WriteLine($"packing failed: {ex.Message}");
    return 1;
}
