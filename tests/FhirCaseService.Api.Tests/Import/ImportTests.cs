using System.Net;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Import;

/// <summary>Bulk NDJSON $import over HTTP, on SQLite and PostgreSQL: kick-off, status, manifest, error file, semantics, limits.</summary>
public abstract class ImportTests(ServiceHost host)
{
    private readonly ImportTestClient _client = new(host);

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task An_import_stores_every_line_and_its_manifest_counts_them_per_type()
    {
        var patients = Enumerable.Range(0, 12).Select(_ => NewId("imp")).ToList();
        var lines = patients.Select(id => ImportTestClient.Patient(id))
            .Concat(patients.Select(id => ImportTestClient.Observation(null, id)))
            .ToList();

        var kickOff = await _client.KickOffAsync(ImportTestClient.Ndjson(lines));
        Assert.Equal(HttpStatusCode.Accepted, kickOff.Status);
        Assert.Matches(@"/\$import-status/[0-9a-f]{32}$", kickOff.StatusUrl);
        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!);

        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", manifest.TransactionTime);
        Assert.EndsWith("/$import", manifest.Request, StringComparison.Ordinal);
        Assert.False(manifest.Root.GetProperty("requiresAccessToken").GetBoolean());
        Assert.Equal((12L, 12L, 0L, 0L), manifest.Output("Patient"));
        Assert.Equal((12L, 12L, 0L, 0L), manifest.Output("Observation"));
        Assert.Empty(manifest.Errors);
        foreach (var id in patients)
        {
            using var read = await _client.Http.GetAsync($"/Patient/{id}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            using var observations = await _client.Http.GetAsync($"/Observation?subject=Patient/{id}");
            Assert.Single(FhirSerialization.StrictJson.Deserialize<Bundle>(await observations.Content.ReadAsStringAsync()).Entry);
        }
    }

