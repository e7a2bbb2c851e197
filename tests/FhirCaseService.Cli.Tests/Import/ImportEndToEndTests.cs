using System.Text.Json;
using FhirCaseService.Cli.Tests.CaseSeries;
using FhirCaseService.Cli.Tests.Export;

namespace FhirCaseService.Cli.Tests.Import;

/// <summary>
/// `fhircase import` against the real service's $import over SQLite and PostgreSQL: valid lines stored, invalid ones
/// named by file and line, a re-run changing nothing, a generated cohort loaded whole.
/// </summary>
public abstract class ImportEndToEndTests<THost>(THost host) : IDisposable where THost : ExportServiceHost
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Task<CliRun> Import(params string[] arguments) =>
        ImportCli.RunAsync(_folder.Path, [.. arguments, "--server", host.Base, "--poll-interval", "0.1", "--timeout", "120"]);

    private async Task<JsonElement?> ReadAsync(string path)
    {
        using var response = await host.Client.GetAsync(path);
        if (!response.IsSuccessStatusCode)
            return null;
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Valid_lines_are_stored_invalid_ones_are_named_by_file_and_line_and_a_rerun_changes_nothing()
    {
        var id = "import-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(_folder.File("patients.ndjson"), string.Join('\n',
            $$"""{"resourceType":"Patient","id":"{{id}}-1","gender":"female","birthDate":"2001-02-03"}""",
            $$"""{"resourceType":"Patient","id":"{{id}}-2","gender":"not-a-gender"}""",
            $$"""{"resourceType":"Patient","id":"{{id}}-3","gender":"male"}"""));

        var run = await Import("patients.ndjson");

        Assert.True(run.ExitCode == 1, run.Out + run.Error);
        Assert.Contains("patients.ndjson:2: error", run.Out);
        Assert.Contains("imported 2 of 3 resources", run.Out);
        var stored = await ReadAsync($"Patient/{id}-1");
        Assert.Equal("female", stored?.GetProperty("gender").GetString());
        Assert.Null(await ReadAsync($"Patient/{id}-2"));
        var version = stored?.GetProperty("meta").GetProperty("versionId").GetString();

        var again = await Import("patients.ndjson");

        Assert.Equal(1, again.ExitCode);
        Assert.Equal(version, (await ReadAsync($"Patient/{id}-1"))?.GetProperty("meta").GetProperty("versionId").GetString());
    }

    [Fact]
    public async Task A_generated_cohort_is_loaded_whole()
    {
        var generate = await CliRun.StartIn(_folder.Path, "generate", "--patients", "3", "--seed", "11", "--format", "ndjson", "-o", "cohort", "--quiet");
        Assert.True(generate.ExitCode == 0, generate.Error);
        var lines = Directory.GetFiles(_folder.File("cohort"), "*.ndjson").Sum(f => File.ReadLines(f).Count(l => l.Length > 0));

        var run = await Import("cohort");

        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Contains($"imported {lines} of {lines} resources", run.Out);
        var firstPatient = JsonDocument.Parse(File.ReadLines(_folder.File("cohort/Patient.ndjson")).First()).RootElement.GetProperty("id").GetString();
        Assert.NotNull(await ReadAsync($"Patient/{firstPatient}"));
    }
}

public sealed class SqliteImportEndToEndTests(SqliteExportServiceHost host)
    : ImportEndToEndTests<SqliteExportServiceHost>(host), IClassFixture<SqliteExportServiceHost>;

public sealed class PostgresImportEndToEndTests(PostgresExportServiceHost host)
    : ImportEndToEndTests<PostgresExportServiceHost>(host), IClassFixture<PostgresExportServiceHost>;
