using FhirCaseService.Cli.Commands;

namespace FhirCaseService.Cli.Tests;

/// <summary>`fhircase validate` with the real engine, core R4 and our bundled package, on the repository's examples.</summary>
public sealed class ValidateEngineTests
{
    private static readonly string Root = RepositoryRoot.Path;

    private static async Task<(int ExitCode, string Out, string Error)> Run(params string[] arguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await new ValidateCommand().RunAsync(arguments, new CliContext(stdout, stderr, Root), CancellationToken.None);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Validate_is_registered_as_a_fhircase_command()
    {
        var stdout = new StringWriter();

        var exitCode = await CliApp.RunAsync(["help", "validate"], stdout, new StringWriter());

        Assert.Equal(0, exitCode);
        Assert.StartsWith("usage: fhircase validate <files|dirs|globs...>", stdout.ToString());
    }

    [Fact]
    public async Task Valid_profiled_examples_exit_0()
    {
        var (exitCode, output, error) = await Run("examples/resources/Patient-example-patient.json", "examples/resources/Observation-example-mrd-flow.json", "-q");

        Assert.True(exitCode == 0, output + error);
    }

    [Fact]
    public async Task An_invalid_example_exits_1_with_its_rule_at_its_line()
    {
        var (exitCode, output, _) = await Run("examples/invalid/patient-gender-missing.json", "--format", "sarif");

        Assert.Equal(1, exitCode);
        var result = System.Text.Json.Nodes.JsonNode.Parse(output)!["runs"]![0]!["results"]!.AsArray()
            .Single(r => (string?)r!["level"] == "error")!;
        Assert.Equal("cardinality-min", (string?)result["ruleId"]);
        Assert.Equal("Patient", (string?)result["locations"]![0]!["logicalLocations"]![0]!["fullyQualifiedName"]);
    }

    [Fact]
    public async Task Profile_named_on_the_command_line_is_applied()
    {
        // A plain core Patient without a pseudonym identifier is valid R4 but breaks our Patient profile.
        var (plainExit, _, _) = await Run("tests/FhirCaseService.Cli.Tests/Golden/plain-patient.json", "-q");
        var (profiledExit, output, _) = await Run("tests/FhirCaseService.Cli.Tests/Golden/plain-patient.json", "-q",
            "--profile", "https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient");

        Assert.Equal(0, plainExit);
        Assert.Equal(1, profiledExit);
        Assert.Contains("Patient.identifier", output);
    }

    [Fact]
    public async Task Unknown_profile_is_a_usage_error()
    {
        var (exitCode, _, error) = await Run("examples/resources/Patient-example-patient.json", "--profile", "https://example.org/StructureDefinition/nope");

        Assert.Equal(2, exitCode);
        Assert.Contains("--profile https://example.org/StructureDefinition/nope: no StructureDefinition", error);
    }

    [Fact]
    public async Task Missing_package_is_a_usage_error()
    {
        var (exitCode, _, error) = await Run("examples/resources/Patient-example-patient.json", "--package", "no-such-package.tgz");

        Assert.Equal(2, exitCode);
        Assert.Contains("--package", error);
        Assert.Contains("no-such-package.tgz", error);
    }

    [Fact]
    public async Task A_folder_given_as_package_adds_its_profiles()
    {
        // The profiles folder is our package on disk; loading it again beside the bundled copy must be harmless.
        var (exitCode, output, error) = await Run("examples/resources/Patient-example-patient.json", "--package", "profiles", "-q");

        Assert.True(exitCode == 0, output + error);
    }
}