    [Fact]
    public async Task Invalid_lines_are_refused_and_the_error_file_names_each_line_and_element()
    {
        var good = NewId("good");
        var lines = new[]
        {
            ImportTestClient.Patient(good),                                   // 1
            ImportTestClient.Patient(NewId("bad"), gender: "sometimes"),      // 2: not in the required ValueSet
            "this is not json",                                               // 3
            "",                                                               // 4: blank, skipped
            "{\"resourceType\":\"Patient\",\"birthDate\":\"yesterday\"}",     // 5: not a date
            "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"x\"}}",         // 6: a type this server does not store
            ImportTestClient.Observation(null, good),                         // 7
        };

        var manifest = await _client.ImportAsync(lines);
        var errors = await _client.ErrorsAsync(manifest);

        Assert.Equal((1L, 1L, 0L, 0L), manifest.Output("Patient"));
        Assert.Equal((1L, 1L, 0L, 0L), manifest.Output("Observation"));
        Assert.Equal(new long[] { 2, 3, 5, 6 }, errors.Select(ImportTestClient.LineOf).ToArray());
        Assert.Contains(errors[0].Issue, i => i.Expression.Contains("Patient.gender"));
        Assert.All(errors, e => Assert.Contains(e.Issue, i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal));
        Assert.Contains(errors[2].Issue, i => i.Expression.Any(x => x?.StartsWith("Patient.birthDate", StringComparison.Ordinal) == true));
        Assert.Contains("Basic", errors[3].Issue[0].Diagnostics!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_that_is_not_utf8_is_refused_and_the_lines_around_it_are_stored()
    {
        var before = NewId("utf8");
        var after = NewId("utf8");
        var broken = System.Text.Encoding.UTF8.GetBytes(ImportTestClient.Patient("broken-id", family: "Broken"));
        broken[broken.AsSpan().IndexOf("broken-id"u8) + 6] = 0xFF;
        byte[] body = [.. System.Text.Encoding.UTF8.GetBytes(ImportTestClient.Patient(before) + "\n"), .. broken, (byte)'\n',
            .. System.Text.Encoding.UTF8.GetBytes(ImportTestClient.Patient(after) + "\n")];

        var kickOff = await _client.KickOffAsync(body);
        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!);

        Assert.Equal((2L, 2L, 0L, 0L), manifest.Output("Patient"));
        Assert.Equal([2L], (await _client.ErrorsAsync(manifest)).Select(ImportTestClient.LineOf));
    }

    [Fact]
    public async Task Importing_the_same_file_again_writes_no_new_versions()
    {
        var ids = Enumerable.Range(0, 9).Select(_ => NewId("again")).ToList();
        var lines = ids.Select(id => ImportTestClient.Patient(id, family: "Same")).ToList();
        await _client.ImportAsync(lines);

        var second = await _client.ImportAsync(lines);

        Assert.Equal((9L, 0L, 0L, 9L), second.Output("Patient"));
        foreach (var id in ids)
            Assert.Equal(1, await _client.VersionsAsync("Patient", id));
    }

    [Fact]
    public async Task A_line_imported_before_is_written_again_when_its_resource_changed_since()
    {
        var id = NewId("changed");
        var line = ImportTestClient.Patient(id, family: "Imported");
        await _client.ImportAsync([line]);
        using (var put = await _client.Http.PutAsync($"/Patient/{id}", new StringContent(ImportTestClient.Patient(id, family: "Edited"),
                   System.Text.Encoding.UTF8, "application/fhir+json")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var again = await _client.ImportAsync([line]);

        Assert.Equal((1L, 0L, 1L, 0L), again.Output("Patient"));
        Assert.Equal(3, await _client.VersionsAsync("Patient", id));
        using var read = await _client.Http.GetAsync($"/Patient/{id}");
        Assert.Contains("Imported", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_re_run_stores_a_line_whose_resource_was_deleted_since_or_whose_bytes_differ_and_skips_only_the_same_line()
    {
        var deleted = NewId("deleted");
        var edited = NewId("edited");
        var same = NewId("same");
        var respaced = NewId("respaced");
        var deletedLine = ImportTestClient.Patient(deleted, family: "Kept");
        var sameLine = ImportTestClient.Patient(same, family: "Same");
        var respacedLine = ImportTestClient.Patient(respaced, family: "Spaced");
        await _client.ImportAsync([deletedLine, ImportTestClient.Patient(edited, family: "Before"), sameLine, respacedLine]);
        using (var delete = await _client.Http.DeleteAsync($"/Patient/{deleted}"))
            Assert.True(delete.IsSuccessStatusCode, $"DELETE answered {delete.StatusCode}");

        // Same content in other bytes: judged in full, found equal at commit (unchanged, no version), like the same bytes.
        var again = await _client.ImportAsync([deletedLine, ImportTestClient.Patient(edited, family: "After"), sameLine, " " + respacedLine]);

        var (total, created, updated, unchanged) = again.Output("Patient");
        Assert.Equal((4L, 2L, 2L), (total, created + updated, unchanged));
        Assert.Equal((3, 2, 1, 1), (await _client.VersionsAsync("Patient", deleted), await _client.VersionsAsync("Patient", edited),
            await _client.VersionsAsync("Patient", same), await _client.VersionsAsync("Patient", respaced)));
        using var read = await _client.Http.GetAsync($"/Patient/{deleted}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var readEdited = await _client.Http.GetAsync($"/Patient/{edited}");
        Assert.Contains("After", await readEdited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_re_run_whose_earlier_chunk_rewrites_a_resource_writes_its_later_unchanged_line_again()
    {
        // Chunks are 7 lines: line 9 is recognised as unchanged from the first run while line 1 (same resource, other
        // content) may still be committing; whichever wins the race, the last line must end current, as a new version.
        var id = NewId("race");
        var fillers = Enumerable.Range(0, 7).Select(_ => ImportTestClient.Patient(NewId("fill"))).ToList();
        var original = ImportTestClient.Patient(id, family: "Original");
        await _client.ImportAsync([.. fillers, original]);

        var second = await _client.ImportAsync([ImportTestClient.Patient(id, family: "Interim"), .. fillers, original]);

        Assert.Equal((9L, 0L, 2L, 7L), second.Output("Patient"));
        Assert.Equal(3, await _client.VersionsAsync("Patient", id));
        using var read = await _client.Http.GetAsync($"/Patient/{id}");
        Assert.Contains("Original", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_with_an_id_creates_or_updates_it_and_a_line_without_one_creates_a_new_resource()
    {
        var existing = NewId("upd");
        await _client.ImportAsync([ImportTestClient.Patient(existing, family: "Before")]);
        var created = NewId("new");
        var family = NewId("noid");

        var manifest = await _client.ImportAsync([
            ImportTestClient.Patient(existing, family: "After"),
            ImportTestClient.Patient(created),
            ImportTestClient.Patient(null, family: family),
        ]);

        Assert.Equal((3L, 2L, 1L, 0L), manifest.Output("Patient"));
        Assert.Equal(2, await _client.VersionsAsync("Patient", existing));
        using var updated = await _client.Http.GetAsync($"/Patient/{existing}");
        Assert.Contains("After", await updated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await _client.VersionsAsync("Patient", created));
        using var search = await _client.Http.GetAsync($"/Patient?family={family}");
        Assert.Single(FhirSerialization.StrictJson.Deserialize<Bundle>(await search.Content.ReadAsStringAsync()).Entry);
    }

    [Fact]
    public async Task The_last_line_naming_a_resource_wins_even_within_one_chunk()
    {
        var id = NewId("twice");
        var manifest = await _client.ImportAsync([
            ImportTestClient.Patient(id, family: "First"),
            ImportTestClient.Patient(id, family: "Second"),
        ]);

        Assert.Equal((2L, 1L, 1L, 0L), manifest.Output("Patient"));
        using var read = await _client.Http.GetAsync($"/Patient/{id}");
        Assert.Contains("Second", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gzip_encoded_body_is_imported_like_a_plain_one()
    {
        var id = NewId("gz");
        var kickOff = await _client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Patient(id)]), contentType: "application/ndjson", gzip: true);
        Assert.Equal(HttpStatusCode.Accepted, kickOff.Status);

        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!);

        Assert.Equal((1L, 1L, 0L, 0L), manifest.Output("Patient"));
    }

    [Fact]
    public async Task Requests_without_respond_async_ndjson_or_content_are_refused_with_an_operation_outcome()
    {
        var line = ImportTestClient.Ndjson([ImportTestClient.Patient(NewId("refused"))]);

        ImportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest, await _client.KickOffAsync(line, respondAsync: false), "respond-async");
        ImportTestClient.AssertOperationOutcome(HttpStatusCode.UnsupportedMediaType, await _client.KickOffAsync(line, contentType: "application/fhir+json"), "NDJSON");
        ImportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest, await _client.KickOffAsync(""), "empty");
        ImportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest, await _client.KickOffAsync("\n \n"), "empty");
    }

    [Fact]
    public async Task A_body_over_Import_MaxBodyBytes_is_refused_with_413_and_nothing_is_stored()
    {
        var family = NewId("big");
        var line = ImportTestClient.Patient(null, family: family);
        var lines = Enumerable.Repeat(line, (int)(ImportSettings.MaxBodyBytes / line.Length) + 10).ToList();

        var plain = await _client.KickOffAsync(ImportTestClient.Ndjson(lines));
        var compressed = await _client.KickOffAsync(ImportTestClient.Ndjson(lines), gzip: true);

        ImportTestClient.AssertOperationOutcome(HttpStatusCode.RequestEntityTooLarge, plain, "Import:MaxBodyBytes");
        ImportTestClient.AssertOperationOutcome(HttpStatusCode.RequestEntityTooLarge, compressed, "Import:MaxBodyBytes");
        using var search = await _client.Http.GetAsync($"/Patient?family={family}");
        Assert.Empty(FhirSerialization.StrictJson.Deserialize<Bundle>(await search.Content.ReadAsStringAsync()).Entry);
    }

    [Fact]
    public async Task A_cancelled_import_answers_404_afterwards()
    {
        var kickOff = await _client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Patient(NewId("cancel"))]));

        using var cancel = await _client.Http.DeleteAsync(ImportTestClient.OnThisHost(kickOff.StatusUrl!));
        using var status = await _client.Http.GetAsync(ImportTestClient.OnThisHost(kickOff.StatusUrl!));
        using var again = await _client.Http.DeleteAsync(ImportTestClient.OnThisHost(kickOff.StatusUrl!));

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Unknown_jobs_and_files_answer_404()
    {
        var manifest = await _client.ImportAsync(["not json"]);
        var errorUrl = ImportTestClient.OnThisHost(manifest.Errors[0].Url);

        using var unknownJob = await _client.Http.GetAsync("/$import-status/0123456789abcdef0123456789abcdef");
        using var unknownFile = await _client.Http.GetAsync(errorUrl.Replace("errors.ndjson", "other.ndjson", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.NotFound, unknownJob.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownFile.StatusCode);
    }

    [Fact]
    public async Task The_capability_statement_lists_the_import_operation()
    {
        using var response = await _client.Http.GetAsync("/metadata");
        var capabilities = FhirSerialization.StrictJson.Deserialize<CapabilityStatement>(await response.Content.ReadAsStringAsync());

        Assert.Contains(capabilities.Rest[0].Operation, o => o.Name == "import" && o.Definition == "https://fhircase.example.org/fhir/OperationDefinition/import");
    }

    [Fact]
    public async Task An_import_leaves_one_audit_event_for_its_kick_off_and_one_for_its_outcome()
    {
        var kickOff = await _client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Patient(NewId("audit")), "not json"]));
        await _client.WaitForManifestAsync(kickOff.StatusUrl!);
        var jobId = ImportTestClient.JobIdOf(kickOff.StatusUrl!);

        await ImportTestClient.WaitUntilAsync(async () =>
        {
            using var response = await _client.Http.GetAsync("/AuditEvent?subtype=$import&_count=100");
            if (response.StatusCode != HttpStatusCode.OK)
                return false;
            var events = FhirSerialization.StrictJson.Deserialize<Bundle>(await response.Content.ReadAsStringAsync()).Entry.Select(e => (AuditEvent)e.Resource!).ToList();
            var outcome = events.FirstOrDefault(e => e.Entity.Any(x => x.Name == jobId));
            return outcome is not null && outcome.Outcome == AuditEvent.AuditEventOutcome.N4
                   && outcome.Type?.Code == "110107" && outcome.Entity[0].Role?.Code == "20"
                   && events.Any(e => e.OutcomeDesc?.StartsWith("202", StringComparison.Ordinal) == true);
        }, "the kick-off and the outcome of the import are on the audit trail");
    }
}

public sealed class SqliteImportTests(SqliteImportHost host) : ImportTests(host), IClassFixture<SqliteImportHost>;

public sealed class PostgresImportTests(PostgresImportHost host) : ImportTests(host), IClassFixture<PostgresImportHost>;
