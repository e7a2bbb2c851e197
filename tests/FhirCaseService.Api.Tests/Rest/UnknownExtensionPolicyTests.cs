using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

/// <summary>A service configured to refuse extensions it has no definition for (Validation:UnknownExtensions = Error).</summary>
public sealed class UnknownExtensionsRefusedHost() : ServiceHost(new SqliteTestDatabase(), UnknownExtensionPolicyTests.RefusingSettings);

/// <summary>Validation:UnknownExtensions decides whether a write with an undefined extension is stored (Warning, the default) or refused (Error).</summary>
public sealed class UnknownExtensionPolicyTests(UnknownExtensionsRefusedHost refusing, SqliteServiceHost byDefault)
    : IClassFixture<UnknownExtensionsRefusedHost>, IClassFixture<SqliteServiceHost>
{
    public static readonly IReadOnlyDictionary<string, string?> RefusingSettings = new Dictionary<string, string?>
    {
        ["Validation:UnknownExtensions"] = "Error",
        ["Validation:AllowedExtensionDomains:0"] = "https://partner.test/fhir/",
    };

    private static Patient WithExtension(string url)
    {
        var patient = TestData.NewPatient();
        patient.Extension.Add(new Extension(url, new FhirString("x")));
        return patient;
    }

    [Fact]
    public async Task By_default_an_unknown_extension_is_stored_with_a_warning()
    {
        var response = await new RestTestClient(byDefault).PostAsync("/Patient", WithExtension("https://elsewhere.test/fhir/StructureDefinition/unknown"));

        Assert.Equal(HttpStatusCode.Created, response.Status);
    }

    [Fact]
    public async Task Configured_as_error_an_unknown_extension_is_refused_at_its_location()
    {
        var response = await new RestTestClient(refusing).PostAsync("/Patient", WithExtension("https://elsewhere.test/fhir/StructureDefinition/unknown"));

        Assert.Equal((HttpStatusCode)422, response.Status);
        var issue = Assert.Single(response.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Patient.extension[0]", Assert.Single(issue.Expression));
    }

    [Fact]
    public async Task Configured_as_error_an_extension_in_an_allowed_domain_is_still_stored()
    {
        var response = await new RestTestClient(refusing).PostAsync("/Patient", WithExtension("https://partner.test/fhir/StructureDefinition/known-to-partner"));

        Assert.Equal(HttpStatusCode.Created, response.Status);
    }

    [Fact]
    public async Task Validate_operation_applies_the_configured_policy()
    {
        var response = await new RestTestClient(refusing).PostAsync("/Patient/$validate", WithExtension("https://elsewhere.test/fhir/StructureDefinition/unknown"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Contains(response.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Expression.Contains("Patient.extension[0]"));
    }
}
