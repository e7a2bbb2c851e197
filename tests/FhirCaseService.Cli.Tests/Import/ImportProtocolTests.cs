using FhirCaseService.Cli.Tests.CaseSeries;
using FhirCaseService.Cli.Tests.Export;

namespace FhirCaseService.Cli.Tests.Import;

/// <summary>
/// `fhircase import` against a scripted server, for what a real server cannot be made to do on cue: Retry-After,
/// progress headers, refused lines, refusals of the whole import.
/// </summary>
public sealed class ImportProtocolTests : IAsyncLifetime
{
    private readonly TemporaryFolder _folder = new();
    private readonly ScriptedImport _script = new();
    private FakeFhirServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeFhirServer.StartAsync(_script.Handle);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private Task<CliRun> Import(params string[] arguments) =>
        ImportCli.RunAsync(_folder.Path, [.. arguments, "--server", _server.Base, "--poll-interval", "0.05"]);

    private string Write(string name, string content)
    {
        var path = _folder.File(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return name;
    }

    private static string Patient(string id) => $$"""{"resourceType":"Patient","id":"{{id}}"}""";

    [Fact]
    public async Task Kick_off_posts_the_files_as_one_streamed_ndjson_body_asking_for_an_asynchronous_answer()
    {
        Write("a.ndjson", Patient("a1") + "\n\n" + Patient("a2") + "\r\n");
        Write("b.ndjson", Patient("b1"));
        _script.Output.Add(("Patient", 3));

        var run = await Import("a.ndjson", "b.ndjson");

        Assert.True(run.ExitCode == 0, run.Error);
        var received = Assert.Single(_script.Received);
        Assert.Equal("application/fhir+ndjson", received.ContentType);
        Assert.Equal("respond-async", received.Prefer);
        Assert.Equal("100-continue", received.Expect);
        Assert.Equal("chunked", received.TransferEncoding);
        Assert.Equal(Patient("a1") + "\n" + Patient("a2") + "\n" + Patient("b1") + "\n", received.Body);
    }

    [Fact]
    public async Task A_bundle_file_is_split_into_one_line_per_entry_resource_and_a_resource_file_is_one_line()
    {
        Write("bundle.json", """
            {"resourceType":"Bundle","type":"transaction","entry":[
              {"fullUrl":"Patient/p1","resource":{"resourceType":"Patient","id":"p1","gender":"female"},"request":{"method":"PUT","url":"Patient/p1"}},
              {"request":{"method":"DELETE","url":"Patient/gone"}},
              {"resource":{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"}}}
            ]}
            """);
        Write("one.json", "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"solo\"\n}\n");

        var run = await Import("bundle.json", "one.json");

        Assert.True(run.ExitCode == 0, run.Error);
        var lines = Assert.Single(_script.Received).Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            [
                """{"resourceType":"Patient","id":"p1","gender":"female"}""",
                """{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"}}""",
                """{"resourceType":"Patient","id":"solo"}""",
            ],
            lines);
    }

    [Fact]
    public async Task A_folder_contributes_its_ndjson_and_json_files_in_path_order_skipping_what_is_no_resource()
    {
        Write("load/b.ndjson", Patient("b"));
        Write("load/a/x.json", Patient("x"));
        Write("load/manifest.json", """{"transactionTime":"2026-01-01T00:00:00Z","output":[]}""");
        Write("load/notes.txt", "not imported");
        Write("load/.hidden/h.ndjson", Patient("h"));

        var run = await Import("load");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(Patient("x") + "\n" + Patient("b") + "\n", Assert.Single(_script.Received).Body);
        Assert.Contains("skipped 1 JSON file(s)", run.Error);
        Assert.Contains("load/manifest.json", run.Error);
    }

