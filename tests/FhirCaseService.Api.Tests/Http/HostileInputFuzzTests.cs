using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Http;

/// <summary>
/// Seeded fuzzing of the whole HTTP surface: every element path of every example resource (and of a transaction
/// Bundle made from them) mutated into wrong JSON types, null, empty containers, huge numbers, long strings and deep
/// nesting; documents truncated or broken with invalid UTF-8; hostile URLs and headers. The service must answer
/// every one below 500, with an OperationOutcome on every 4xx, and write nothing it did not accept.
/// The seed is fixed, so a failure names an input that reproduces.
/// </summary>
public sealed class HostileInputFuzzTests(HostileInputFuzzTests.FuzzHost host) : IClassFixture<HostileInputFuzzTests.FuzzHost>
{
    private const int Seed = 20261205;
    private readonly RestTestClient _client = new(host);

    private sealed record FuzzCase(string Description, HttpMethod Method, string Path, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers);

    [Fact]
    public async Task No_generated_request_gets_a_5xx_or_a_4xx_without_an_operation_outcome_or_writes_what_it_refused()
    {
        var random = new Random(Seed);
        var cases = Generate(random);
        Assert.True(cases.Count >= 2000, $"only {cases.Count} cases were generated");

        var failures = new List<string>();
        var serverErrors = new List<string>();
        foreach (var fuzz in cases)
        {
            var writes = fuzz.Method != HttpMethod.Get;
            var before = writes ? await _client.LatestChangeAsync() : null;
            var (status, contentType, body) = await SendAsync(fuzz);
            var code = (int)status;
            if (code >= 500)
            {
                serverErrors.Add($"{code} {fuzz.Description}: {host.TakeErrors()}");
                continue;
            }
            if (code >= 400 && !IsOperationOutcome(contentType, body) && !(code == 400 && RefusedByKestrel(fuzz.Path)))
                failures.Add($"{code} without an OperationOutcome: {fuzz.Description}: {Shorten(body)}");
            if (writes && code is < 200 or >= 300 && before != await _client.LatestChangeAsync())
                failures.Add($"{code} but the database changed: {fuzz.Description}");
        }

        Assert.True(serverErrors.Count == 0 && failures.Count == 0,
            $"{cases.Count} requests; {serverErrors.Count} answered 5xx, {failures.Count} other failures:\n" +
            string.Join("\n", serverErrors.Concat(failures).Take(200)));
    }

