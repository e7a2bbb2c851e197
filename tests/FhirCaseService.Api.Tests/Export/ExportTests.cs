using System.Net;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Group = Hl7.Fhir.Model.Group;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Export;

/// <summary>Bulk Data $export over HTTP, on SQLite and PostgreSQL: kick-off, status, manifest, files, parameters, cancel, errors.</summary>
public abstract partial class ExportTests(ServiceHost host)
{
    private readonly ExportTestClient _client = new(host);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex InstantWithMilliseconds();

    [Fact]
    public async Task System_export_answers_a_manifest_whose_files_hold_every_current_resource_once()
    {
        await _client.SeedAsync(patients: 3, observationsEach: 12);

        var kickOff = await _client.KickOffAsync("/$export");
        Assert.Equal(HttpStatusCode.Accepted, kickOff.Status);
        Assert.StartsWith(host.BaseAddress.ToString().TrimEnd('/') + "/$export-status/", kickOff.StatusUrl);
        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!);

        Assert.Equal("application/json", manifest.Response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(manifest.Response.Content.Headers.Expires);
        Assert.Matches(InstantWithMilliseconds(), manifest.TransactionTime);
        Assert.Equal(host.BaseAddress.ToString().TrimEnd('/') + "/$export", manifest.Request);
        Assert.False(manifest.RequiresAccessToken);
        Assert.Empty(manifest.Error);
        var exported = await _client.DownloadAsync(manifest);
        Assert.Equal(exported.Count, exported.Select(r => r.Key).Distinct().Count());
        foreach (var type in new[] { "Patient", "Observation", "Condition" })
            Assert.Equal(await _client.CountAsync(type), exported.Count(r => r.Type == type));
        // Export:MaxResourcesPerFile is 10 here: 36+ Observations make several files.
        Assert.True(manifest.Output.Count(o => o.Type == "Observation") >= 4);
        Assert.All(manifest.Output, o => Assert.InRange(o.Count, 1, 10));
    }

    [Fact]
    public async Task Export_with_type_has_only_those_types()
    {
        await _client.SeedAsync(patients: 1, observationsEach: 2);

        var manifest = await _client.ExportAsync("/$export?_type=Patient,Condition&_outputFormat=application%2Ffhir%2Bndjson");

        var exported = await _client.DownloadAsync(manifest);
        Assert.Equal(["Condition", "Patient"], exported.Select(r => r.Type).Distinct().Order());
        Assert.Equal(await _client.CountAsync("Patient"), exported.Count(r => r.Type == "Patient"));
    }

    [Fact]
    public async Task Export_since_the_previous_transaction_time_has_only_later_changes()
    {
        var patient = await _client.CreatePatientAsync("since-" + Guid.NewGuid());
        var first = await _client.ExportAsync("/$export?_type=Patient,Observation");

        var created = await _client.CreateObservationAsync(patient.Id!);
        patient.Gender = AdministrativeGender.Male;
        var updated = await _client.Store.UpdateAsync(patient);

        var second = await _client.ExportAsync($"/$export?_type=Patient,Observation&_since={Uri.EscapeDataString(first.TransactionTime)}");
        var exported = await _client.DownloadAsync(second);
        Assert.Equal(
            [$"Observation/{created.Id}/1", $"Patient/{patient.Id}/{updated.Stored.VersionId}"],
            exported.Select(r => $"{r.Key}/{r.Version}").Order());
    }

    [Fact]
    public async Task Export_with_type_filter_keeps_only_matching_resources_of_that_type_and_adds_the_type()
    {
        var patients = await _client.SeedAsync(patients: 2, observationsEach: 3);
        var filter = Uri.EscapeDataString($"Observation?subject=Patient/{patients[0].Id}");

        var manifest = await _client.ExportAsync($"/$export?_type=Patient&_typeFilter={filter}");

        var exported = await _client.DownloadAsync(manifest);
        var observations = exported.Where(r => r.Type == "Observation").ToList();
        Assert.Equal(3, observations.Count);
        Assert.Equal(await _client.CountAsync("Patient"), exported.Count(r => r.Type == "Patient"));
        Assert.DoesNotContain(exported, r => r.Type == "Condition");
    }

    [Fact]
    public async Task Group_export_has_only_the_members_data()
    {
        var members = await _client.SeedAsync(patients: 2, observationsEach: 2);
        var outsider = (await _client.SeedAsync(patients: 1, observationsEach: 2))[0];
        var group = (Group)(await _client.Store.CreateAsync(new Group
        {
            Type = Group.GroupType.Person,
            Actual = true,
            Member = [.. members.Select(m => new Group.MemberComponent { Entity = new ResourceReference($"Patient/{m.Id}") })],
        })).Resource!;

        var manifest = await _client.ExportAsync($"/Group/{group.Id}/$export?_type=Patient,Observation,Condition");

        var exported = await _client.DownloadAsync(manifest);
        Assert.Equal(members.Select(m => m.Id).Order(), exported.Where(r => r.Type == "Patient").Select(r => r.Id).Order());
        Assert.Equal(4, exported.Count(r => r.Type == "Observation"));
        Assert.Equal(2, exported.Count(r => r.Type == "Condition"));
        Assert.DoesNotContain(exported, r => r.Id == outsider.Id);
    }

