using System.Net;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Limits;

/// <summary>
/// Each configured maximum (<see cref="SmallLimits"/>): a request just under it is served, one just over it is refused
/// with the right status and an OperationOutcome, and nothing of a refused write is stored.
/// </summary>
public abstract class InputLimitsTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    // ---- request body size ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_of_exactly_the_maximum_size_is_accepted(bool chunked)
    {
        var id = NewId();
        var body = PaddedTo(PatientJson(id), SmallLimits.MaxRequestBodyBytes);

        var response = await SendBytesAsync(HttpMethod.Put, $"/Patient/{id}", body, chunked);

        Assert.True(response.Status == HttpStatusCode.Created, $"{response.Status}: {response.Body}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_one_byte_over_the_maximum_is_refused_with_413_and_nothing_is_written(bool chunked)
    {
        var id = NewId();
        var body = PaddedTo(PatientJson(id), SmallLimits.MaxRequestBodyBytes + 1);

        var response = await SendBytesAsync(HttpMethod.Put, $"/Patient/{id}", body, chunked);

        AssertRefused(response, HttpStatusCode.RequestEntityTooLarge, OperationOutcome.IssueType.TooLong, $"{SmallLimits.MaxRequestBodyBytes} bytes");
        await AssertNotStoredAsync(id);
    }

    [Fact]
    public async Task An_oversized_transaction_body_is_refused_before_any_entry_runs()
    {
        var ids = Enumerable.Range(0, 3).Select(_ => NewId()).ToList();
        var body = PaddedTo(TransactionJson(ids), SmallLimits.MaxRequestBodyBytes + 1);

        var response = await SendBytesAsync(HttpMethod.Post, "/", body, chunked: true);

        AssertRefused(response, HttpStatusCode.RequestEntityTooLarge, OperationOutcome.IssueType.TooLong, "MaxRequestBodyBytes");
        foreach (var id in ids)
            await AssertNotStoredAsync(id);
    }

    // ---- Bundle entry count ----

    [Fact]
    public async Task A_transaction_with_the_maximum_number_of_entries_is_accepted()
    {
        var ids = Enumerable.Range(0, SmallLimits.MaxBundleEntries).Select(_ => NewId()).ToList();

        var response = await _client.SendAsync(HttpMethod.Post, "/", TransactionJson(ids));

        Assert.True(response.Status == HttpStatusCode.OK, $"{response.Status}: {response.Body}");
        Assert.Equal(SmallLimits.MaxBundleEntries, response.As<Bundle>().Entry.Count);
    }

    [Fact]
    public async Task A_transaction_with_one_entry_too_many_is_refused_with_413_naming_the_count_and_the_limit()
    {
        var ids = Enumerable.Range(0, SmallLimits.MaxBundleEntries + 1).Select(_ => NewId()).ToList();

        var response = await _client.SendAsync(HttpMethod.Post, "/", TransactionJson(ids));

        var issue = AssertRefused(response, HttpStatusCode.RequestEntityTooLarge, OperationOutcome.IssueType.TooCostly,
            $"{SmallLimits.MaxBundleEntries + 1} entries");
        Assert.Contains($"at most {SmallLimits.MaxBundleEntries}", issue.Diagnostics);
        foreach (var id in ids)
            await AssertNotStoredAsync(id);
    }

    [Fact]
    public async Task An_XML_transaction_with_one_entry_too_many_is_refused_with_413()
    {
        var ids = Enumerable.Range(0, SmallLimits.MaxBundleEntries + 1).Select(_ => NewId()).ToList();
        var xml = FhirSerialization.ToXml(FhirSerialization.StrictJson.DeserializeResource(TransactionJson(ids)));

        var response = await _client.SendAsync(HttpMethod.Post, "/", xml, contentType: "application/fhir+xml");

        AssertRefused(response, HttpStatusCode.RequestEntityTooLarge, OperationOutcome.IssueType.TooCostly, $"{SmallLimits.MaxBundleEntries + 1} entries");
        foreach (var id in ids)
            await AssertNotStoredAsync(id);
    }

    // ---- JSON nesting depth ----

    [Fact]
    public async Task A_resource_nested_exactly_to_the_maximum_depth_is_accepted()
    {
        var id = NewId();

        var response = await _client.SendAsync(HttpMethod.Put, $"/Patient/{id}", NestedPatientJson(id, SmallLimits.MaxJsonDepth));

        Assert.True(response.Status == HttpStatusCode.Created, $"{response.Status}: {response.Body}");
    }

    [Fact]
    public async Task A_resource_nested_one_level_too_deep_is_refused_with_400_and_its_line_and_column()
    {
        var id = NewId();
        var json = NestedPatientJson(id, SmallLimits.MaxJsonDepth + 1);

        var response = await _client.SendAsync(HttpMethod.Put, $"/Patient/{id}", json);

        var issue = AssertRefused(response, HttpStatusCode.BadRequest, OperationOutcome.IssueType.TooCostly, $"{SmallLimits.MaxJsonDepth} levels");
        // The innermost object, the one that crosses the limit, is the last '{' of the body.
        var lines = json.Split('\n');
        Assert.Equal(lines.Length, Position(issue).Line);
        Assert.Equal(lines[^1].LastIndexOf('{') + 1, Position(issue).Column);
        await AssertNotStoredAsync(id);
    }

    // ---- string length ----

    [Theory]
    [InlineData("a")]
    [InlineData("é")]
    public async Task A_string_of_exactly_the_maximum_length_in_characters_is_accepted(string character)
    {
        var id = NewId();
        var family = string.Concat(Enumerable.Repeat(character, SmallLimits.MaxStringLength));

        var response = await _client.SendAsync(HttpMethod.Put, $"/Patient/{id}", PatientJson(id, family));

        Assert.True(response.Status == HttpStatusCode.Created, $"{response.Status}: {response.Body}");
        Assert.Equal(family, (await _client.GetAsync($"/Patient/{id}")).As<Patient>().Name[0].Family);
    }

    [Fact]
    public async Task A_string_of_the_maximum_length_written_with_escapes_is_accepted()
    {
        var id = NewId();
        var escaped = string.Concat(Enumerable.Repeat("\\u00e9", SmallLimits.MaxStringLength));

        var response = await _client.SendAsync(HttpMethod.Put, $"/Patient/{id}", PatientJson(id, escaped));

        Assert.True(response.Status == HttpStatusCode.Created, $"{response.Status}: {response.Body}");
    }

    [Fact]
    public async Task A_string_one_character_too_long_is_refused_with_400_its_position_and_not_its_content()
    {
        var id = NewId();
        var family = "Z" + string.Concat(Enumerable.Repeat("q", SmallLimits.MaxStringLength));
        var json = $$"""
            {
              "resourceType": "Patient",
              "id": "{{id}}",
              "name": [{ "family": "{{family}}" }]
            }
            """;

        var response = await _client.SendAsync(HttpMethod.Put, $"/Patient/{id}", json);

        var issue = AssertRefused(response, HttpStatusCode.BadRequest, OperationOutcome.IssueType.TooLong, $"{SmallLimits.MaxStringLength} characters");
        Assert.Equal((4, json.Split('\n')[3].IndexOf('"' + family, StringComparison.Ordinal) + 1), Position(issue));
        Assert.DoesNotContain(family, response.Body);
        await AssertNotStoredAsync(id);
    }

    [Fact]
    public async Task An_XML_value_one_character_too_long_is_refused_with_400()
    {
        var id = NewId();
        var family = new string('x', SmallLimits.MaxStringLength + 1);
        var xml = $"""<Patient xmlns="http://hl7.org/fhir"><id value="{id}"/><name><family value="{family}"/></name></Patient>""";

        var response = await _client.SendAsync(HttpMethod.Put, $"/Patient/{id}", xml, contentType: "application/fhir+xml");

        AssertRefused(response, HttpStatusCode.BadRequest, OperationOutcome.IssueType.TooLong, $"{SmallLimits.MaxStringLength} characters");
        await AssertNotStoredAsync(id);
    }

    // ---- XML: no DTDs, no external entities ----

    [Theory]
    [InlineData("/Patient/{0}", "PUT")]
    [InlineData("/Patient/$validate", "POST")]
    public async Task An_XML_body_with_an_external_entity_is_refused_and_the_file_never_appears(string pathFormat, string method)
    {
        var id = NewId();
        var secret = "SECRET-" + Guid.NewGuid().ToString("N");
        var file = Path.Combine(Path.GetTempPath(), $"fhircase-xxe-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, secret);
        try
        {
            var response = await _client.SendAsync(new HttpMethod(method), string.Format(pathFormat, id), ExternalEntityPatient(id, file),
                contentType: "application/fhir+xml");

            AssertRefused(response, HttpStatusCode.BadRequest, OperationOutcome.IssueType.Security, "DOCTYPE");
            Assert.DoesNotContain(secret, response.Body);
            await AssertNotStoredAsync(id);
            Assert.DoesNotContain(secret, (await _client.GetAsync($"/Patient?_id={id}")).Body);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_shared_XML_parser_does_not_resolve_external_entities_either()
    {
        var secret = "SECRET-" + Guid.NewGuid().ToString("N");
        var file = Path.Combine(Path.GetTempPath(), $"fhircase-xxe-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, secret);
        try
        {
            var exception = Record.Exception(() => FhirSerialization.StrictXml.DeserializeResource(ExternalEntityPatient("xxe", file)));

            Assert.NotNull(exception);
            Assert.DoesNotContain(secret, exception.ToString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    // ---- search parameters and _count ----

    [Fact]
    public async Task A_search_with_the_maximum_number_of_parameters_is_served()
    {
        var query = string.Join("&", Enumerable.Range(0, SmallLimits.MaxSearchParameters).Select(i => $"family=f{i}"));

        var response = await _client.GetAsync($"/Patient?{query}");

        Assert.True(response.Status == HttpStatusCode.OK, $"{response.Status}: {response.Body}");
    }

    [Fact]
    public async Task A_search_with_one_parameter_too_many_is_refused_with_400_without_echoing_values()
    {
        var query = string.Join("&", Enumerable.Range(0, SmallLimits.MaxSearchParameters + 1).Select(i => $"family=secret{i}"));

        var response = await _client.GetAsync($"/Patient?{query}");

        AssertRefused(response, HttpStatusCode.BadRequest, OperationOutcome.IssueType.TooCostly, $"at most {SmallLimits.MaxSearchParameters}");
        Assert.DoesNotContain("secret", response.Body);
    }

    [Fact]
    public async Task A_form_search_whose_query_and_form_together_exceed_the_maximum_is_refused_with_400()
    {
        using var form = new FormUrlEncodedContent(Enumerable.Range(0, SmallLimits.MaxSearchParameters).Select(i => KeyValuePair.Create("family", $"f{i}")));

        using var response = await host.Client.PostAsync("/Patient/_search?_count=1", form);

        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"{SmallLimits.MaxSearchParameters + 1} parameters", outcome.Issue[0].Diagnostics);
    }

    // ---- URL length and page links ----

    [Fact]
    public async Task A_url_of_exactly_the_maximum_length_is_served()
    {
        var response = await _client.GetAsync(UrlOfLength(SmallLimits.MaxUrlBytes));

        Assert.True(response.Status == HttpStatusCode.OK, $"{response.Status}: {response.Body}");
    }

    [Fact]
    public async Task A_url_one_byte_over_the_maximum_is_refused_with_414_and_advice_to_post_the_search()
    {
        var response = await _client.GetAsync(UrlOfLength(SmallLimits.MaxUrlBytes + 1));

        AssertRefused(response, HttpStatusCode.RequestUriTooLong, OperationOutcome.IssueType.TooLong, "Limits:MaxUrlBytes");
        Assert.Contains("POST [type]/_search", response.Body);
    }

    [Fact]
    public async Task A_url_beyond_kestrels_default_request_line_limit_still_gets_an_operation_outcome()
    {
        // Kestrel's default is 8 KiB; its limit now sits above the service's own, so the refusal is the service's.
        var response = await _client.GetAsync(UrlOfLength(10 * 1024));

        AssertRefused(response, HttpStatusCode.RequestUriTooLong, OperationOutcome.IssueType.TooLong, $"at most {SmallLimits.MaxUrlBytes}");
    }

    [Fact]
    public async Task A_form_search_whose_next_link_would_be_longer_than_a_url_may_be_is_refused_with_400()
    {
        var ids = await CreatePatientsAsync(2);
        // 350 padding ids: the form stays under the 4,096-byte body limit, while its link, with each comma spelled %2C,
        // comes out longer than the 4,096-byte URL limit.
        var form = $"_id={string.Join(",", ids.Concat(PaddingIds(350)))}";
        Assert.True(form.Length < SmallLimits.MaxRequestBodyBytes - 20, "the form must fit the body limit");

        var onePerPage = await PostFormAsync("/Patient/_search", form + "&_count=1");
        var allOnOnePage = await PostFormAsync("/Patient/_search", form + "&_count=10");

        AssertRefused(onePerPage, HttpStatusCode.BadRequest, OperationOutcome.IssueType.TooCostly, "next link would be");
        Assert.True(allOnOnePage.Status == HttpStatusCode.OK, $"{allOnOnePage.Status}: {allOnOnePage.Body}");
        Assert.Equal(2, allOnOnePage.As<Bundle>().Total);
    }

    /// <summary>A search URL of exactly <paramref name="length"/> bytes (path and query).</summary>
    private static string UrlOfLength(int length)
    {
        const string prefix = "/Patient?family=";
        return prefix + new string('a', length - prefix.Length);
    }

    private static IEnumerable<string> PaddingIds(int count) => Enumerable.Range(0, count).Select(i => $"absent{i}");

    private async Task<List<string>> CreatePatientsAsync(int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = NewId();
            var response = await SendBytesAsync(HttpMethod.Put, $"/Patient/{id}", Encoding.UTF8.GetBytes(PatientJson(id)), chunked: false);
            Assert.True(response.Status == HttpStatusCode.Created, $"{response.Status}: {response.Body}");
            ids.Add(id);
        }
        return ids;
    }

    private async Task<FhirResponse> PostFormAsync(string path, string form)
    {
        using var content = new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded");
        using var response = await host.Client.PostAsync(path, content);
        return new FhirResponse(response.StatusCode, response.Headers, response.Content.Headers, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/Patient?_count={0}")]
    [InlineData("/_history?_count={0}")]
    public async Task A_count_of_exactly_the_maximum_page_size_is_served(string pathFormat)
    {
        var response = await _client.GetAsync(string.Format(pathFormat, SmallLimits.MaxPageSize));

        Assert.True(response.Status == HttpStatusCode.OK, $"{response.Status}: {response.Body}");
    }

    [Theory]
    [InlineData("/Patient?_count={0}")]
    [InlineData("/_history?_count={0}")]
    [InlineData("/Patient/some-patient/$everything?_count={0}")]
    public async Task A_count_above_the_maximum_page_size_is_refused_with_400_naming_the_maximum(string pathFormat)
    {
        var response = await _client.GetAsync(string.Format(pathFormat, SmallLimits.MaxPageSize + 1));

        var issue = AssertRefused(response, HttpStatusCode.BadRequest, OperationOutcome.IssueType.Invalid, $"the {SmallLimits.MaxPageSize} results");
        Assert.Equal("_count", Assert.Single(issue.Expression));
    }

    [Fact]
    public async Task A_count_above_the_maximum_in_a_form_search_is_refused_with_400()
    {
        using var form = new FormUrlEncodedContent([KeyValuePair.Create("_count", (SmallLimits.MaxPageSize + 1).ToString())]);

        using var response = await host.Client.PostAsync("/Patient/_search", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"the {SmallLimits.MaxPageSize} results", await response.Content.ReadAsStringAsync());
    }

    // ---- rate limiting stays off in Development unless enabled ----

    [Fact]
    public async Task Rate_limiting_is_off_in_Development_unless_enabled()
    {
        // The host's bucket would hold two requests if rate limiting were on.
        for (var i = 0; i < 6; i++)
        {
            var response = await _client.GetAsync("/metadata");
            Assert.Equal(HttpStatusCode.OK, response.Status);
        }
    }

    // ---- helpers ----

    private static string NewId() => "lim-" + Guid.NewGuid().ToString("N")[..16];

    private static string PatientJson(string id, string family = "Doe") =>
        $$"""{"resourceType":"Patient","id":"{{id}}","name":[{"family":"{{family}}"}]}""";

    /// <summary>A Patient whose deepest object sits at <paramref name="depth"/> levels, one nesting step per line.</summary>
    private static string NestedPatientJson(string id, int depth)
    {
        // Root object = 1; each nested extension adds an array and an object; a valueCodeableConcept adds one more object.
        var extensions = (depth - 1) / 2;
        var innermost = (depth - 1) % 2 == 1 ? """{"url":"urn:x:leaf","valueCodeableConcept":{"text":"t"}}""" : """{"url":"urn:x:leaf","valueString":"v"}""";
        var json = new StringBuilder($$"""{"resourceType":"Patient","id":"{{id}}",""");
        var closing = new StringBuilder();
        for (var level = 0; level < extensions; level++)
        {
            json.Append(level == extensions - 1 ? "\n\"extension\":[" + innermost : "\n\"extension\":[{\"url\":\"urn:x:level\",");
            closing.Insert(0, level == extensions - 1 ? "]" : "}]");
        }
        return json.Append(closing).Append('}').ToString();
    }

    private static string TransactionJson(IEnumerable<string> ids)
    {
        var entries = ids.Select(id => $$$"""{"resource":{{{PatientJson(id)}}},"request":{"method":"PUT","url":"Patient/{{{id}}}"}}""");
        return $$"""{"resourceType":"Bundle","type":"transaction","entry":[{{string.Join(",", entries)}}]}""";
    }

    private static string ExternalEntityPatient(string id, string file) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE Patient [ <!ENTITY secret SYSTEM "file://{file}"> ]>
        <Patient xmlns="http://hl7.org/fhir"><id value="{id}"/><name><family value="&secret;"/></name></Patient>
        """;

    /// <summary>The JSON followed by spaces (insignificant in JSON) up to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] PaddedTo(string json, int size)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.True(bytes.Length <= size, "the resource alone is larger than the size to pad to");
        return [.. bytes, .. Enumerable.Repeat((byte)' ', size - bytes.Length)];
    }

    private async Task<FhirResponse> SendBytesAsync(HttpMethod method, string path, byte[] body, bool chunked)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = chunked ? new UnknownLengthContent(body) : new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new("application/fhir+json");
        using var response = await host.Client.SendAsync(request);
        return new FhirResponse(response.StatusCode, response.Headers, response.Content.Headers, await response.Content.ReadAsStringAsync());
    }

    private static OperationOutcome.IssueComponent AssertRefused(FhirResponse response, HttpStatusCode status, OperationOutcome.IssueType code, string diagnosticsPart)
    {
        Assert.True(response.Status == status, $"expected {status}, got {response.Status}: {response.Body}");
        Assert.StartsWith("application/fhir+json", response.ContentHeaders?.ContentType?.ToString());
        var issue = Assert.Single(response.Issues);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(code, issue.Code);
        Assert.Contains(diagnosticsPart, issue.Diagnostics);
        return issue;
    }

    private static (int Line, int Column) Position(OperationOutcome.IssueComponent issue) =>
        (IntegerExtension(issue, ValidationResult.IssueLineExtension), IntegerExtension(issue, ValidationResult.IssueColumnExtension));

    private static int IntegerExtension(OperationOutcome.IssueComponent issue, string url) =>
        Assert.IsType<Integer>(issue.GetExtension(url)?.Value).Value ?? throw new InvalidOperationException($"{url} has no value");

    private async Task AssertNotStoredAsync(string id)
    {
        var read = await _client.GetAsync($"/Patient/{id}");
        Assert.True(read.Status == HttpStatusCode.NotFound, $"Patient/{id} was stored: {read.Status}");
    }

    /// <summary>A body whose length the client does not announce, so it goes out chunked (Transfer-Encoding: chunked).</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}

public sealed class InputLimitsTestsOnSqlite(SmallLimitsSqliteHost host) : InputLimitsTests(host), IClassFixture<SmallLimitsSqliteHost>;

public sealed class InputLimitsTestsOnPostgres(SmallLimitsPostgresHost host) : InputLimitsTests(host), IClassFixture<SmallLimitsPostgresHost>;
