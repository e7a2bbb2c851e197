using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace FhirCaseService.Conformance.Tests;

/// <summary>Writes small FHIR packages to temporary directories and tarballs for tests.</summary>
internal sealed class TestPackages : IDisposable
{
    public const string ProfileUrl = "http://example.org/fhir/StructureDefinition/test-observation";
    public const string ValueSetUrl = "http://example.org/fhir/ValueSet/test-codes";
    public const string CodeSystemUrl = "http://example.org/fhir/CodeSystem/test-codes";

    public static readonly IReadOnlyDictionary<string, string> Files = new Dictionary<string, string>
    {
        ["package.json"] = """{"name":"example.test","version":"0.1.0","canonical":"http://example.org/fhir","fhirVersions":["4.0.1"],"dependencies":{"hl7.fhir.r4.core":"4.0.1"}}""",
        ["StructureDefinition-test-observation.json"] = $$$"""
            {"resourceType":"StructureDefinition","id":"test-observation","url":"{{{ProfileUrl}}}","version":"0.1.0",
             "name":"TestObservation","status":"draft","fhirVersion":"4.0.1","kind":"resource","abstract":false,
             "type":"Observation","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation","derivation":"constraint",
             "differential":{"element":[
               {"id":"Observation.status","path":"Observation.status","fixedCode":"final"},
               {"id":"Observation.subject","path":"Observation.subject","min":1}]}}
            """,
        ["CodeSystem-test-codes.json"] = $$$"""
            {"resourceType":"CodeSystem","id":"test-codes","url":"{{{CodeSystemUrl}}}","status":"draft","content":"complete",
             "concept":[{"code":"parent","display":"Parent","concept":[{"code":"child","display":"Child"}]},{"code":"other","display":"Other"}]}
            """,
        ["ValueSet-test-codes.json"] = $$$"""
            {"resourceType":"ValueSet","id":"test-codes","url":"{{{ValueSetUrl}}}","status":"draft",
             "compose":{"include":[
               {"system":"{{{CodeSystemUrl}}}","filter":[{"property":"concept","op":"is-a","value":"parent"}]},
               {"system":"http://snomed.info/sct","concept":[{"code":"277571004","display":"B-cell acute lymphoblastic leukemia"}]},
               {"system":"http://loinc.org"}]}}
            """,
        ["example/Observation-example.json"] = """{"resourceType":"Observation","id":"example","status":"final","code":{"text":"x"}}""",
    };

    private readonly List<string> _paths = [];

    /// <summary>A directory with the package files (plus any extra files given).</summary>
    public string WriteDirectory(IReadOnlyDictionary<string, string>? extraFiles = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fhircase-pkg-" + Guid.NewGuid().ToString("N"));
        _paths.Add(directory);
        foreach (var (name, content) in Files.Concat(extraFiles ?? new Dictionary<string, string>()))
        {
            var path = Path.Combine(directory, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }
        return directory;
    }

    /// <summary>An npm-style .tgz with every file under package/.</summary>
    public string WriteTarball()
    {
        var path = Path.Combine(Path.GetTempPath(), "fhircase-pkg-" + Guid.NewGuid().ToString("N") + ".tgz");
        _paths.Add(path);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, content) in Files)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "package/" + name)
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            };
            tar.WriteEntry(entry);
        }
        return path;
    }

    public void Dispose()
    {
        foreach (var path in _paths)
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }
}
