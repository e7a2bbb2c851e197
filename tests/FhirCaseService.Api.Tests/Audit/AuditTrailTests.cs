using System.Net;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Audit;

/// <summary>
/// Every access leaves an AuditEvent: who (client id), what (resource or query), when, outcome; the trail can be
/// searched and cannot be changed through the API. Development host: authorization off, so the client is "anonymous".
/// </summary>
public abstract class AuditTrailTests(AuditServiceHost host)
{
    private readonly RestTestClient _client = new(host);
    private AuditTrailClient Trail => new(_client);

    private static bool Is(AuditEvent e, string subtype, string outcome = "0") =>
        AuditTrailClient.Subtype(e) == subtype && e.Outcome?.ToString() == "N" + outcome;

    [Fact]
    public async Task Create_read_vread_update_and_delete_are_each_recorded_with_the_client_the_version_and_the_outcome()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        var entity = $"entity=Patient/{created.Id}";
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient/{created.Id}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient/{created.Id}/_history/1")).Status);
        created.Active = !(created.Active ?? false);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync($"/Patient/{created.Id}", created)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/Patient/{created.Id}")).Status);

        var create = await Trail.WaitForAsync(entity, e => Is(e, "create"));
        Assert.Equal(AuditEvent.AuditEventAction.C, create.Action);
        Assert.Equal(("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"), (create.Type.System, create.Type.Code));
        Assert.Equal("http://hl7.org/fhir/restful-interaction", create.Subtype[0].System);
        Assert.Equal($"Patient/{created.Id}/_history/1", create.Entity.Single().What!.Reference);
        Assert.Equal("1", create.Entity.Single().Lifecycle!.Code);
        var requestor = create.Agent.Single(a => a.Requestor == true);
        Assert.Equal((AuditTrailClient.ClientIdSystem, "anonymous"), (requestor.Who!.Identifier!.System, requestor.Who.Identifier.Value));
        Assert.Equal("127.0.0.1", requestor.Network!.Address);
        Assert.Equal("FhirCaseService", create.Source!.Observer!.Display);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - create.Recorded!.Value).TotalMinutes) < 5);
        Assert.Equal("201 Created", create.OutcomeDesc);

        var read = await Trail.WaitForAsync(entity, e => Is(e, "read"));
        Assert.Equal((AuditEvent.AuditEventAction.R, $"Patient/{created.Id}/_history/1"), (read.Action, read.Entity.Single().What!.Reference));
        var vread = await Trail.WaitForAsync(entity, e => Is(e, "vread"));
        Assert.Equal($"Patient/{created.Id}/_history/1", vread.Entity.Single().What!.Reference);
        var update = await Trail.WaitForAsync(entity, e => Is(e, "update"));
        Assert.Equal((AuditEvent.AuditEventAction.U, $"Patient/{created.Id}/_history/2"), (update.Action, update.Entity.Single().What!.Reference));
        var delete = await Trail.WaitForAsync(entity, e => Is(e, "delete"));
        Assert.Equal((AuditEvent.AuditEventAction.D, "14"), (delete.Action, delete.Entity.Single().Lifecycle!.Code));
    }

    [Fact]
    public async Task A_search_is_recorded_with_its_query_as_a_system_object_entity()
    {
        var pseudonym = "AUD-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Patient?identifier={pseudonym}")).Status);

        var search = await Trail.WaitForAsync("entity-type=Patient&subtype=search-type",
            e => e.Entity.Any(x => AuditTrailClient.Query(x)?.Contains(pseudonym, StringComparison.Ordinal) == true));
        Assert.Equal(AuditEvent.AuditEventAction.E, search.Action);
        var entity = search.Entity.Single();
        Assert.Equal($"Patient?identifier={pseudonym}", AuditTrailClient.Query(entity));
        Assert.Equal(("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2"), (entity.Type!.System, entity.Type.Code));
        Assert.Equal("24", entity.Role!.Code);
    }

    [Fact]
    public async Task A_transaction_is_one_event_with_every_written_entry_as_an_entity()
    {
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new Bundle.EntryComponent { FullUrl = "urn:uuid:" + Guid.NewGuid(), Resource = TestData.NewPatient(), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new Bundle.EntryComponent { FullUrl = "urn:uuid:" + Guid.NewGuid(), Resource = TestData.NewPatient(), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
            ],
        };
        var response = await _client.PostBundleAsync(bundle);
        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var written = response.As<Bundle>().Entry.Select(e => e.Response!.Location!).ToList();

        var second = written[1].Split("/_history")[0];
        var transaction = await Trail.WaitForAsync($"entity={second}", e => Is(e, "transaction"));

        Assert.Equal(AuditEvent.AuditEventAction.E, transaction.Action);
        Assert.Equal(written.Order(), transaction.Entity.Select(x => x.What!.Reference!).Order());
        Assert.All(transaction.Entity, x => Assert.Equal("1", x.Lifecycle!.Code));
        Assert.Single(await Trail.SearchAsync($"entity={written[0].Split("/_history")[0]}&subtype=transaction"));
    }

    [Fact]
    public async Task A_batch_is_recorded_as_a_batch_with_the_entries_it_wrote()
    {
        var batch = new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry = [new Bundle.EntryComponent { Resource = TestData.NewPatient(), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } }],
        };
        var response = await _client.PostBundleAsync(batch);
        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var written = response.As<Bundle>().Entry.Single().Response!.Location!;

        var recorded = await Trail.WaitForAsync($"entity={written.Split("/_history")[0]}", e => Is(e, "batch"));
        Assert.Equal(written, recorded.Entity.Single().What!.Reference);
    }

    [Fact]
    public async Task Failed_requests_are_recorded_with_outcome_4_and_never_carry_the_request_body()
    {
        var missing = "missing-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/Patient/{missing}")).Status);
        var secret = "Zz" + Guid.NewGuid().ToString("N");
        var refused = await _client.SendAsync(HttpMethod.Post, "/Patient",
            $$"""{"resourceType":"Patient","name":[{"family":"{{secret}}"}],"birthDate":"not-a-date-{{secret}}"}""");
        Assert.True((int)refused.Status is >= 400 and < 500, refused.Body);

        var notFound = await Trail.WaitForAsync($"entity=Patient/{missing}", e => Is(e, "read", "4"));
        Assert.Equal("404 Not Found", notFound.OutcomeDesc);
        var failedCreate = await Trail.WaitForAsync("entity-type=Patient&subtype=create&outcome=4",
            e => e.OutcomeDesc?.StartsWith(((int)refused.Status).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) == true);
        var everything = FhirSerialization.ToJson(failedCreate) + FhirSerialization.ToJson(notFound);
        Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_no_endpoint_serves_is_recorded_by_verb_and_path()
    {
        var probe = "no-such-thing-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/{probe}/x?y=1")).Status);

        var recorded = await Trail.WaitForAsync("subtype=GET&outcome=4",
            e => e.Entity.Any(x => AuditTrailClient.Query(x) == $"{probe}/x?y=1"));
        Assert.Equal("http://hl7.org/fhir/http-verb", recorded.Subtype.Single().System);
    }

    [Fact]
    public async Task Health_probes_are_not_recorded_but_data_requests_after_them_are()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).Status);
        var marker = "after-probe-" + Guid.NewGuid().ToString("N");
        await _client.GetAsync($"/Patient/{marker}");

        // Events are written in arrival order: once the later request is on the trail, the probe would be too.
        await Trail.WaitForAsync($"entity=Patient/{marker}", _ => true);
        var unrecognised = await Trail.SearchAsync("subtype=GET&_count=1000");
        Assert.DoesNotContain(unrecognised, e => e.Entity.Any(x => AuditTrailClient.Query(x)?.StartsWith("health/", StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task The_trail_cannot_be_changed_through_the_api()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        var recorded = await Trail.WaitForAsync($"entity=Patient/{created.Id}", e => Is(e, "create"));
        var before = (await _client.GetAsync($"/AuditEvent/{recorded.Id}")).Body;
        var forged = (AuditEvent)recorded.DeepCopy();
        forged.Outcome = AuditEvent.AuditEventOutcome.N8;

        var attempts = new[]
        {
            await _client.PostAsync("/AuditEvent", forged),
            await _client.PutAsync($"/AuditEvent/{recorded.Id}", forged),
            await _client.SendAsync(HttpMethod.Patch, $"/AuditEvent/{recorded.Id}", "[]", contentType: "application/json-patch+json"),
            await _client.DeleteAsync($"/AuditEvent/{recorded.Id}"),
            await _client.DeleteAsync($"/AuditEvent?entity=Patient/{created.Id}"),
        };

        Assert.All(attempts, a =>
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, a.Status);
            Assert.Equal("GET", string.Join(",", a.ContentHeaders!.Allow));
            Assert.Equal(OperationOutcome.IssueType.NotSupported, a.Issues.Single().Code);
        });
        Assert.Equal(before, (await _client.GetAsync($"/AuditEvent/{recorded.Id}")).Body);
        Assert.Single(await Trail.SearchAsync($"entity=Patient/{created.Id}&subtype=create"));
        // The attempts themselves are on the trail, refused.
        await Trail.WaitForAsync("entity-type=AuditEvent&subtype=delete&outcome=4", e => e.Entity.Any(x => x.What?.Reference == $"AuditEvent/{recorded.Id}"));
    }

    [Fact]
    public async Task A_transaction_or_batch_entry_cannot_write_an_AuditEvent()
    {
        var forged = new AuditEvent
        {
            Id = "forged-" + Guid.NewGuid().ToString("N"),
            Type = new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"),
            Recorded = DateTimeOffset.UtcNow,
            Agent = [new AuditEvent.AgentComponent { Requestor = true }],
            Source = new AuditEvent.SourceComponent { Observer = new ResourceReference { Display = "forger" } },
        };
        var pseudonym = "AUDTX-" + Guid.NewGuid().ToString("N");
        var transaction = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new Bundle.EntryComponent { FullUrl = "urn:uuid:" + Guid.NewGuid(), Resource = TestData.NewPatient(pseudonym), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new Bundle.EntryComponent { FullUrl = "urn:uuid:" + Guid.NewGuid(), Resource = forged, Request = new() { Method = Bundle.HTTPVerb.PUT, Url = $"AuditEvent/{forged.Id}" } },
            ],
        };
        var batch = new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry = [new Bundle.EntryComponent { Resource = forged, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "AuditEvent" } }],
        };

        var refused = await _client.PostBundleAsync(transaction);
        var batchResponse = await _client.PostBundleAsync(batch);

        Assert.True((int)refused.Status is >= 400 and < 500, $"{refused.Status}: {refused.Body}");
        Assert.Contains(refused.Issues, i => i.Expression.Any(x => x?.StartsWith("Bundle.entry[1]", StringComparison.Ordinal) == true));
        Assert.Empty((await _client.GetAsync($"/Patient?identifier={pseudonym}")).As<Bundle>().Entry);
        Assert.True(batchResponse.Status == HttpStatusCode.OK, batchResponse.Body);
        Assert.StartsWith("4", batchResponse.As<Bundle>().Entry.Single().Response!.Status, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/AuditEvent/{forged.Id}")).Status);
    }

    [Fact]
    public async Task The_trail_is_searchable_by_date_agent_entity_action_and_outcome()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        var recorded = await Trail.WaitForAsync($"entity=Patient/{created.Id}", e => Is(e, "create"));
        var at = recorded.Recorded!.Value.ToUniversalTime();
        var entity = $"entity=Patient/{created.Id}";
        string Date(string prefix, DateTimeOffset t) => $"date={prefix}{Uri.EscapeDataString(t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture))}";

        Assert.Single(await Trail.SearchAsync($"{entity}&{Date("ge", at)}&{Date("le", at)}"));
        Assert.Single(await Trail.SearchAsync($"{entity}&{Date("eq", at)}"));
        Assert.Single(await Trail.SearchAsync($"{entity}&date={at:yyyy-MM-dd}"));
        Assert.Empty(await Trail.SearchAsync($"{entity}&{Date("gt", at)}"));
        Assert.Empty(await Trail.SearchAsync($"{entity}&{Date("lt", at)}"));
        Assert.Single(await Trail.SearchAsync($"{entity}&agent=anonymous"));
        Assert.Single(await Trail.SearchAsync($"{entity}&agent:identifier={Uri.EscapeDataString(AuditTrailClient.ClientIdSystem)}|anonymous"));
        Assert.Empty(await Trail.SearchAsync($"{entity}&agent=someone-else"));
        Assert.Single(await Trail.SearchAsync($"{entity}&action=C&outcome=0"));
        Assert.Empty(await Trail.SearchAsync($"{entity}&action=D"));
        Assert.Empty(await Trail.SearchAsync($"{entity}&outcome=4"));
        Assert.Contains(await Trail.SearchAsync("entity-type=Patient&subtype=create"), e => e.Id == recorded.Id);
        Assert.Equal(recorded.Id, (await _client.GetAsync($"/AuditEvent/{recorded.Id}")).As<AuditEvent>().Id);
    }

    [Theory]
    [InlineData("date=yesterday")]
    [InlineData("date=sa2026-01-01")]
    [InlineData("_count=0")]
    [InlineData("_cursor=abc")]
    [InlineData("entity=Patient")]
    [InlineData("action=X")]
    [InlineData("outcome=1")]
    [InlineData("agent=a,b")]
    [InlineData("patient=Patient/1")]
    public async Task A_malformed_or_unsupported_audit_search_answers_400_naming_the_parameter(string query)
    {
        var response = await _client.GetAsync("/AuditEvent?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains(query.Split('=')[0], response.Issues.Single().Diagnostics!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_with_next_links_visits_every_event_once_newest_first()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        for (var i = 0; i < 4; i++)
            await _client.GetAsync($"/Patient/{created.Id}");
        await Trail.WaitForAsync($"entity=Patient/{created.Id}&subtype=read", _ => true);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while ((await Trail.SearchAsync($"entity=Patient/{created.Id}")).Count < 5 && DateTimeOffset.UtcNow < deadline)
            await Task.Delay(25);

        var seen = new List<AuditEvent>();
        var url = $"/AuditEvent?entity=Patient/{created.Id}&_count=2";
        var pages = 0;
        while (url is not null)
        {
            var page = (await _client.GetAsync(url)).As<Bundle>();
            seen.AddRange(page.Entry.Select(e => (AuditEvent)e.Resource!));
            url = page.Link.FirstOrDefault(l => l.Relation == "next")?.Url is { } next ? new Uri(next).PathAndQuery : null;
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(5, seen.Select(e => e.Id).Distinct().Count());
        Assert.Equal(seen.OrderByDescending(e => e.Recorded).Select(e => e.Id), seen.Select(e => e.Id));
        Assert.Equal("create", AuditTrailClient.Subtype(seen[^1]));
    }

    [Fact]
    public async Task Reading_the_trail_is_itself_recorded_as_audit_log_use()
    {
        var marker = "M" + Guid.NewGuid().ToString("N");
        await _client.GetAsync($"/AuditEvent?agent={marker}");

        var used = await Trail.WaitForAsync("entity-type=AuditEvent&subtype=search-type",
            e => e.Entity.Any(x => AuditTrailClient.Query(x)?.Contains(marker, StringComparison.Ordinal) == true));
        Assert.Equal(("http://dicom.nema.org/resources/ontology/DCM", "110101"), (used.Type.System, used.Type.Code));
    }

    [Fact]
    public async Task An_unknown_AuditEvent_id_answers_404_with_an_OperationOutcome()
    {
        var response = await _client.GetAsync("/AuditEvent/" + Guid.NewGuid().ToString("N"));

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal(OperationOutcome.IssueType.NotFound, response.Issues.Single().Code);
    }

    [Fact]
    public async Task The_CapabilityStatement_lists_AuditEvent_read_and_search_with_its_parameters()
    {
        var capabilities = (await _client.GetAsync("/metadata")).As<CapabilityStatement>();

        var audit = capabilities.Rest.Single().Resource.Single(r => r.Type == "AuditEvent");
        Assert.Equal(
            [CapabilityStatement.TypeRestfulInteraction.Read, CapabilityStatement.TypeRestfulInteraction.SearchType],
            audit.Interaction.Select(i => i.Code!.Value).Order());
        Assert.Equal(["action", "agent", "date", "entity", "entity-type", "outcome", "subtype"], audit.SearchParam.Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_recorded_write_names_the_resource_but_carries_none_of_its_content()
    {
        var created = await _client.CreateAsync(TestData.NewPatient());
        var recorded = await Trail.WaitForAsync($"entity=Patient/{created.Id}", e => Is(e, "create"));

        var raw = (await _client.GetAsync($"/AuditEvent/{recorded.Id}")).Body;

        Assert.Contains($"Patient/{created.Id}", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Identifier[0].Value!, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(created.BirthDate!, raw, StringComparison.Ordinal);
    }
}

public sealed class SqliteAuditTrailTests(SqliteAuditServiceHost host) : AuditTrailTests(host), IClassFixture<SqliteAuditServiceHost>;

public sealed class PostgresAuditTrailTests(PostgresAuditServiceHost host) : AuditTrailTests(host), IClassFixture<PostgresAuditServiceHost>;
