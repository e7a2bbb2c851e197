using FhirCaseService.Storage.Export;
using static FhirCaseService.Storage.Tests.Export.ExportHarness;

namespace FhirCaseService.Storage.Tests.Export;

/// <summary>
/// Memory and time stay flat only if each batch continues the keyset scan instead of collecting and sorting the whole
/// type. SQLite plans without statistics, so its plan is fixed by the SQL and can be pinned here; PostgreSQL plans from
/// statistics, so its plans were checked with EXPLAIN ANALYZE at 100,000 resources instead (see ExportRowQuery).
/// </summary>
public sealed class SqliteExportPlanTests
{
    [Theory]
    [InlineData(ExportLevel.System, false, null)]
    [InlineData(ExportLevel.Patient, false, null)]
    [InlineData(ExportLevel.Patient, true, null)]
    [InlineData(ExportLevel.System, true, "Observation?code=mrd")]
    [InlineData(ExportLevel.Group, false, null)]
    public async Task A_batch_continues_the_keyset_scan_without_sorting_the_type(ExportLevel level, bool since, string? typeFilter)
    {
        await using var h = await OpenAsync(new SqliteBackend(), drivingMembersLimit: 0);
        await h.Resources.CreateAsync(Group("series", ("p1", false)));
        var job = await h.Jobs.CreateAsync(Request(level, ["Observation"], since: since ? DateTimeOffset.UnixEpoch : null,
            groupId: level == ExportLevel.Group ? "series" : null, typeFilters: typeFilter is null ? [] : [typeFilter], includeDeleted: since));
        var dialect = await h.Database.DialectAsync(CancellationToken.None);
        var sql = ExportRowQuery.Build(dialect, job, "Observation", ExportTypeFilter.For(job.Request.TypeFilters, "Observation"), 1000, 1000, driveFromMembers: false);

        var plan = new List<string>();
        await using (var connection = await dialect.OpenAsync(CancellationToken.None))
        await using (var command = sql.CreateCommand(connection, null))
        {
            command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                plan.Add(reader.GetString(3));
        }

        Assert.StartsWith("SEARCH a USING INDEX ix_resource_type_key (resource_type=? AND version_key>?)", plan[0]);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }
}
