using System.Diagnostics;
using System.Text.Json;
using FhirCaseService.Cli.Export;
using FhirCaseService.Cli.Tests.CaseSeries;
using Microsoft.AspNetCore.Http;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// `fhircase export` against a scripted server, for what the real service cannot be made to do on cue: Retry-After,
/// 429, refusals, failed jobs, error files, a connection dropped in the middle of a file.
/// </summary>
public sealed class ExportProtocolTests : IAsyncLifetime
{
    private readonly TemporaryFolder _folder = new();
    private readonly ScriptedExport _script = new();
    private FakeFhirServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeFhirServer.StartAsync(_script.Handle);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private string Out => _folder.File("out");

    private Task<CliRun> Export(params string[] extra) =>
        ExportCli.RunAsync(_folder.Path, ["--server", _server.Base, "-o", "out", "--poll-interval", "0.05", .. extra]);

    [Fact]
    public async Task Kick_off_asks_for_an_asynchronous_ndjson_export_with_the_requested_parameters()
    {
        _script.WithOutput("Patient", "p1", 2);

        var run = await Export("--type", "Patient,Observation", "--since", "2026-01-01T00:00:00Z",
            "--type-filter", "Observation?code=http://loinc.org|51124-6", "--type-filter", "Patient?gender=female,male");

        Assert.Equal(0, run.ExitCode);
        var kickOff = Assert.Single(_server.RequestsTo("/fhir/$export"));
        Assert.Equal("GET", kickOff.Method);
        Assert.Equal("application/fhir+json", kickOff.Accept);
        Assert.Equal("respond-async", kickOff.Prefer);
        Assert.Equal("application/fhir+ndjson", kickOff.Query["_outputFormat"]);
        Assert.Equal("Observation,Patient", kickOff.Query["_type"]);
        Assert.Equal("2026-01-01T00:00:00Z", kickOff.Query["_since"]);
        Assert.Equal(new[] { "Observation?code=http://loinc.org|51124-6", "Patient?gender=female,male" }, kickOff.Query["_typeFilter"].Select(v => v ?? ""));
    }

    [Fact]
    public async Task Group_export_kicks_off_at_the_group()
    {
        _script.WithOutput("Patient", "p1", 1);

        var run = await Export("--group", "case-series-1");

        Assert.Equal(0, run.ExitCode);
        Assert.Single(_server.RequestsTo("/fhir/Group/case-series-1/$export"));
    }

    [Fact]
    public async Task Every_file_is_downloaded_under_its_type_name_with_the_manifest_and_the_job_released()
    {
        _script.WithOutput("Patient", "a", 4).WithOutput("Observation", "b", 3).WithOutput("Observation", "c", 2)
            .WithErrorFile("e", FakeFhirServer.OutcomeJson("warning", "informational", "one Observation has no subject"));

        var run = await Export();

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(_script.Files["a"], File.ReadAllText(Path.Combine(Out, "Patient.1.ndjson")));
        Assert.Equal(_script.Files["b"], File.ReadAllText(Path.Combine(Out, "Observation.1.ndjson")));
        Assert.Equal(_script.Files["c"], File.ReadAllText(Path.Combine(Out, "Observation.2.ndjson")));
        Assert.Equal(_script.Files["e"], File.ReadAllText(Path.Combine(Out, "OperationOutcome.1.ndjson")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(Out, "manifest.json")));
        Assert.Equal("2026-11-26T10:00:00Z", manifest.RootElement.GetProperty("transactionTime").GetString());
        Assert.Equal(3, manifest.RootElement.GetProperty("output").GetArrayLength());
        Assert.Empty(Directory.GetFiles(Out, "*.part", SearchOption.AllDirectories));
        Assert.Contains("exported 9 resources in 3 files", run.Out);
        Assert.Contains("--since 2026-11-26T10:00:00Z", run.Out);
        Assert.Single(_server.Requests, r => r.Method == "DELETE" && r.Path == ScriptedExport.StatusPath);
    }

    [Fact]
    public async Task Retry_after_is_waited_out_before_the_next_poll()
    {
        _script.WithOutput("Patient", "p1", 1);
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("50% done", retryAfterSeconds: 1));

        var run = await Export();

