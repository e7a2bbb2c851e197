using FhirCaseService.Storage.Export;

namespace FhirCaseService.Api.Export;

/// <summary>The file names a job may have written, from its checkpoint and result (stores that cannot list files need them).</summary>
public static class ExportJobFiles
{
    public static IEnumerable<string> KnownNames(ExportJob job)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { ExportCheckpoint.ErrorFileName };
        if (ExportCheckpoint.Deserialize(job.ProgressJson) is { } checkpoint)
            names.UnionWith(checkpoint.KnownFileNames());
        if (job.ResultJson is not null)
        {
            var result = ExportResult.Deserialize(job.ResultJson);
            names.UnionWith(result.Output.Concat(result.Errors).Concat(result.Deleted).Select(f => f.Name));
        }
        return names;
    }
}
