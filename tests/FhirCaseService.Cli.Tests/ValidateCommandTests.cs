using FhirCaseService.Cli.Commands;
using FhirCaseService.Cli.Validate;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateCommandTests : IDisposable
{
    private const string Valid = "{\"resourceType\":\"Patient\"}";
    private const string Invalid = "{\n  \"resourceType\": \"Patient\",\n  \"gender\": \"bad\"\n}";
    private readonly ValidateTestFolder _folder = new();
    private readonly ScriptedValidator _validator = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Reports an error at line 3, column 3 for content containing "bad", a warning for "odd", a fatal for "Foo", and fails on "crash".</summary>
    private sealed class ScriptedValidator : IResourceValidator
    {
        public List<(ResourceFormat Format, IReadOnlyList<string> Profiles)> Calls { get; } = [];

        public Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            lock (Calls)
                Calls.Add((format, options?.Profiles ?? []));
            if (content.Contains("crash", StringComparison.Ordinal))
                throw new InvalidOperationException("boom");
            var issues = new List<ValidationIssue>();
            if (content.Contains("bad", StringComparison.Ordinal))
                issues.Add(new(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.CodeInvalid, "gender 'bad' is not allowed",
                    new IssueLocation("Patient.gender", 3, 3), "binding"));
            if (content.Contains("Foo", StringComparison.Ordinal))
                issues.Add(new(OperationOutcome.IssueSeverity.Fatal, OperationOutcome.IssueType.Structure, "unknown resource type 'Foo'",
                    new IssueLocation("(document)", 1, 1), "structure"));
            if (content.Contains("odd", StringComparison.Ordinal))
                issues.Add(new(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.BusinessRule, "odd",
                    new IssueLocation("Patient", 1, 1), "best-practice"));
            return System.Threading.Tasks.Task.FromResult(new ValidationResult(issues));
        }

        public Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the CLI validates text");

        public Task<ValidationResult> ValidateAsync(FhirCaseService.Validation.Instance.ParsedInstance instance, ValidationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the CLI validates text");
    }

    private async Task<(int ExitCode, string Out, string Error)> Run(params string[] arguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var command = new ValidateCommand((_, _, _) => System.Threading.Tasks.Task.FromResult<IResourceValidator>(_validator), () => false);
        var exitCode = await command.RunAsync(arguments, new CliContext(stdout, stderr, _folder.Root), CancellationToken.None);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async System.Threading.Tasks.Task Valid_files_exit_0()
    {
        _folder.With("a.json", Valid).With("b.xml", "<Patient xmlns=\"http://hl7.org/fhir\"/>");

        var (exitCode, output, _) = await Run(".");

        Assert.Equal(0, exitCode);
        Assert.Contains("2 files checked, 0 failed (fail-on error), no issues", output);
        Assert.Equal([ResourceFormat.Json, ResourceFormat.Xml], _validator.Calls.Select(c => c.Format).Order());
    }

    [Fact]
    public async System.Threading.Tasks.Task An_error_exits_1_and_is_printed_with_file_line_and_column()
    {
        _folder.With("a.json", Valid).With("p/bad.json", Invalid);

        var (exitCode, output, _) = await Run("a.json", "p/*.json");

        Assert.Equal(1, exitCode);
        Assert.Contains("p/bad.json:3:3 error Patient.gender gender 'bad' is not allowed [binding]\n", output);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_warning_passes_by_default_and_fails_with_fail_on_warning()
    {
        _folder.With("w.json", "{\"resourceType\":\"Patient\",\"id\":\"odd\"}");

        Assert.Equal(0, (await Run("w.json")).ExitCode);
        Assert.Equal(1, (await Run("w.json", "--fail-on", "warning")).ExitCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task Malformed_json_exits_2_naming_file_line_and_column_on_stderr()
    {
        _folder.With("a.json", Invalid).With("broken.json", "{\n  \"resourceType\": \"Patient\",\n  \"id\" \"x\"\n}");

        var (exitCode, output, error) = await Run("--format", "junit", ".");

        Assert.Equal(2, exitCode);
        Assert.Contains("fhircase validate: broken.json:3:8 fatal - not valid JSON:", error);
        Assert.Contains("<error message=\"not valid JSON:", output);
        Assert.Single(_validator.Calls);
    }

    [Fact]
    public async System.Threading.Tasks.Task Malformed_xml_and_non_fhir_json_are_unreadable_input()
    {
        _folder.With("a.xml", "<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"1\">\n</Patient>").With("b.json", "[1, 2]");

        var (exitCode, _, error) = await Run("a.xml", "b.json");

        Assert.Equal(2, exitCode);
        Assert.Contains("a.xml:3:3 fatal - not well-formed XML:", error);
        Assert.Contains("b.json:1:1 fatal - not a FHIR resource: expected a JSON object with a \"resourceType\" string", error);
        Assert.Empty(_validator.Calls);
    }

    [Fact]
    public async System.Threading.Tasks.Task Non_fhir_json_found_in_a_directory_is_skipped_with_a_note()
    {
        _folder.With("pkg/package.json", "{\"name\":\"x\"}").With("pkg/a.json", Valid).With("pkg/a.expected.json", "{\"rule\":\"r\"}");

        var (exitCode, output, error) = await Run("pkg");

        Assert.Equal(0, exitCode);
        Assert.Contains("1 file checked", output);
        Assert.Contains("skipped 2 files found by search that hold no FHIR resource (first: pkg/a.expected.json)", error);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_search_that_finds_no_fhir_resource_exits_2()
    {
        _folder.With("pkg/package.json", "{\"name\":\"x\"}");

        var (exitCode, _, error) = await Run("pkg/*.json");

        Assert.Equal(2, exitCode);
        Assert.Contains("no FHIR resource among the 1 file found", error);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_export_folder_whose_manifest_lists_no_files_is_clean_and_exits_0()
    {
        _folder.With("export/manifest.json", "{\"transactionTime\":\"2026-11-26T10:00:00.000Z\",\"request\":\"x\",\"requiresAccessToken\":false,\"output\":[],\"error\":[]}");

        var (exitCode, _, error) = await Run("export");

        Assert.Equal(0, exitCode);
        Assert.Contains("manifest lists no files", error);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_export_folder_whose_manifest_lists_files_that_are_missing_exits_2()
    {
        _folder.With("export/manifest.json", "{\"transactionTime\":\"2026-11-26T10:00:00.000Z\",\"request\":\"x\",\"requiresAccessToken\":false,\"output\":[{\"type\":\"Patient\",\"url\":\"http://h/f\",\"count\":1}],\"error\":[]}");

        var (exitCode, _, error) = await Run("export");

        Assert.Equal(2, exitCode);
        Assert.Contains("no FHIR resource among the 1 file found", error);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_fatal_issue_from_the_engine_makes_the_file_unreadable_and_exits_2()
    {
        _folder.With("foo.json", "{\"resourceType\":\"Foo\"}").With("a.json", Invalid);

        var (exitCode, output, error) = await Run("foo.json", "a.json");

        Assert.Equal(2, exitCode);
        Assert.Contains("foo.json: unreadable", output);
        Assert.Contains("fhircase validate: foo.json:1:1 fatal (document) unknown resource type 'Foo' [structure]", error);
    }

    [Fact]
    public async System.Threading.Tasks.Task Ndjson_issues_carry_the_line_of_their_resource()
    {
        _folder.With("export.ndjson", Valid + "\n" + Valid + "\n" + "{\"resourceType\":\"Patient\",\"gender\":\"bad\"}\n");

        var (exitCode, output, _) = await Run("export.ndjson", "--quiet");

        Assert.Equal(1, exitCode);
        Assert.Equal("export.ndjson:3:3 error Patient.gender gender 'bad' is not allowed [binding]\n", output);
        Assert.Equal(3, _validator.Calls.Count);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_malformed_ndjson_line_is_reported_at_its_line_and_the_other_lines_are_still_validated()
    {
        _folder.With("export.ndjson", Valid + "\n{\"resourceType\":\n" + Valid + "\n");

        var (exitCode, _, error) = await Run("export.ndjson");

        Assert.Equal(2, exitCode);
        Assert.Contains("export.ndjson:2:", error);
        Assert.Equal(2, _validator.Calls.Count);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_engine_exception_on_one_file_is_a_fatal_issue_of_that_file_and_the_run_goes_on()
    {
        _folder.With("a.json", "{\"resourceType\":\"Patient\",\"id\":\"crash\"}").With("b.json", Invalid);

        var (exitCode, output, _) = await Run(".", "-q");

        Assert.Equal(1, exitCode);
        Assert.Contains("a.json fatal - the validator failed on this file: InvalidOperationException: boom [validator-exception]", output);
        Assert.Contains("b.json:3:3 error", output);
    }

    [Fact]
    public async System.Threading.Tasks.Task Profiles_given_on_the_command_line_reach_the_engine()
    {
        _folder.With("a.json", Valid);

        await Run("a.json", "--profile", "https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient");

        Assert.Equal(["https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient"], Assert.Single(_validator.Calls).Profiles);
    }

    [Fact]
    public async System.Threading.Tasks.Task Packages_reach_the_factory_as_full_paths_and_a_setup_failure_exits_2()
    {
        _folder.With("a.json", Valid);
        IReadOnlyList<string>? seen = null;
        var command = new ValidateCommand((packages, _, _) =>
        {
            seen = packages;
            throw new ValidateSetupException("pkg.tgz: not a FHIR package (no package/package.json)");
        }, () => false);
        var stderr = new StringWriter();

        var exitCode = await command.RunAsync(["a.json", "--package", "pkg.tgz"], new CliContext(new StringWriter(), stderr, _folder.Root), CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.Equal([Path.Combine(_folder.Root, "pkg.tgz")], seen);
        Assert.Contains("pkg.tgz: not a FHIR package", stderr.ToString());
    }

    [Fact]
    public async System.Threading.Tasks.Task Missing_input_is_a_usage_error()
    {
        var (exitCode, _, error) = await Run("missing.json");

        Assert.Equal(2, exitCode);
        Assert.Equal("fhircase validate: missing.json: no such file or directory\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async System.Threading.Tasks.Task Sarif_output_covers_every_file_in_one_run()
    {
        _folder.With("a.json", Invalid).With("b.json", Invalid);

        var (_, output, _) = await Run(".", "--format", "sarif");

        var results = System.Text.Json.Nodes.JsonNode.Parse(output)!["runs"]![0]!["results"]!.AsArray();
        Assert.Equal(["a.json", "b.json"], results.Select(r => (string?)r!["locations"]![0]!["physicalLocation"]!["artifactLocation"]!["uri"]));
    }
}
