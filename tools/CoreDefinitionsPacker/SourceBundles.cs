using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Tools.CoreDefinitionsPacker;

/// <summary>
/// Reads the HL7 FHIR R4 core artifacts from the official specification.zip of the NuGet package
/// Hl7.Fhir.Specification.Data.R4 (the design card's Hl7.Fhir.Specification.R4 brings it in). The zip holds the
/// specification's definition Bundles as XML; each resource is read with the SDK's R4 model and written as JSON.
/// </summary>
internal static class SourceBundles
{
    public const string PackageId = "Hl7.Fhir.Specification.Data.R4";

    // The files of the specification that hold what validation, snapshots and terminology use. Left out:
    // conceptmaps.xml, namingsystem-registry.xml and the XSD/Schematron files.
    private static readonly (string File, string[] ResourceTypes)[] Selection =
    [
        ("profiles-types.xml", ["StructureDefinition"]),
        ("profiles-resources.xml", ["StructureDefinition", "CompartmentDefinition"]),
        ("profiles-others.xml", ["StructureDefinition"]),
        ("extension-definitions.xml", ["StructureDefinition"]),
        ("valuesets.xml", ["ValueSet", "CodeSystem"]),
        ("v3-codesystems.xml", ["ValueSet", "CodeSystem"]),
        ("v2-tables.xml", ["ValueSet", "CodeSystem"]),
        ("search-parameters.xml", ["SearchParameter"]),
    ];

    // The official files are read as published: an element the R4 model does not know would be kept (Ostrich), and
    // the packer fails on any it finds (see Read), so nothing is silently dropped.
    private static readonly FhirXmlDeserializer Xml = new(new DeserializerSettings().UsingMode(DeserializationMode.Ostrich));
    private static readonly BaseFhirJsonSerializer Json = new(ModelInfo.ModelInspector);

    public static IEnumerable<JsonObject> Read(string specificationZip)
    {
        using var zip = ZipFile.OpenRead(specificationZip);
        foreach (var (file, resourceTypes) in Selection)
        {
            var entry = zip.GetEntry(file) ?? throw new IOException($"{specificationZip} has no {file}");
            Bundle bundle;
            using (var reader = new StreamReader(entry.Open()))
                bundle = Xml.DeserializeResource(reader.ReadToEnd()) as Bundle
                    ?? throw new InvalidDataException($"{file} is not a Bundle");
            foreach (var resource in bundle.Entry.Select(e => e.Resource).OfType<Resource>().Where(r => resourceTypes.Contains(r.TypeName)))
            {
                if (JsonNode.Parse(Json.SerializeToString(resource)) is not JsonObject json)
                    throw new InvalidDataException($"{file}: {resource.TypeName}/{resource.Id} did not serialize to a JSON object");
                yield return json;
            }
        }
    }

    /// <summary>Where the definitions came from: the package, its version, the FHIR version and the zip's digest.</summary>
    public static IReadOnlyDictionary<string, string> ReadProvenance(string specificationZip, string packageVersion, string fhirVersion)
    {
        using var stream = File.OpenRead(specificationZip);
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["package"] = PackageId,
            ["packageVersion"] = packageVersion,
            ["packageLicense"] = "BSD-3-Clause (package); the FHIR definitions are CC0",
            ["version"] = fhirVersion,
            ["source"] = "specification.zip",
            ["sourceSha256"] = Convert.ToHexStringLower(SHA256.HashData(stream)),
        };
    }
}
