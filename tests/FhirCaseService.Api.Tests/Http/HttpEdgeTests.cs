using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Http;

/// <summary>
/// The HTTP edge on a real Kestrel socket: what the FHIR specification refuses is refused with a 4xx OperationOutcome
/// and writes nothing; what real clients send by default is served.
/// </summary>
public sealed class HttpEdgeTests(SqliteServiceHost host) : IClassFixture<SqliteServiceHost>
{
    private readonly RestTestClient _client = new(host);

    private static string PatientJson(string pseudonym) => FhirSerialization.ToJson(TestData.NewPatient(pseudonym));

    private async Task<FhirResponse> PostRawAsync(string path, byte[] body, string? contentType = "application/fhir+json", Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        if (contentType is not null)
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        configure?.Invoke(request);
        using var response = await _client.Http.SendAsync(request);
        return new FhirResponse(response.StatusCode, response.Headers, response.Content.Headers, await response.Content.ReadAsStringAsync());
    }

    private async Task AssertRefusedAndNothingWrittenAsync(HttpStatusCode expected, Func<Task<FhirResponse>> send, string what = "")
    {
        var before = await _client.LatestChangeAsync();
        var response = await send();
        Assert.True(expected == response.Status, $"{what}: expected {expected}, got {response.Status}: {response.Body}");
        Assert.NotEmpty(response.Issues);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    public static TheoryData<string, string> NotStrictJson => new()
    {
        { "a second document", """{"resourceType":"Patient","gender":"male"}{"resourceType":"Patient"}""" },
        { "trailing garbage", """{"resourceType":"Patient","gender":"male"} garbage""" },
        { "a comment", """{"resourceType":"Patient", /* note */ "gender":"male"}""" },
        { "a trailing comma", """{"resourceType":"Patient","gender":"male",}""" },
        { "a NUL character", """{"resourceType":"Patient","gender":"male","name":[{"family":"A\u0000B"}]}""" },
        { "a vertical tab", """{"resourceType":"Patient","gender":"male","name":[{"family":"A\u000BB"}]}""" },
        { "a decimal no decimal holds", """{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e-400}}""" },
        { "a decimal with 40 places", """{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":0.1234567890123456789012345678901234567890}}""" },
    };

    [Theory]
    [MemberData(nameof(NotStrictJson))]
    public async Task Json_the_spec_does_not_allow_is_refused_with_400_and_nothing_is_written(string what, string json)
    {
        var type = json.Contains("Observation") ? "Observation" : "Patient";
        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest, () => PostRawAsync($"/{type}", Encoding.UTF8.GetBytes(json)), what);
    }

