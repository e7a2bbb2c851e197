using FhirCaseService.Cli.Export;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Tests.Export;

public sealed class ExportArgumentsTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private static ExportArguments? Parse(params string[] arguments) => ExportArguments.Parse(arguments, NoEnvironment, out _);

    private static string Error(params string[] arguments)
    {
        Assert.Null(ExportArguments.Parse(arguments, NoEnvironment, out var error));
        return error!;
    }

    [Fact]
    public void Types_and_filters_are_normalised_so_the_same_request_resumes_whatever_the_order()
    {
        var first = Parse("--server", "https://fhir.example.org/fhir/", "-o", "out", "--type", "Patient,Observation", "--type-filter", "Patient?gender=female", "--type-filter", "Observation?code=x");
        var second = Parse("--server=https://fhir.example.org/fhir", "--output", "out", "--type", "Observation", "--type", "Patient", "--type-filter=Observation?code=x", "--type-filter", "Patient?gender=female");

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.True(first.Request.SameAs(second.Request));
        Assert.Equal("https://fhir.example.org/fhir", first.Request.Server);
        Assert.Equal(["Observation", "Patient"], first.Request.Types);
    }

    [Theory]
    [InlineData("--since", "2026-01-31")]
    [InlineData("--since", "2026-01-31T12:00:00")]
    [InlineData("--type", "patient")]
    [InlineData("--group", "a b")]
    [InlineData("--type-filter", "code=x")]
    [InlineData("--type-filter", "Observation?")]
    [InlineData("--poll-interval", "0")]
    [InlineData("--timeout", "soon")]
    [InlineData("--token-url", "https://auth.example.org/token")]
    [InlineData("--key", "client.pem")]
    public void Malformed_values_are_usage_errors(string option, string value)
    {
        var error = Error("--server", "https://fhir.example.org/fhir", "-o", "out", option, value);

        Assert.Contains(option, error);
    }

    [Theory]
    [InlineData("2026-01-31T12:00:00Z")]
    [InlineData("2026-01-31T12:00:00.123+02:00")]
    public void Since_takes_an_instant_with_a_time_zone(string since)
    {
        Assert.Equal(since, Parse("--server", "http://localhost/fhir", "-o", "out", "--since", since)?.Request.Since);
    }

    [Fact]
    public void Server_and_output_folder_are_required()
    {
        Assert.Contains("--server", Error("-o", "out"));
        Assert.Contains("-o DIR", Error("--server", "http://localhost/fhir"));
        Assert.Contains("http", Error("--server", "ftp://example.org", "-o", "out"));
    }

    [Fact]
    public void A_fixed_token_and_a_backend_services_client_exclude_each_other()
    {
        Assert.Contains("not both", Error("--server", "http://localhost/fhir", "-o", "out", "--token", "t", "--client-id", "c", "--key", "k.pem"));
    }

    [Fact]
    public void The_environment_token_is_used_unless_another_is_given()
    {
        var environment = (string name) => name == "FHIRCASE_TOKEN" ? "env-token" : null;

        Assert.Equal("env-token", ExportArguments.Parse(["--server", "http://localhost/fhir", "-o", "out"], environment, out _)!.Authentication.Token);
        Assert.Equal("given", ExportArguments.Parse(["--server", "http://localhost/fhir", "-o", "out", "--token", "given"], environment, out _)!.Authentication.Token);
        Assert.Null(ExportArguments.Parse(["--server", "http://localhost/fhir", "-o", "out", "--client-id", "c", "--key", "k.pem"], environment, out _)!.Authentication.Token);
    }

    [Fact]
    public void Kick_off_url_names_the_level_and_encodes_each_parameter()
    {
        var request = new ExportRequestKey("https://fhir.example.org/fhir", "g-1", ["Observation", "Patient"], "2026-01-31T12:00:00+02:00",
            ["Observation?code=http://loinc.org|51124-6&date=ge2026"]);

        var url = BulkExportClient.KickOffUrl(request).AbsoluteUri;

        Assert.StartsWith("https://fhir.example.org/fhir/Group/g-1/$export?_outputFormat=application%2Ffhir%2Bndjson", url);
        Assert.Contains("&_type=Observation%2CPatient", url);
        Assert.Contains("&_since=2026-01-31T12%3A00%3A00%2B02%3A00", url);
        Assert.Contains("&_typeFilter=Observation%3Fcode%3Dhttp%3A%2F%2Floinc.org%7C51124-6%26date%3Dge2026", url);
    }

    [Fact]
    public void Retry_after_is_read_as_seconds_or_as_a_date()
    {
        var now = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        using var seconds = new HttpResponseMessage();
        seconds.Headers.Add("Retry-After", "120");
        using var date = new HttpResponseMessage();
        date.Headers.Add("Retry-After", "Thu, 26 Nov 2026 10:00:30 GMT");
        using var past = new HttpResponseMessage();
        past.Headers.Add("Retry-After", "Thu, 26 Nov 2026 09:00:00 GMT");
        using var none = new HttpResponseMessage();

        Assert.Equal(TimeSpan.FromSeconds(120), ServerResponses.RetryAfter(seconds, now));
        Assert.Equal(TimeSpan.FromSeconds(30), ServerResponses.RetryAfter(date, now));
        Assert.Equal(TimeSpan.Zero, ServerResponses.RetryAfter(past, now));
        Assert.Null(ServerResponses.RetryAfter(none, now));
    }
}