    private async Task<(HttpStatusCode, string?, string)> SendAsync(FuzzCase fuzz)
    {
        using var request = new HttpRequestMessage(fuzz.Method, fuzz.Path);
        if (fuzz.Body is not null)
        {
            request.Content = new ByteArrayContent(fuzz.Body);
            if (fuzz.ContentType is not null)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", fuzz.ContentType);
        }
        foreach (var (name, value) in fuzz.Headers)
            if (!request.Headers.TryAddWithoutValidation(name, value))
                request.Content?.Headers.TryAddWithoutValidation(name, value);
        using var response = await _client.Http.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    private static bool IsOperationOutcome(string? contentType, string body)
    {
        if (contentType is not ("application/fhir+json" or "application/fhir+xml"))
            return false;
        try
        {
            return (contentType == "application/fhir+xml" ? FhirSerialization.StrictXml.DeserializeResource(body) : FhirSerialization.StrictJson.DeserializeResource(body))
                is OperationOutcome { Issue.Count: > 0 };
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// Kestrel refuses a path that decodes to a NUL character before any middleware runs, with a bare 400
    /// (docs/input-limits.md lists these refusals); nothing of the app is reached, so nothing can be written.
    /// </summary>
    private static bool RefusedByKestrel(string path) => path.Split('?')[0].Contains("%00", StringComparison.Ordinal);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    private static List<FuzzCase> Generate(Random random)
    {
        var cases = new List<FuzzCase>();
        var documents = Directory.GetFiles(TestData.ExamplePath("resources"), "*.json").Order(StringComparer.Ordinal)
            .Select(file => (Name: Path.GetFileName(file), Json: JsonNode.Parse(File.ReadAllText(file))!.AsObject()))
            .Append(("transaction Bundle", SmallTransaction()))
            .ToList();

        foreach (var (name, document) in documents)
        {
            var type = document["resourceType"]!.GetValue<string>();
            foreach (var path in Paths(document, "").ToList())
            {
                // Every path gets three of the mutations, chosen by the seed; every mutation is used across the paths.
                foreach (var mutation in Mutations.OrderBy(_ => random.Next()).Take(3))
                {
                    var copy = document.DeepClone().AsObject();
                    Replace(copy, path, mutation.Make(random));
                    var json = copy.ToJsonString().Replace($"\"{DeepNestingMarker}\"", new string('[', 200) + new string(']', 200), StringComparison.Ordinal);
                    cases.Add(Post(type, $"{name} {path} := {mutation.Name}", Encoding.UTF8.GetBytes(json), random));
                }
            }
            var text = Encoding.UTF8.GetBytes(document.ToJsonString());
            for (var i = 0; i < 8; i++)
            {
                var cut = random.Next(1, text.Length);
                cases.Add(Post(type, $"{name} truncated at byte {cut}", text[..cut], random));
                var at = random.Next(1, text.Length);
                byte[] invalid = random.Next(3) switch { 0 => [0xC3, 0x28], 1 => [0xFF], _ => [0xED, 0xA0, 0x80] };
                cases.Add(Post(type, $"{name} invalid UTF-8 at byte {at}", [.. text[..at], .. invalid, .. text[at..]], random));
            }
        }
        cases.AddRange(HostileUrls());
        cases.AddRange(HostileHeaders(Encoding.UTF8.GetBytes(FhirSerialization.ToJson(TestData.NewPatient("fuzz-header")))));
        cases.AddRange(HostileBundles());
        return cases;
    }

    /// <summary>Create, update (to an id of its own) or $validate, chosen by the seed.</summary>
    private static FuzzCase Post(string type, string description, byte[] body, Random random)
    {
        if (type == "Bundle")
            return new FuzzCase(description, HttpMethod.Post, "/", body, "application/fhir+json", []);
        return random.Next(4) switch
        {
            0 => new FuzzCase(description + " (PUT)", HttpMethod.Put, $"/{type}/fuzz-{random.Next(1000)}", body, "application/fhir+json", []),
            1 => new FuzzCase(description + " ($validate)", HttpMethod.Post, $"/{type}/$validate", body, "application/fhir+json", []),
            _ => new FuzzCase(description, HttpMethod.Post, $"/{type}", body, "application/fhir+json", []),
        };
    }

    private const string DeepNestingMarker = "deep-nesting-goes-here";

    private sealed record Mutation(string Name, Func<Random, JsonNode?> Make);

    private static readonly Mutation[] Mutations =
    [
        new("null", _ => null),
        new("{}", _ => new JsonObject()),
        new("[]", _ => new JsonArray()),
        new("[null]", _ => new JsonArray((JsonNode?)null)),
        new("a string", _ => JsonValue.Create("garbage")),
        new("an empty string", _ => JsonValue.Create("")),
        new("a number", _ => JsonValue.Create(42)),
        new("true", _ => JsonValue.Create(true)),
        new("a huge number", _ => JsonNode.Parse("1e400")),
        new("a tiny number", _ => JsonNode.Parse("1e-400")),
        new("a 30-digit number", _ => JsonNode.Parse("123456789012345678901234567890")),
        new("a long string", r => JsonValue.Create(new string((char)('a' + r.Next(26)), 200_000))),
        // A marker replaced by 200 nested arrays after serialization: JsonNode itself refuses to build past depth 64.
        new("deep nesting", _ => JsonValue.Create(DeepNestingMarker)),
        new("an object in an array", _ => new JsonArray(new JsonObject { ["x"] = 1 })),
        new("a control character", _ => JsonValue.Create("a\u0001b")),
    ];

    /// <summary>Every element path of a document: object properties and array items, as "a.b[0].c".</summary>
    private static IEnumerable<string> Paths(JsonNode node, string prefix)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
                    yield return path;
                    if (value is not null)
                        foreach (var inner in Paths(value, path))
                            yield return inner;
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    var path = $"{prefix}[{i}]";
                    yield return path;
                    if (a[i] is { } item)
                        foreach (var inner in Paths(item, path))
                            yield return inner;
                }
                break;
        }
    }