    [Fact]
    public async Task Patient_export_covers_patients_compartments_and_a_posted_patient_narrows_it()
    {
        var patients = await _client.SeedAsync(patients: 2, observationsEach: 2);

        var all = await _client.DownloadAsync(await _client.ExportAsync("/Patient/$export?_type=Patient,Observation"));
        Assert.Equal(await _client.CountAsync("Patient"), all.Count(r => r.Type == "Patient"));

        var body = new Parameters();
        body.Add("_type", new FhirString("Patient,Observation"));
        body.Add("patient", new ResourceReference($"Patient/{patients[1].Id}"));
        var one = await _client.DownloadAsync(await _client.ExportAsync("/Patient/$export", body));
        Assert.Equal([patients[1].Id], one.Where(r => r.Type == "Patient").Select(r => r.Id));
        Assert.Equal(2, one.Count(r => r.Type == "Observation"));
    }

    [Fact]
    public async Task Cancelling_an_export_removes_it_and_its_files()
    {
        await _client.SeedAsync(patients: 1, observationsEach: 3);
        var kickOff = await _client.KickOffAsync("/$export");
        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!);
        var jobDirectory = _client.DirectoryFiles.JobDirectory(ExportTestClient.JobIdOf(kickOff.StatusUrl!));
        Assert.True(Directory.Exists(jobDirectory));

        var cancel = await host.Client.DeleteAsync(kickOff.StatusUrl);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync(kickOff.StatusUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync(manifest.Output[0].Url)).StatusCode);
        Assert.False(Directory.Exists(jobDirectory));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.DeleteAsync(kickOff.StatusUrl)).StatusCode);
    }

    public static TheoryData<string, string> BadKickOffs => new()
    {
        { "/$export?_since=yesterday", "_since" },
        { "/$export?_since=2024-01-01", "_since" },
        { "/$export?_type=Patient,Spaceship", "Spaceship" },
        { "/$export?_type=Organization", "Organization" },
        { "/$export?_typeFilter=Observation%3Fnot-a-parameter%3D1", "not-a-parameter" },
        { "/$export?_typeFilter=Observation", "_typeFilter" },
        { "/$export?_typeFilter=Observation%3Fdate%3Dnot-a-date", "_typeFilter" },
        { "/$export?includeAssociatedData=LatestProvenanceResources", "includeAssociatedData" },
        { "/$export?_elements=id", "_elements" },
        { "/$export?_outputFormat=text%2Fcsv", "_outputFormat" },
        { "/$export?_count=10", "_count" },
        { "/Patient/$export?patient=Patient%2F1", "POST" },
    };

    [Theory]
    [MemberData(nameof(BadKickOffs))]
    public async Task Bad_kick_off_parameters_answer_400_with_an_outcome_naming_the_problem(string pathAndQuery, string named)
    {
        var answer = await _client.KickOffAsync(pathAndQuery);

        ExportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest, answer);
        Assert.Contains(named, answer.Body);
    }

    [Fact]
    public async Task Kick_off_without_prefer_respond_async_or_with_a_bad_body_is_refused_and_unknown_groups_and_jobs_are_404()
    {
        var noPrefer = await _client.KickOffAsync("/$export", respondAsync: false);
        ExportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest, noPrefer);
        Assert.Contains("respond-async", noPrefer.Body);

        ExportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest,
            await _client.KickOffAsync("/Patient/$export", rawBody: "{\"resourceType\":\"Patient\"}"));
        var systemPatient = new Parameters();
        systemPatient.Add("patient", new ResourceReference("Patient/1"));
        ExportTestClient.AssertOperationOutcome(HttpStatusCode.BadRequest, await _client.KickOffAsync("/$export", body: systemPatient));

        ExportTestClient.AssertOperationOutcome(HttpStatusCode.NotFound, await _client.KickOffAsync("/Group/no-such-group/$export"));

        var status = await host.Client.GetAsync("/$export-status/no-such-job");
        ExportTestClient.AssertOperationOutcome(HttpStatusCode.NotFound, new KickOff(status.StatusCode, null, await status.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/$export-file/no-such-job/Patient-1.ndjson")).StatusCode);
    }

    [Fact]
    public async Task Metadata_lists_the_three_export_operations()
    {
        var statement = FhirCaseService.Conformance.Serialization.FhirSerialization.StrictJson.Deserialize<CapabilityStatement>(
            await host.Client.GetStringAsync("/metadata"));

        var operations = statement.Rest[0].Operation.ToDictionary(o => o.Name!, o => o.Definition!);
        Assert.Equal("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export", operations["export"]);
        Assert.Equal("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export", operations["patient-export"]);
        Assert.Equal("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export", operations["group-export"]);
    }
}

public sealed class SqliteExportTests(SqliteExportHost host) : ExportTests(host), IClassFixture<SqliteExportHost>;

public sealed class PostgresExportTests(PostgresExportHost host) : ExportTests(host), IClassFixture<PostgresExportHost>;
