using FhirCaseService.Tools.CoreDefinitionsPacker;

// Usage: CoreDefinitionsPacker <dist/fhir/r4 directory> <output zip>
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: CoreDefinitionsPacker <definitions directory (dist/fhir/r4)> <output .zip>");
    return 2;
}

var sourceDirectory = args[0];
var outputPath = args[1];
if (!Directory.Exists(sourceDirectory))
{
    Console.Error.WriteLine($"definitions directory not found: {sourceDirectory}");
    return 2;
}

try
{
    var alignment = new R4ModelAlignment();
    var resources = SourceBundles.Read(sourceDirectory)
        .Where(alignment.Belongs)
        .Select(ResourceTrimmer.Trim)
        .Select(alignment.Align)
        .ToList();
    var summary = CoreArchiveWriter.Write(resources, SourceBundles.ReadProvenance(sourceDirectory), outputPath);
    Console.WriteLine($"aligned with the R4 model ({alignment.Changes.Count} changes):");
    foreach (var change in alignment.Changes)
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
catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"packing failed: {ex.Message}");
    return 1;
}