    [Fact]
    public async Task Polling_waits_as_long_as_retry_after_says_and_shows_the_servers_progress()
    {
        Write("a.ndjson", Patient("a"));
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("40% (2 of 5 chunks)", retryAfterSeconds: 3));
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("80% (4 of 5 chunks)"));
        _script.Output.Add(("Patient", 1));

        var run = await Import("a.ndjson");

        Assert.True(run.ExitCode == 0, run.Error);
        var polls = _server.RequestsTo(ScriptedImport.StatusPath).Where(r => r.Method == "GET").ToList();
        Assert.Equal(3, polls.Count);
        // Retry-After (3 s) against --poll-interval (0.05 s): far enough apart that a loaded CI machine's scheduling
        // delays cannot blur them.
        Assert.True(polls[1].At - polls[0].At >= TimeSpan.FromSeconds(2.9), $"second poll after {(polls[1].At - polls[0].At).TotalSeconds} s");
        Assert.True(polls[2].At - polls[1].At < TimeSpan.FromSeconds(2), $"without Retry-After the --poll-interval applies; third poll after {(polls[2].At - polls[1].At).TotalSeconds} s");
        Assert.Contains("import job in progress: 40% (2 of 5 chunks)", run.Error);
        Assert.Contains("import job in progress: 80% (4 of 5 chunks)", run.Error);
    }

    [Fact]
    public async Task The_counts_of_the_manifest_are_printed_per_type()
    {
        Write("a.ndjson", string.Join('\n', Patient("a"), Patient("b"), """{"resourceType":"Observation","id":"o"}"""));
        _script.Output.AddRange([("Patient", 2), ("Observation", 1)]);

        var run = await Import("a.ndjson");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("imported 3 of 3 resources (transactionTime 2026-12-05T10:00:00Z)", run.Out);
        Assert.Contains("  Observation  1", run.Out);
        Assert.Contains("  Patient      2", run.Out);
    }

    [Fact]
    public async Task A_refused_line_with_several_issues_counts_as_one_refused_line()
    {
        Write("a.ndjson", Patient("a1") + "\n" + """{"resourceType":"Patient","id":"a2","gender":"bad","birthDate":"soon"}""");
        _script.Output.Add(("Patient", 1));
        _script.ErrorFiles["e1.ndjson"] = """
            {"resourceType":"OperationOutcome","issue":[
              {"severity":"warning","code":"invariant","diagnostics":"line 2: dom-6: a resource should have narrative"},
              {"severity":"error","code":"code-invalid","diagnostics":"line 2: Patient.gender: 'bad' is not in the value set"},
              {"severity":"error","code":"invalid","diagnostics":"line 2: Patient.birthDate: 'soon' is not a date"}]}
            """.ReplaceLineEndings("") + "\n";
        _script.RequiresAccessToken = false;

        var run = await Import("a.ndjson");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Patient.gender: 'bad' is not in the value set", run.Out);
        Assert.Contains("Patient.birthDate: 'soon' is not a date", run.Out);
        Assert.Contains("the server refused 1 line(s)", run.Out);
    }

    [Fact]
    public async Task Refused_lines_are_shown_with_the_file_and_line_they_came_from_and_exit_1()
    {
        Write("a.ndjson", Patient("a1") + "\n\n" + """{"resourceType":"Patient","id":"a2","gender":"bad"}""");
        Write("bundle.json", """{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p1"}},{"resource":{"resourceType":"Patient","id":"p2","birthDate":"soon"}}]}""");
        _script.Output.Add(("Patient", 2));
        _script.ErrorFiles["e1.ndjson"] = ScriptedImport.RefusedLine(2, "Patient.gender: 'bad' is not in the value set") + "\n"
            + ScriptedImport.RefusedLine(4, "Patient.birthDate: 'soon' is not a date") + "\n";
        _script.RequiresAccessToken = false;

        var run = await Import("a.ndjson", "bundle.json");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("a.ndjson:3: error invalid: Patient.gender: 'bad' is not in the value set", run.Out);
        Assert.Contains("bundle.json Bundle.entry[1]: error invalid: Patient.birthDate: 'soon' is not a date", run.Out);
        Assert.Contains("the server refused 2 line(s)", run.Out);
    }

    [Fact]
    public async Task Error_files_are_fetched_with_the_token_when_the_manifest_requires_it()
    {
        Write("a.ndjson", Patient("a"));
        _script.RequiresAccessToken = true;
        _script.ErrorFiles["e1.ndjson"] = ScriptedImport.RefusedLine(1, "Patient: profile not met") + "\n";

        var run = await ImportCli.RunAsync(_folder.Path, new Dictionary<string, string> { ["FHIRCASE_TOKEN"] = "from-env" },
            "a.ndjson", "--server", _server.Base, "--poll-interval", "0.05");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("a.ndjson:1: error invalid: Patient: profile not met", run.Out);
        Assert.All(_server.Requests, r => Assert.Equal("Bearer from-env", r.Authorization));
    }

    [Theory]
    [InlineData(401, "login", "unauthorized")]
    [InlineData(403, "forbidden", "scope system/*.cu required")]
    [InlineData(415, "not-supported", "Content-Type must be application/fhir+ndjson")]
    public async Task A_refused_kick_off_exits_2_with_the_servers_outcome_on_stderr(int status, string code, string diagnostics)
    {
        Write("a.ndjson", Patient("a"));
        _script.Hook = async context =>
        {
            if (context.Request.Path.Value != "/fhir/$import")
                return false;
            await FakeFhirServer.OutcomeAsync(context, status, "error", code, diagnostics);
            return true;
        };

        var run = await Import("a.ndjson");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"the server refused the import (POST {_server.Base}/$import): {status}", run.Error);
        Assert.Contains(diagnostics, run.Error);
        Assert.Empty(_server.RequestsTo(ScriptedImport.StatusPath));
    }

    [Fact]
    public async Task A_failed_job_exits_2_with_its_outcome()
    {
        Write("a.ndjson", Patient("a"));
        _script.StatusAnswers.Enqueue(context => FakeFhirServer.OutcomeAsync(context, 500, "fatal", "exception", "the database went away"));

        var run = await Import("a.ndjson");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("the import job failed: 500", run.Error);
        Assert.Contains("the database went away", run.Error);
    }

    [Fact]
    public async Task An_unreachable_server_exits_2()
    {
        Write("a.ndjson", Patient("a"));

        var run = await ImportCli.RunAsync(_folder.Path, "a.ndjson", "--server", "http://127.0.0.1:9/fhir", "--poll-interval", "0.05");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("cannot reach http://127.0.0.1:9/fhir", run.Error);
    }

    [Fact]
    public async Task A_timeout_while_the_job_runs_cancels_it_and_exits_2()
    {
        Write("a.ndjson", Patient("a"));
        for (var i = 0; i < 100; i++)
            _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("working"));

        var run = await Import("a.ndjson", "--timeout", "0.5");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("gave up after --timeout 0.5 s", run.Error);
        Assert.Single(_server.RequestsTo(ScriptedImport.StatusPath), r => r.Method == "DELETE");
    }

    [Fact]
    public async Task Quiet_writes_nothing_to_stderr_on_success()
    {
        Write("a.ndjson", Patient("a"));
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("50%"));
        _script.Output.Add(("Patient", 1));

        var run = await Import("a.ndjson", "--quiet");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Progress_in_a_log_is_one_line_per_file_sent_and_per_status_change()
    {
        Write("a.ndjson", Patient("a"));
        Write("b.ndjson", Patient("b"));
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("50%"));
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress("50%"));
        _script.Output.Add(("Patient", 2));

        var run = await Import("a.ndjson", "b.ndjson");

        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["sent a.ndjson (1 resource, 36 B) [1/2]", "sent b.ndjson (1 resource, 36 B) [2/2]"], lines.Take(2));
        Assert.Single(lines, l => l == "import job in progress: 50%");
        Assert.DoesNotContain('\r', run.Error);
    }

    [Fact]
    public void Every_line_of_the_body_maps_back_to_its_source()
    {
        var a = new FhirCaseService.Cli.Import.ImportFile("a.ndjson", "/x/a.ndjson", IsNdjson: true);
        var b = new FhirCaseService.Cli.Import.ImportFile("b.json", "/x/b.json", IsNdjson: false);
        var map = new FhirCaseService.Cli.Import.ImportLineMap();
        foreach (var line in new[] { 1, 2, 4, 5 })
            map.Add(a, line, entry: null);
        foreach (var entry in new[] { 0, 1, 3 })
            map.Add(b, sourceLine: null, entry);

        Assert.Equal(
            ["a.ndjson:1", "a.ndjson:2", "a.ndjson:4", "a.ndjson:5", "b.json Bundle.entry[0]", "b.json Bundle.entry[1]", "b.json Bundle.entry[3]"],
            Enumerable.Range(1, 7).Select(line => map.Describe(line)));
        Assert.Null(map.Describe(8));
    }
}
