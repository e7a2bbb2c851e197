using FhirCaseService.Conformance.Packages;
using Hl7.Fhir.Model;

namespace FhirCaseService.Conformance.Tests;

public sealed class FhirPackageTests : IDisposable
{
    private readonly TestPackages _packages = new();

    public void Dispose() => _packages.Dispose();

    [Fact]
    public void A_package_directory_resolves_its_canonicals_and_reads_the_manifest()
    {
        var package = FhirPackage.FromPath(_packages.WriteDirectory());

        Assert.Equal("example.test#0.1.0", package.Manifest!.Display);
        Assert.Equal("http://example.org/fhir", package.Manifest.Canonical);
        Assert.IsType<StructureDefinition>(package.Source.Resolve(TestPackages.ProfileUrl));
        Assert.IsType<StructureDefinition>(package.Source.Resolve(TestPackages.ProfileUrl + "|0.1.0"));
        Assert.IsType<ValueSet>(package.Source.Resolve(TestPackages.ValueSetUrl));
        Assert.IsType<CodeSystem>(package.Source.Resolve(TestPackages.CodeSystemUrl));
        Assert.Empty(package.Source.Issues);
    }

    [Fact]
    public void A_package_tarball_resolves_its_canonicals()
    {
        var package = FhirPackage.FromPath(_packages.WriteTarball());

        Assert.Equal("example.test", package.Manifest!.Name);
        Assert.Equal(3, package.Source.Artifacts.Count);
        Assert.IsType<StructureDefinition>(package.Source.Resolve(TestPackages.ProfileUrl));
        Assert.IsType<ValueSet>(package.Source.Resolve(TestPackages.ValueSetUrl));
        Assert.Empty(package.Source.Issues);
    }

    [Fact]
    public void Indexing_a_package_parses_nothing_and_examples_are_not_indexed()
    {
        var package = FhirPackage.FromDirectory(_packages.WriteDirectory());

        Assert.Equal(0, package.Source.ParseCount);
        Assert.DoesNotContain(package.Source.Artifacts, a => a.Location.Contains("example", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_without_package_json_is_read_as_plain_conformance_resources()
    {
        var directory = _packages.WriteDirectory();
        File.Delete(Path.Combine(directory, "package.json"));

        var package = FhirPackage.FromDirectory(directory);

        Assert.Null(package.Manifest);
        Assert.IsType<StructureDefinition>(package.Source.Resolve(TestPackages.ProfileUrl));
    }

    [Fact]
    public void An_xml_resource_in_a_directory_resolves_like_a_json_one()
    {
        var directory = _packages.WriteDirectory(new Dictionary<string, string>
        {
            ["ValueSet-xml.xml"] = """
                <ValueSet xmlns="http://hl7.org/fhir">
                  <id value="xml-codes"/>
                  <url value="http://example.org/fhir/ValueSet/xml-codes"/>
                  <version value="1.0.0"/>
                  <status value="draft"/>
                  <compose><include><system value="http://example.org/fhir/CodeSystem/test-codes"/></include></compose>
                </ValueSet>
                """,
            ["not-fhir.xml"] = "<project><url value=\"http://example.org/not-a-resource\"/></project>",
        });

        var package = FhirPackage.FromDirectory(directory);

        var valueSet = Assert.IsType<ValueSet>(package.Source.Resolve("http://example.org/fhir/ValueSet/xml-codes|1.0.0"));
        Assert.Equal("xml-codes", valueSet.Id);
        Assert.DoesNotContain(package.Source.Artifacts, a => a.Location.EndsWith("not-fhir.xml", StringComparison.Ordinal));
        Assert.Empty(package.Source.Issues);
    }

    [Fact]
    public void A_broken_json_file_is_reported_and_the_rest_still_resolves()
    {
        var directory = _packages.WriteDirectory(new Dictionary<string, string> { ["broken.json"] = "{\"resourceType\": \"ValueSet\", " });

        var package = FhirPackage.FromDirectory(directory);

        var issue = Assert.Single(package.Source.Issues);
        Assert.EndsWith("broken.json", issue.Location, StringComparison.Ordinal);
        Assert.IsType<ValueSet>(package.Source.Resolve(TestPackages.ValueSetUrl));
    }

    [Fact]
    public void A_resource_the_deserializer_rejects_is_reported_when_resolved()
    {
        var directory = _packages.WriteDirectory(new Dictionary<string, string>
        {
            ["ValueSet-bad.json"] = """{"resourceType":"ValueSet","url":"http://example.org/fhir/ValueSet/bad","status":"not-a-status","unknownElement":1}""",
        });
        var package = FhirPackage.FromDirectory(directory);

        package.Source.Resolve("http://example.org/fhir/ValueSet/bad");

        Assert.Contains(package.Source.Issues, i => i.Location.EndsWith("ValueSet-bad.json", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_path_gives_a_clear_error_naming_it()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-package-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<FhirPackageException>(() => FhirPackage.FromPath(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_tarball_gives_a_clear_error()
    {
        var directory = _packages.WriteDirectory();
        var notATarball = Path.Combine(directory, "fake.tgz");
        File.WriteAllText(notATarball, "this is not gzip");

        var error = Assert.Throws<FhirPackageException>(() => FhirPackage.FromPath(notATarball));

        Assert.Contains("fake.tgz", error.Message, StringComparison.Ordinal);
    }
}