    [Fact]
    public async Task Invalid_utf8_is_refused_not_replaced()
    {
        var json = Encoding.UTF8.GetBytes(PatientJson("utf8-check"));
        var at = Array.IndexOf(json, (byte)'u', Array.IndexOf(json, (byte)'8'));
        var broken = json.Take(at).Concat(new byte[] { 0xC3, 0x28 }).Concat(json.Skip(at + 1)).ToArray();

        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest, () => PostRawAsync("/Patient", broken));
    }

    [Fact]
    public async Task Exact_decimals_keep_their_precision()
    {
        var subject = await _client.CreateAsync(TestData.NewPatient());
        var observation = TestData.NewObservation($"Patient/{subject.Id}");
        observation.Value = new Quantity { Value = 1.50m, Unit = "%", System = "http://unitsofmeasure.org", Code = "%" };

        var created = await _client.PostAsync("/Observation", observation);

        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        Assert.Contains("\"value\":1.50", created.Body);
    }

    [Fact]
    public async Task Xml_with_a_second_root_or_a_forbidden_character_is_refused()
    {
        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest, () => PostRawAsync("/Patient",
            Encoding.UTF8.GetBytes("""<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient><Patient xmlns="http://hl7.org/fhir"/>"""),
            "application/fhir+xml"));
        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest, () => PostRawAsync("/Patient",
            Encoding.UTF8.GetBytes("""<Patient xmlns="http://hl7.org/fhir"><gender value="male&#1;"/></Patient>"""), "application/fhir+xml"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("garbage")]
    [InlineData("application/fhir+json; fhirVersion=3.0")]
    [InlineData("application/fhir+json; fhirVersion=5.0")]
    public async Task A_body_without_a_fhir_r4_content_type_is_refused_with_415(string? contentType)
    {
        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.UnsupportedMediaType,
            () => PostRawAsync("/Patient", Encoding.UTF8.GetBytes(PatientJson("media-type")), contentType));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/fhir+json; fhirVersion=4.0")]
    [InlineData("application/json; charset=utf-8")]
    public async Task Json_media_types_are_accepted_on_create_and_on_transactions(string contentType)
    {
        var created = await PostRawAsync("/Patient", Encoding.UTF8.GetBytes(PatientJson("accepted-" + contentType.Length)), contentType);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);

        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:" + Guid.NewGuid(),
            Resource = TestData.NewPatient(),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        var transaction = await PostRawAsync("/", Encoding.UTF8.GetBytes(FhirSerialization.ToJson(bundle)), contentType);
        Assert.True(transaction.Status == HttpStatusCode.OK, transaction.Body);
    }

    [Fact]
    public async Task Application_xml_is_accepted_like_the_fhir_xml_type()
    {
        var xml = FhirSerialization.ToXml(TestData.NewPatient());
        var created = await PostRawAsync("/Patient", Encoding.UTF8.GetBytes(xml), "application/xml");
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
    }

    [Theory]
    [InlineData("_format=xml", "application/fhir+xml")]
    [InlineData("_format=text/xml", "application/fhir+xml")]
    [InlineData("_format=application/xml", "application/fhir+xml")]
    [InlineData("_format=application/fhir+xml", "application/fhir+xml")]
    [InlineData("_format=application/fhir%2Bxml", "application/fhir+xml")]
    [InlineData("_format=json", "application/fhir+json")]
    [InlineData("_format=application/json", "application/fhir+json")]
    [InlineData("_format=application/fhir+json", "application/fhir+json")]
    public async Task Every_format_spelling_of_the_spec_is_served(string query, string contentType)
    {
        var response = await _client.GetAsync("/metadata?" + query);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(contentType, response.ContentHeaders!.ContentType!.MediaType);
    }

    [Fact]
    public async Task An_unservable_format_or_accept_is_406_with_an_operation_outcome()
    {
        var byFormat = await _client.GetAsync("/Patient?_format=application/foo");
        var byAccept = await _client.GetAsync("/Patient", h => h.Accept.ParseAdd("application/foo"));
        var byVersion = await _client.GetAsync("/Patient", h => h.Accept.ParseAdd("application/fhir+json; fhirVersion=5.0"));

        foreach (var response in new[] { byFormat, byAccept, byVersion })
        {
            Assert.Equal(HttpStatusCode.NotAcceptable, response.Status);
            Assert.NotEmpty(response.Issues);
        }
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/Patient", h => h.Accept.ParseAdd("text/html, */*;q=0.8"))).Status);
    }

    [Fact]
    public async Task A_transaction_put_to_dot_or_dot_dot_is_refused()
    {
        foreach (var id in new[] { ".", ".." })
        {
            var patient = TestData.NewPatient();
            patient.Id = id;
            var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = "urn:uuid:" + Guid.NewGuid(),
                Resource = patient,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"Patient/{id}" },
            });
            await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest, () => _client.PostBundleAsync(bundle));
        }
    }

    [Theory]
    [InlineData("_count=1")]
    [InlineData("_sort=_id")]
    [InlineData("_count=1&_total=accurate")]
    public async Task Conditional_writes_without_a_filtering_parameter_are_refused(string criteria)
    {
        var group = await _client.CreateAsync(new Group { Type = Group.GroupType.Person, Actual = true });

        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest, () => _client.DeleteAsync($"/Group?{criteria}"));
        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.BadRequest,
            () => _client.PutAsync($"/Group?{criteria}", new Group { Type = Group.GroupType.Device, Actual = true }));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/Group/{group.Id}")).Status);
    }

    [Fact]
    public async Task Create_with_criteria_in_the_url_is_a_conditional_create()
    {
        var pseudonym = "url-criteria-" + Guid.NewGuid().ToString("N");
        var criteria = $"identifier={Uri.EscapeDataString($"{TestData.PseudonymSystem}|{pseudonym}")}";

        var first = await _client.PostAsync($"/Patient?{criteria}", TestData.NewPatient(pseudonym));
        var second = await _client.PostAsync($"/Patient?{criteria}", TestData.NewPatient(pseudonym));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(first.As<Patient>().Id, second.As<Patient>().Id);
    }

    [Fact]
    public async Task Post_search_with_a_wrong_content_type_is_415_with_an_operation_outcome()
    {
        var response = await PostRawAsync("/Patient/_search", Encoding.UTF8.GetBytes("{}"), "application/json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.Status);
        Assert.NotEmpty(response.Issues);
    }

    [Fact]
    public async Task The_host_header_never_reaches_the_urls_the_service_writes()
    {
        var response = await PostRawAsync("/Patient", Encoding.UTF8.GetBytes(PatientJson("host-check")), configure: r => r.Headers.Host = "evil.example");
        var search = await _client.GetAsync("/Patient?_count=1", h =>
        {
            h.Host = "evil.example";
            h.Add("X-Forwarded-Host", "evil.example");
        });

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.StartsWith(host.BaseAddress.ToString().TrimEnd('/'), response.Location);
        Assert.DoesNotContain("evil.example", search.Body);
    }

    [Fact]
    public async Task A_bad_openapi_document_name_is_a_404_operation_outcome()
    {
        var response = await _client.GetAsync("/openapi/..%2F..%2Fv1.json");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.NotEmpty(response.Issues);
    }

    [Fact]
    public async Task Everything_answers_post_with_a_parameters_body_or_none()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        await _client.CreateAsync(TestData.NewObservation($"Patient/{patient.Id}"));

        var withoutBody = await _client.SendAsync(HttpMethod.Post, $"/Patient/{patient.Id}/$everything", null);
        var parameters = new Parameters();
        parameters.Add("_type", new FhirString("Observation"));
        var withBody = await _client.SendAsync(HttpMethod.Post, $"/Patient/{patient.Id}/$everything", FhirSerialization.ToJson(parameters));
        // What FhirClient.FetchPatientRecordAsync sends when it has no parameters.
        var emptyParameters = await _client.SendAsync(HttpMethod.Post, $"/Patient/{patient.Id}/$everything", "{\"resourceType\":\"Parameters\"}");

        Assert.True(withoutBody.Status == HttpStatusCode.OK, withoutBody.Body);
        Assert.Equal(2, withoutBody.As<Bundle>().Entry.Count);
        Assert.True(emptyParameters.Status == HttpStatusCode.OK, emptyParameters.Body);
        Assert.True(withBody.Status == HttpStatusCode.OK, withBody.Body);
        Assert.Equal(["Observation"], withBody.As<Bundle>().Entry.Select(e => e.Resource!.TypeName));
    }

    [Fact]
    public async Task Compartment_search_finds_the_patients_observations_only()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        var other = await _client.CreateAsync(TestData.NewPatient());
        var mine = await _client.CreateAsync(TestData.NewObservation($"Patient/{patient.Id}"));
        await _client.CreateAsync(TestData.NewObservation($"Patient/{other.Id}"));

        var response = await _client.GetAsync($"/Patient/{patient.Id}/Observation");

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        var bundle = response.As<Bundle>();
        Assert.Equal([mine.Id], bundle.Entry.Select(e => e.Resource!.Id));
        Assert.Equal(1, bundle.Total);
    }

    [Fact]
    public async Task Searchsets_carry_an_accurate_total_on_every_page_unless_asked_not_to()
    {
        var patient = await _client.CreateAsync(TestData.NewPatient());
        for (var i = 0; i < 3; i++)
            await _client.CreateAsync(TestData.NewObservation($"Patient/{patient.Id}"));

        var first = (await _client.GetAsync($"/Observation?subject=Patient/{patient.Id}&_count=1")).As<Bundle>();
        var second = (await _client.GetAsync(new Uri(first.NextLink!.ToString()).PathAndQuery)).As<Bundle>();
        var none = (await _client.GetAsync($"/Observation?subject=Patient/{patient.Id}&_count=1&_total=none")).As<Bundle>();

        Assert.Equal(3, first.Total);
        Assert.Equal(3, second.Total);
        Assert.Null(none.Total);
    }

    [Fact]
    public async Task The_capability_statement_declares_what_the_server_does()
    {
        var statement = (await _client.GetAsync("/metadata")).As<CapabilityStatement>();
        var patient = statement.Rest[0].Resource.Single(r => r.Type == "Patient");
        var observation = statement.Rest[0].Resource.Single(r => r.Type == "Observation");

        Assert.True(patient.ConditionalCreate);
        Assert.True(patient.ConditionalUpdate);
        Assert.Equal(CapabilityStatement.ConditionalDeleteStatus.Single, patient.ConditionalDelete);
        Assert.Equal(CapabilityStatement.ResourceVersionPolicy.VersionedUpdate, patient.Versioning);
        Assert.True(patient.ReadHistory);
        Assert.True(patient.UpdateCreate);
        Assert.Contains("Observation:subject", observation.SearchInclude);
        Assert.Contains("Observation:subject", patient.SearchRevInclude);
    }

    [Fact]
    public async Task Stored_resources_leave_with_utc_instants_and_without_needless_escapes()
    {
        var group = new Group { Type = Group.GroupType.Person, Actual = true, Name = "A+B <c> & 'd' Müller" };
        var created = await _client.PostAsync("/Group", group);
        var read = await _client.GetAsync($"/Group/{created.As<Group>().Id}");

        foreach (var body in new[] { created.Body, read.Body })
        {
            Assert.DoesNotContain("\\u002B", body);
            Assert.Contains("A+B <c> & 'd' Müller", body);
            Assert.Matches("\"lastUpdated\":\"[0-9T:.-]+Z\"", body);
        }
    }

    [Fact]
    public async Task Responses_are_compressed_when_the_client_accepts_it()
    {
        using var handler = new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None };
        using var raw = new HttpClient(handler) { BaseAddress = host.BaseAddress };
        foreach (var encoding in new[] { "gzip", "br" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metadata");
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
            using var response = await raw.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
        }
    }

    [Fact]
    public async Task A_gzip_body_is_decompressed_and_a_gzip_bomb_is_refused_with_413()
    {
        var created = await PostRawAsync("/Patient", Gzip(Encoding.UTF8.GetBytes(PatientJson("gzip-body"))),
            configure: r => r.Content!.Headers.ContentEncoding.Add("gzip"));
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);

        // 64 MiB of spaces compress to about 64 KiB: far below the 16 MiB limit on the wire, far above it decompressed.
        var bomb = Gzip(new byte[64 * 1024 * 1024].Select(_ => (byte)' ').ToArray());
        Assert.True(bomb.Length < 1024 * 1024);
        await AssertRefusedAndNothingWrittenAsync(HttpStatusCode.RequestEntityTooLarge, () => PostRawAsync("/Patient", bomb,
            configure: r => r.Content!.Headers.ContentEncoding.Add("gzip")));
    }

    [Fact]
    public async Task A_chunk_size_beyond_any_length_is_a_400_not_a_500()
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port);
        var stream = socket.GetStream();
        var request = "POST /Patient HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer);
        var answer = Encoding.ASCII.GetString(buffer, 0, read);

        Assert.StartsWith("HTTP/1.1 400", answer);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
            gzip.Write(data);
        return output.ToArray();
    }
}