        Assert.Equal(0, run.ExitCode);
        var polls = _server.Requests.Where(r => r.Path == ScriptedExport.StatusPath && r.Method == "GET").ToList();
        Assert.Equal(2, polls.Count);
        // The poll interval is 50 ms: only the server's Retry-After explains a gap of a second.
        Assert.True(polls[1].At - polls[0].At >= TimeSpan.FromMilliseconds(950), $"second poll after {(polls[1].At - polls[0].At).TotalMilliseconds} ms");
        Assert.Contains("50% done", run.Error);
    }

    [Fact]
    public async Task Without_retry_after_the_poll_interval_is_used()
    {
        _script.WithOutput("Patient", "p1", 1);
        for (var i = 0; i < 3; i++)
            _script.StatusAnswers.Enqueue(ScriptedExport.InProgress());

        var clock = Stopwatch.StartNew();
        var run = await ExportCli.RunAsync(_folder.Path, "--server", _server.Base, "-o", "out", "--poll-interval", "0.3");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(4, _server.Requests.Count(r => r.Path == ScriptedExport.StatusPath && r.Method == "GET"));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(850), $"three waits took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Too_many_requests_while_polling_waits_and_polls_again()
    {
        _script.WithOutput("Patient", "p1", 1);
        _script.StatusAnswers.Enqueue(async context =>
        {
            context.Response.Headers.RetryAfter = "1";
            await FakeFhirServer.OutcomeAsync(context, 429, "error", "throttled", "slow down");
        });

        var run = await Export();

        Assert.Equal(0, run.ExitCode);
        var polls = _server.Requests.Where(r => r.Path == ScriptedExport.StatusPath && r.Method == "GET").ToList();
        Assert.Equal(2, polls.Count);
        Assert.True(polls[1].At - polls[0].At >= TimeSpan.FromMilliseconds(950));
    }

    [Fact]
    public async Task A_transient_server_error_while_polling_is_retried()
    {
        _script.WithOutput("Patient", "p1", 1);
        _script.StatusAnswers.Enqueue(context => FakeFhirServer.OutcomeAsync(context, 503, "error", "transient", "database failover"));

        var run = await Export();

        Assert.Equal(0, run.ExitCode);
        Assert.True(File.Exists(Path.Combine(Out, "Patient.1.ndjson")));
    }

    [Fact]
    public async Task A_refused_kick_off_exits_2_with_the_servers_message()
    {
        _script.Hook = async context =>
        {
            if (!context.Request.Path.Value!.EndsWith("$export", StringComparison.Ordinal))
                return false;
            await FakeFhirServer.OutcomeAsync(context, 400, "error", "invalid", "_type: 'Foo' is not a resource type this server exports");
            return true;
        };

        var run = await Export("--type", "Foo");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("400", run.Error);
        Assert.Contains("_type: 'Foo' is not a resource type this server exports", run.Error);
        Assert.False(File.Exists(Path.Combine(Out, "manifest.json")));
    }

    [Fact]
    public async Task A_failed_job_exits_2_with_the_servers_message()
    {
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("10%"));
        _script.StatusAnswers.Enqueue(context => FakeFhirServer.OutcomeAsync(context, 500, "fatal", "exception", "export job failed: disk full"));

        var run = await Export();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("export job failed: disk full", run.Error);
        Assert.False(File.Exists(Path.Combine(Out, "manifest.json")));
    }

    [Fact]
    public async Task A_job_the_server_no_longer_knows_exits_2_and_suggests_restart()
    {
        _script.StatusAnswers.Enqueue(context => FakeFhirServer.OutcomeAsync(context, 404, "error", "not-found", "no such job"));

        var run = await Export();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--restart", run.Error);
    }

    [Fact]
    public async Task Error_files_with_errors_exit_1_and_list_the_issues()
    {
        _script.WithOutput("Patient", "p1", 1)
            .WithErrorFile("e1", FakeFhirServer.OutcomeJson("error", "processing", "Observation/o-7 could not be read"));

        var run = await Export();

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("OperationOutcome.1.ndjson:1: error processing: Observation/o-7 could not be read", run.Out);
        Assert.True(File.Exists(Path.Combine(Out, "manifest.json")));
    }

    [Fact]
    public async Task A_download_dropped_midway_is_fetched_again_on_rerun_and_only_that_file()
    {
        _script.WithOutput("Patient", "whole", 3).WithOutput("Observation", "dropped", 50);
        var drop = true;
        _script.Hook = async context =>
        {
            if (context.Request.Path.Value != ScriptedExport.FilePrefix + "dropped" || !drop)
                return false;
            drop = false;
            _script.FileRequests.AddOrUpdate("dropped", 1, (_, n) => n + 1);
            var content = System.Text.Encoding.UTF8.GetBytes(_script.Files["dropped"]);
            context.Response.ContentLength = content.Length;
            await context.Response.Body.WriteAsync(content.AsMemory(0, content.Length / 2));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return true;
        };

        var first = await Export();

        Assert.Equal(2, first.ExitCode);
        Assert.Contains("Observation.1.ndjson", first.Error);
        Assert.Contains("run the same command again", first.Error);
        Assert.True(File.Exists(Path.Combine(Out, "Patient.1.ndjson")));
        Assert.False(File.Exists(Path.Combine(Out, "Observation.1.ndjson")));
        Assert.False(File.Exists(Path.Combine(Out, "manifest.json")));

        var second = await Export();

        Assert.Equal(0, second.ExitCode);
        Assert.Equal(_script.Files["dropped"], File.ReadAllText(Path.Combine(Out, "Observation.1.ndjson")));
        Assert.Equal(1, _script.FileRequests["whole"]);
        Assert.Equal(2, _script.FileRequests["dropped"]);
        Assert.Single(_server.RequestsTo("/fhir/$export"));
        Assert.Single(_server.Requests, r => r.Path == ScriptedExport.StatusPath && r.Method == "GET");
        Assert.Empty(Directory.GetFiles(Out, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_run_interrupted_while_the_job_runs_resumes_polling_the_same_job()
    {
        _script.WithOutput("Patient", "p1", 1);
        var running = true;
        _script.Hook = async context =>
        {
            if (context.Request.Path.Value != ScriptedExport.StatusPath || !running)
                return false;
            await ScriptedExport.InProgress("still running")(context);
            return true;
        };

        var first = await Export("--timeout", "0.5");

        Assert.Equal(2, first.ExitCode);
        Assert.Contains("--timeout", first.Error);
        running = false;

        var second = await Export();

        Assert.Equal(0, second.ExitCode);
        Assert.Single(_server.RequestsTo("/fhir/$export"));
        Assert.Contains("resuming", second.Error);
        Assert.True(File.Exists(Path.Combine(Out, "Patient.1.ndjson")));
    }

    [Fact]
    public async Task A_completed_export_run_again_fetches_nothing()
    {
        _script.WithOutput("Patient", "p1", 2);
        Assert.Equal(0, (await Export()).ExitCode);
        var requests = _server.Requests.Count;

        var again = await Export();

        Assert.Equal(0, again.ExitCode);
        Assert.Equal(requests, _server.Requests.Count);
        Assert.Contains("exported 2 resources", again.Out);
    }

    [Fact]
    public async Task A_different_request_in_the_same_folder_exits_2_unless_restart()
    {
        _script.WithOutput("Patient", "p1", 2);
        Assert.Equal(0, (await Export("--type", "Patient")).ExitCode);

        var refused = await Export("--type", "Observation");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("different request", refused.Error);
        Assert.Contains("--restart", refused.Error);
        Assert.Single(_server.RequestsTo("/fhir/$export"));

        var restarted = await Export("--type", "Observation", "--restart");

        Assert.Equal(0, restarted.ExitCode);
        Assert.Equal(2, _server.RequestsTo("/fhir/$export").Count);
        Assert.Equal("Observation", _server.RequestsTo("/fhir/$export")[1].Query["_type"]);
    }

    [Fact]
    public async Task A_folder_with_unrecorded_export_files_is_not_written_over()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "Patient.1.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"mine\"}\n");
        _script.WithOutput("Patient", "p1", 2);

        var run = await Export();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("did not record", run.Error);
        Assert.Contains("mine", File.ReadAllText(Path.Combine(Out, "Patient.1.ndjson")));
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Files_carry_the_bearer_token_only_when_the_manifest_requires_it(bool requiresAccessToken)
    {
        _script.WithOutput("Patient", "p1", 1);
        _script.RequiresAccessToken = requiresAccessToken;

        var run = await Export("--token", "secret-token");

        Assert.Equal(0, run.ExitCode);
        Assert.All(_server.Requests.Where(r => !r.Path.StartsWith(ScriptedExport.FilePrefix, StringComparison.Ordinal)),
            r => Assert.Equal("Bearer secret-token", r.Authorization));
        var download = Assert.Single(_server.Requests, r => r.Path.StartsWith(ScriptedExport.FilePrefix, StringComparison.Ordinal));
        Assert.Equal(requiresAccessToken ? "Bearer secret-token" : null, download.Authorization);
    }

    [Fact]
    public async Task The_token_can_come_from_the_environment()
    {
        _script.WithOutput("Patient", "p1", 1);

        var run = await ExportCli.RunAsync(_folder.Path, new Dictionary<string, string> { ["FHIRCASE_TOKEN"] = "from-env" },
            "--server", _server.Base, "-o", "out");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Bearer from-env", _server.RequestsTo("/fhir/$export")[0].Authorization);
    }

    [Fact]
    public async Task A_refused_fixed_token_exits_2_with_the_servers_message()
    {
        _script.Hook = async context =>
        {
            await FakeFhirServer.OutcomeAsync(context, 401, "error", "login", "the token has expired");
            return true;
        };

        var run = await Export("--token", "stale");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("the token has expired", run.Error);
        Assert.Single(_server.Requests);
    }
}
