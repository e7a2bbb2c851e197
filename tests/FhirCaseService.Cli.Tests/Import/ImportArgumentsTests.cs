using FhirCaseService.Cli.Import;
using FhirCaseService.Cli.Tests.CaseSeries;

namespace FhirCaseService.Cli.Tests.Import;

public sealed class ImportArgumentsTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private static string Error(params string[] arguments)
    {
        Assert.Null(ImportArguments.Parse(arguments, NoEnvironment, out var error));
        return error!;
    }

    [Fact]
    public void Files_server_and_defaults_are_read()
    {
        var parsed = ImportArguments.Parse(["a.ndjson", "dir", "--server", "https://fhir.example.org/fhir/", "-q"], NoEnvironment, out var error);

        Assert.Null(error);
        Assert.Equal(["a.ndjson", "dir"], parsed!.Inputs);
        Assert.Equal("https://fhir.example.org/fhir", parsed.Server.AbsoluteUri);
        Assert.Equal(ImportArguments.DefaultPollInterval, parsed.PollInterval);
        Assert.Null(parsed.Timeout);
        Assert.True(parsed.Quiet);
        Assert.Null(parsed.Authentication.Token);
    }

    [Fact]
    public void A_backend_services_client_asks_for_create_and_update_by_default()
    {
        var parsed = ImportArguments.Parse(["a.ndjson", "--server", "http://localhost/fhir", "--client-id", "c", "--key", "k.pem"], NoEnvironment, out _);

        Assert.Equal("system/*.cu", parsed!.Authentication.Scope);
    }

    [Theory]
    [InlineData(new[] { "--server", "http://localhost/fhir" }, "no files given")]
    [InlineData(new[] { "a.ndjson" }, "--server URL is required")]
    [InlineData(new[] { "a.ndjson", "--server", "ftp://example.org" }, "--server must be an http or https base URL")]
    [InlineData(new[] { "a.ndjson", "--server", "http://localhost/fhir", "--poll-interval", "0" }, "--poll-interval must be a positive number of seconds")]
    [InlineData(new[] { "a.ndjson", "--server", "http://localhost/fhir", "--timeout", "soon" }, "--timeout must be a positive number of seconds")]
    [InlineData(new[] { "a.ndjson", "--server", "http://localhost/fhir", "--token", "t", "--client-id", "c", "--key", "k.pem" }, "not both")]
    [InlineData(new[] { "a.ndjson", "--server", "http://localhost/fhir", "--scope", "system/*.c" }, "only apply with --client-id and --key")]
    [InlineData(new[] { "a.ndjson", "--server", "http://localhost/fhir", "--server", "http://other/fhir" }, "option --server given more than once")]
    [InlineData(new[] { "a.ndjson", "--server" }, "option --server needs a value")]
    [InlineData(new[] { "a.ndjson", "--server", "http://localhost/fhir", "--validate" }, "unknown option --validate")]
    public void Bad_command_lines_are_usage_errors_that_say_what_is_wrong(string[] arguments, string message)
    {
        Assert.Contains(message, Error(arguments));
    }

    [Fact]
    public async Task A_usage_error_exits_2_with_the_message_and_the_usage_on_stderr()
    {
        var run = await ImportCli.RunAsync(CliRun.RepositoryRoot, "a.ndjson");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("fhircase import: --server URL is required", run.Error);
        Assert.Contains("usage: fhircase import", run.Error);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task A_missing_file_or_a_named_file_that_is_no_resource_exits_2_before_anything_is_sent()
    {
        using var folder = new TemporaryFolder();
        File.WriteAllText(folder.File("package.json"), """{"name":"not-fhir"}""");

        var run = await ImportCli.RunAsync(folder.Path, "missing.ndjson", "package.json", "--server", "http://127.0.0.1:9/fhir");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("fhircase import: missing.ndjson: no such file or folder", run.Error);
        Assert.Contains("fhircase import: package.json: not a FHIR resource", run.Error);
        Assert.DoesNotContain("cannot reach", run.Error);
    }

    [Fact]
    public async Task Help_prints_the_usage()
    {
        var run = await CliRun.Start("import", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("usage: fhircase import <files|dirs...> --server URL", run.Out);
    }
}
