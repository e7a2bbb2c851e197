using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

/// <summary>A service that requires every Patient to conform to fhircase-patient, whatever its meta.profile says.</summary>
public sealed class SqliteRequiredProfileHost() : ServiceHost(new SqliteTestDatabase(), RequiredProfileTests.Settings);

public sealed class PostgresRequiredProfileHost() : ServiceHost(new PostgresTestDatabase(), RequiredProfileTests.Settings);

public abstract class RequiredProfileTests(ServiceHost host)
{
    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["Validation:RequiredProfiles:Patient:0"] = TestData.PatientProfile,
    };

    private readonly RestTestClient _client = new(host);

    [Fact]
    public async Task Validate_on_create_applies_the_profile_the_server_requires_for_the_type()
    {
        var undeclared = new Patient { Gender = AdministrativeGender.Male };
        var conformant = TestData.NewPatient();
        conformant.Meta = null;

        var rejected = await _client.PostAsync("/Patient", undeclared);
        var accepted = await _client.PostAsync("/Patient", conformant);

        Assert.Equal((HttpStatusCode)422, rejected.Status);
        Assert.Contains(rejected.Issues, i => i.Expression.Contains("Patient") && (i.Diagnostics ?? "").Contains("Patient.identifier", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Created, accepted.Status);
    }

    [Fact]
    public async Task Validate_in_a_transaction_applies_the_required_profile_to_each_entry_and_names_it()
    {
        var before = await _client.LatestChangeAsync();
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new() { FullUrl = "urn:uuid:9a1f0c1e-4444-4b2a-8f00-000000000001", Resource = TestData.NewPatient(), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new() { FullUrl = "urn:uuid:9a1f0c1e-4444-4b2a-8f00-000000000002", Resource = new Patient { Gender = AdministrativeGender.Female }, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
            ],
        };

        var response = await _client.PostBundleAsync(bundle);

        Assert.Equal((HttpStatusCode)422, response.Status);
        var issue = Assert.Single(response.Issues, i => i.Expression.Contains("Bundle.entry[1].resource") && (i.Diagnostics ?? "").Contains("Patient.identifier", StringComparison.Ordinal));
        Assert.StartsWith("Bundle.entry[1] (urn:uuid:9a1f0c1e-4444-4b2a-8f00-000000000002): ", issue.Diagnostics);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task Metadata_names_the_required_profile_as_supported_for_the_type()
    {
        var statement = (await _client.GetAsync("/metadata")).As<CapabilityStatement>();

        Assert.Contains(TestData.PatientProfile, statement.Rest.Single().Resource.Single(r => r.Type == "Patient").SupportedProfile);
    }
}

public sealed class RequiredProfileTestsOnSqlite(SqliteRequiredProfileHost host) : RequiredProfileTests(host), IClassFixture<SqliteRequiredProfileHost>;

public sealed class RequiredProfileTestsOnPostgres(PostgresRequiredProfileHost host) : RequiredProfileTests(host), IClassFixture<PostgresRequiredProfileHost>;
