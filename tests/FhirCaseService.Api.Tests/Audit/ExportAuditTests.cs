using System.Net;
using FhirCaseService.Api.Tests.Export;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Audit;

public sealed class SqliteAuditExportHost() : AuditServiceHost(new SqliteTestDatabase(), ExportSettings.Fast(ExportSettings.NewOutputDirectory()));

public sealed class PostgresAuditExportHost() : AuditServiceHost(new PostgresTestDatabase(), ExportSettings.Fast(ExportSettings.NewOutputDirectory()));

/// <summary>A bulk export discloses the population: its kick-off and every file fetched are on the trail as DICOM Export events.</summary>
public abstract class ExportAuditTests(AuditServiceHost host)
{
    private readonly AuditTrailClient _trail = new(new RestTestClient(host));
    private readonly ExportTestClient _export = new(host);

    [Fact]
    public async Task Export_kick_off_status_and_file_downloads_are_recorded_as_dicom_export_events()
    {
        await _export.CreatePatientAsync("audit-export-" + Guid.NewGuid().ToString("N"));
        // An instant of its own makes this kick-off's query recognisable on the trail.
        var marker = DateTimeOffset.UtcNow.AddYears(-30).AddSeconds(-Random.Shared.Next(100_000))
            .ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var kickOff = await _export.KickOffAsync($"/$export?_type=Patient&_since={marker}");
        Assert.True(kickOff.Status == HttpStatusCode.Accepted, kickOff.Body);
        var manifest = await _export.WaitForManifestAsync(kickOff.StatusUrl!);
        await _export.DownloadAsync(manifest);
        var file = new Uri(manifest.Output.First().Url).AbsolutePath.TrimStart('/');

        var started = await _trail.WaitForAsync("subtype=$export",
            e => e.Entity.Any(x => AuditTrailClient.Query(x) == $"$export?_type=Patient&_since={marker}"));
        Assert.Equal(("http://dicom.nema.org/resources/ontology/DCM", "110106", "Export"), (started.Type.System, started.Type.Code, started.Type.Display));
        Assert.Equal((AuditEvent.AuditEventAction.E, AuditEvent.AuditEventOutcome.N0), (started.Action, started.Outcome));
        Assert.Equal("202 Accepted", started.OutcomeDesc);

        var downloaded = await _trail.WaitForAsync("subtype=$export-file", e => e.Entity.Any(x => AuditTrailClient.Query(x) == file));
        Assert.Equal(("110106", AuditEvent.AuditEventAction.R, AuditEvent.AuditEventOutcome.N0), (downloaded.Type.Code, downloaded.Action, downloaded.Outcome));
        var polled = await _trail.WaitForAsync("subtype=$export-status&outcome=0", _ => true);
        Assert.Equal(("110106", AuditEvent.AuditEventAction.R), (polled.Type.Code, polled.Action));
    }
}

public sealed class SqliteExportAuditTests(SqliteAuditExportHost host) : ExportAuditTests(host), IClassFixture<SqliteAuditExportHost>;

public sealed class PostgresExportAuditTests(PostgresAuditExportHost host) : ExportAuditTests(host), IClassFixture<PostgresAuditExportHost>;
