using System.Net;
using System.Text;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Audit;

/// <summary>
/// The service with a short audit flush interval, so the trail catches up quickly. Settings on top of a
/// <see cref="ServiceHost"/>'s own.
/// </summary>
public abstract class AuditServiceHost(TestDatabase database, IReadOnlyDictionary<string, string?>? settings = null)
    : ServiceHost(database, new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Audit:FlushInterval"] = "00:00:00.020" });

public sealed class SqliteAuditServiceHost() : AuditServiceHost(new SqliteTestDatabase());

public sealed class PostgresAuditServiceHost() : AuditServiceHost(new PostgresTestDatabase());

/// <summary>
/// Reads the audit trail over HTTP. Events are written in the background, so a test polls until the event it expects
/// appears (or a timeout says it never did); it never sleeps and hopes.
/// </summary>
public sealed class AuditTrailClient(RestTestClient client)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public const string ClientIdSystem = "https://fhircase.example.org/fhir/client-id";

    /// <summary>The AuditEvents a search answers (first page).</summary>
    public async Task<IReadOnlyList<AuditEvent>> SearchAsync(string query)
    {
        var response = await client.GetAsync("/AuditEvent?" + query);
        Assert.True(response.Status == HttpStatusCode.OK, $"GET /AuditEvent?{query} answered {response.Status}: {response.Body}");
        return [.. response.As<Bundle>().Entry.Select(e => (AuditEvent)e.Resource!)];
    }

    /// <summary>Polls the search until an event matches <paramref name="match"/>; fails with what was found if none does in time.</summary>
    public async Task<AuditEvent> WaitForAsync(string query, Func<AuditEvent, bool> match)
    {
        var deadline = DateTimeOffset.UtcNow + Timeout;
        IReadOnlyList<AuditEvent> found;
        do
        {
            found = await SearchAsync(query);
            if (found.FirstOrDefault(match) is { } hit)
                return hit;
            await Task.Delay(25);
        }
        while (DateTimeOffset.UtcNow < deadline);
        Assert.Fail($"No matching AuditEvent for {query} within {Timeout.TotalSeconds} s; found: " +
            string.Join("; ", found.Select(Describe)));
        throw new InvalidOperationException("unreachable");
    }

    public static string Describe(AuditEvent e) =>
        $"{e.Subtype.FirstOrDefault()?.Code} {e.Action} {e.Outcome} {string.Join(",", e.Entity.Select(x => x.What?.Reference ?? Query(x)))}";

    public static string? Query(AuditEvent.EntityComponent entity) => entity.Query is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    public static string? Subtype(AuditEvent e) => e.Subtype.FirstOrDefault()?.Code;

    public static string? Client(AuditEvent e) => e.Agent.Single(a => a.Requestor == true).Who?.Identifier?.Value;
}
