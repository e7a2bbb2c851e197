using FhirCaseService.Api.Audit;
using FhirCaseService.Storage.Import;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Import;

/// <summary>
/// The second AuditEvent of an import: its outcome, recorded when the job ends (the kick-off request has its own, like
/// every request). Outcome 0 when every line was stored, 4 when some were refused, 8 when the job failed; the counts per
/// type as details. Nothing when the audit is off.
/// </summary>
internal sealed class ImportAudit(AuditWriter writer, IOptions<AuditOptions> options, TimeProvider time)
{
    public async Task RecordOutcomeAsync(ImportJob job)
    {
        if (!options.Value.Enabled)
            return;
        var accepted = job.Counts.Sum(c => c.Accepted);
        var (kind, description) = job.Status switch
        {
            ImportJobStatus.Failed => (JobOutcomeKind.Failed, $"Import job {job.Id} failed: {job.Error}"),
            _ when job.ErrorLines > 0 => (JobOutcomeKind.PartlyRefused, $"Import job {job.Id} completed: {accepted} resources accepted, {job.ErrorLines} lines refused"),
            _ => (JobOutcomeKind.Success, $"Import job {job.Id} completed: {accepted} resources accepted"),
        };
        var details = job.Counts
            .Select(c => new KeyValuePair<string, string>(c.Type, $"created {c.Created}, updated {c.Updated}, unchanged {c.Unchanged}"))
            .Append(new KeyValuePair<string, string>("refused lines", job.ErrorLines.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        var outcome = new JobOutcome(AuditInteraction.ImportType, ImportEndpoints.OperationName, job.Id, job.Request.ClientId, kind, description,
            details, [.. job.Counts.Select(c => c.Type)]);
        await writer.EnqueueAsync(AuditEventFactory.CreateJobOutcome(outcome, time.GetUtcNow()));
    }
}