    private static void Replace(JsonObject root, string path, JsonNode? value)
    {
        JsonNode current = root;
        var steps = System.Text.RegularExpressions.Regex.Matches(path, @"[^.\[\]]+|\[\d+\]").Select(m => m.Value).ToList();
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var last = i == steps.Count - 1;
            if (step.StartsWith('['))
            {
                var index = int.Parse(step[1..^1], System.Globalization.CultureInfo.InvariantCulture);
                if (last) current.AsArray()[index] = value;
                else current = current.AsArray()[index]!;
            }
            else if (last) current.AsObject()[step] = value;
            else current = current.AsObject()[step]!;
        }
    }

    /// <summary>A Patient and an Observation about it, linked by urn:uuid: small enough to mutate path by path.</summary>
    private static JsonObject SmallTransaction()
    {
        var patientUrl = "urn:uuid:" + new Guid(Enumerable.Repeat((byte)7, 16).ToArray());
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = patientUrl,
            Resource = TestData.NewPatient("fuzz-bundle"),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:" + new Guid(Enumerable.Repeat((byte)8, 16).ToArray()),
            Resource = TestData.NewObservation(patientUrl),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
        });
        return JsonNode.Parse(FhirSerialization.ToJson(bundle))!.AsObject();
    }

    private static IEnumerable<FuzzCase> HostileUrls()
    {
        string[] paths =
        [
            "/Patient/%2E%2E", "/Patient/..%2F..%2Fetc%2Fpasswd", "/openapi/..%2F..%2Fv1.json", "/Patient/%00", "/Patient/" + new string('a', 5000),
            "/Patient?_count=-1", "/Patient?_count=99999999999999999999", "/Patient?_count=abc", "/Patient?_sort=", "/Patient?_sort=-",
            "/Patient?birthdate=notadate", "/Patient?birthdate=gt", "/Patient?_lastUpdated=ge99999-01-01", "/Patient?identifier=%FF%FE",
            "/Patient?_include=*", "/Patient?_include=Patient:nothing", "/Patient?_revinclude=Observation", "/Patient?_elements=,,,",
            "/Patient?_summary=garbage", "/Patient?_total=sometimes", "/Patient?_cursor=garbage", "/Patient?_cursor=" + new string('A', 3000),
            "/Patient?name:garbage=x", "/Observation?subject.name.given=x", "/Observation?value-quantity=1e400", "/Observation?value-quantity=abc|def|ghi|jkl",
            "/Observation?code=%7C%7C%7C", "/Patient/x/_history/0", "/Patient/x/_history/-1", "/Patient/x/_history/99999999999999",
            "/_history?_since=garbage", "/_history?_count=0", "/Patient/x/$everything?_since=1", "/Patient/x/$everything?_type=Nothing",
            "/Patient/x/$everything?_count=-5", "/Patient/x/Observation?_count=abc", "/$export?_type=Nothing", "/$export-status/..",
            "/$export-file/../../etc/passwd", "/Patient?_format=application/foo", "/metadata?_format=text/html", "/Patient/x?_pretty=maybe",
            "/%", "/Patient/%C3%28", "/AuditEvent?date=garbage", "/AuditEvent?entity=%00", "/StructureDefinition/%2E%2E", "/OperationDefinition/..",
        ];
        foreach (var path in paths)
        {
            yield return new FuzzCase($"GET {path}", HttpMethod.Get, path, null, null, []);
            yield return new FuzzCase($"DELETE {path}", HttpMethod.Delete, path, null, null, []);
        }
        foreach (var criteria in new[] { "_count=1", "_sort=_id", "_total=accurate", "_include=Group:member", "", "garbage=1", "_id=" })
        {
            yield return new FuzzCase($"conditional DELETE ?{criteria}", HttpMethod.Delete, $"/Group?{criteria}", null, null, []);
            yield return new FuzzCase($"conditional PUT ?{criteria}", HttpMethod.Put, $"/Group?{criteria}",
                Encoding.UTF8.GetBytes("""{"resourceType":"Group","type":"person","actual":true}"""), "application/fhir+json", []);
        }
    }

    private static IEnumerable<FuzzCase> HostileHeaders(byte[] patient)
    {
        (string, string)[][] headerSets =
        [
            [("If-Match", "garbage")], [("If-Match", "W/\"-1\"")], [("If-Match", "W/\"99999999999999999999\"")], [("If-None-Match", "*")],
            [("If-None-Exist", "")], [("If-None-Exist", "_count=1")], [("If-None-Exist", "garbage=%FF")], [("If-None-Exist", "identifier=" + new string('x', 10000))],
            [("If-Modified-Since", "yesterday")], [("Prefer", "return=garbage")], [("Prefer", "handling=strict, respond-async")],
            [("Accept", "application/foo")], [("Accept", "application/fhir+json; fhirVersion=5.0")], [("Accept", ";;;")],
            [("Accept-Encoding", "gzip;q=garbage")], [("Content-Encoding", "gzip")], [("Content-Encoding", "deflate, br, gzip")],
            [("Authorization", "Bearer garbage")], [("X-Forwarded-Host", "evil.example")], [("X-Forwarded-Proto", "javascript")],
        ];
        foreach (var headers in headerSets)
        {
            var description = string.Join("; ", headers.Select(h => $"{h.Item1}: {Shorten(h.Item2)}"));
            yield return new FuzzCase($"POST /Patient with {description}", HttpMethod.Post, "/Patient", patient, "application/fhir+json", headers);
            yield return new FuzzCase($"GET /Patient with {description}", HttpMethod.Get, "/Patient?_count=1", null, null, headers);
        }
        foreach (var contentType in new[] { "", "garbage", "application/fhir+json; fhirVersion=3.0", "application/fhir+json; charset=klingon", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded" })
        {
            yield return new FuzzCase($"POST /Patient as '{contentType}'", HttpMethod.Post, "/Patient", patient, contentType, []);
            yield return new FuzzCase($"POST / as '{contentType}'", HttpMethod.Post, "/", patient, contentType, []);
            yield return new FuzzCase($"POST /Patient/_search as '{contentType}'", HttpMethod.Post, "/Patient/_search", patient, contentType, []);
        }
    }

    private static IEnumerable<FuzzCase> HostileBundles()
    {
        string[] bodies =
        [
            "[]", "null", "{}", "\"Bundle\"", """{"resourceType":"Bundle"}""", """{"resourceType":"Bundle","type":"garbage"}""",
            """{"resourceType":"Bundle","type":"transaction","entry":[null]}""", """{"resourceType":"Bundle","type":"transaction","entry":{}}""",
            """{"resourceType":"Bundle","type":"batch","entry":[{}]}""", """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"Patient/.."}}]}""",
            """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"../../etc/passwd"}}]}""",
            """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Group?_count=1"}}]}""",
            """{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:x","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"fullUrl":"urn:uuid:x","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}""",
            """{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Bundle","type":"transaction"},"request":{"method":"POST","url":"/"}}]}""",
            """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PATCH","url":"Patient/x"}}]}""",
            """{"resourceType":"Bundle","type":"searchset","total":-1}""", """{"resourceType":"Parameters"}""", """{"resourceType":"Nothing"}""",
        ];
        return bodies.Select(body => new FuzzCase($"POST / {Shorten(body)}", HttpMethod.Post, "/", Encoding.UTF8.GetBytes(body), "application/fhir+json", []));
    }

    /// <summary>The service on SQLite, with the stack of every unexpected error kept so a 5xx can be reported where it arose.</summary>
    public sealed class FuzzHost : ServiceHost
    {
        private readonly ErrorCapture _errors;

        public FuzzHost() : this(new ErrorCapture())
        {
        }

        private FuzzHost(ErrorCapture errors)
            : base(new SqliteTestDatabase(), null, "Development", builder => builder.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(errors)))
        {
            _errors = errors;
        }

        /// <summary>The exception type and the top of the stack of each error logged since the last call.</summary>
        public string TakeErrors()
        {
            var taken = new List<string>();
            while (_errors.Queue.TryDequeue(out var error))
                taken.Add(error);
            return string.Join(" | ", taken);
        }
    }

    private sealed class ErrorCapture : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<string> Queue { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is null)
                return;
            var top = exception.StackTrace?.Split('\n').Take(2).Select(l => l.Trim()) ?? [];
            Queue.Enqueue($"{exception.GetType().Name}: {exception.Message} {string.Join(" ", top)}");
        }

        public void Dispose()
        {
        }
    }
}
