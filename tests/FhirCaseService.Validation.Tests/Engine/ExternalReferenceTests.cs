using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// References resolved outside the instance (issue 13, validateReference=CHECK_VALID): a reference that is neither
/// contained nor in the Bundle is fetched through <see cref="ValidationOptions.ReferenceResolver"/> and its target checked
/// against the element's target profiles; a miss is no finding; circles of links end.
/// </summary>
public sealed class ExternalReferenceTests
{
    private const string Base = "http://fhircase.test/fhir/StructureDefinition/";

    // "linked": gender fixed to "other", Patient.link.other must be a "linked" Patient (a profile naming itself, as in
    // the HL7 patient-circle cases). "relay": no gender rule, link.other must be "linked". "entry": link.other must be a "relay".
    private static readonly Lazy<FhirValidator> Validator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-external-refs-");
        void Write(string id, string elements) => File.WriteAllText(Path.Combine(directory.FullName, $"StructureDefinition-{id}.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Base}}{{id}}", "name": "{{id}}", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" }, {{elements}} ] }
            }
            """);
        Write("linked", $$"""
            { "id": "Patient.gender", "path": "Patient.gender", "fixedCode": "other" },
            { "id": "Patient.link.other", "path": "Patient.link.other", "type": [ { "code": "Reference", "targetProfile": [ "{{Base}}linked" ] } ] }
            """);
        Write("relay", $$"""
            { "id": "Patient.link.other", "path": "Patient.link.other", "type": [ { "code": "Reference", "targetProfile": [ "{{Base}}linked" ] } ] }
            """);
        Write("entry", $$"""
            { "id": "Patient.link.other", "path": "Patient.link.other", "type": [ { "code": "Reference", "targetProfile": [ "{{Base}}relay" ] } ] }
            """);
        Write("bundled-link", """
            { "id": "Patient.link.other", "path": "Patient.link.other", "type": [ { "code": "Reference", "aggregation": [ "bundled" ], "targetProfile": [ "http://hl7.org/fhir/StructureDefinition/Patient" ] } ] }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static Patient Person(string id, string gender, params string[] links) => new()
    {
        Id = id,
        Gender = Enum.Parse<AdministrativeGender>(gender, ignoreCase: true),
        Link = links.Select(l => new Patient.LinkComponent { Other = new ResourceReference(l), Type = Patient.LinkType.Seealso }).ToList(),
    };

    private static string Json(Patient patient) => FhirSerialization.ToJson(patient);

    private static Task<ValidationResult> ValidateAsync(Patient patient, string profile, IReferenceResolver? resolver) =>
        Validator.Value.ValidateAsync(Json(patient), ResourceFormat.Json, ValidationOptions.Reference with { Profiles = [Base + profile], ReferenceResolver = resolver });

    private static IEnumerable<ValidationIssue> Errors(ValidationResult result) =>
        result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    private sealed class CountingResolver(params Resource[] resources) : IReferenceResolver
    {
        private readonly InMemoryReferenceResolver _inner = new(resources);
        public int Calls;

        public ValueTask<Resource?> ResolveAsync(string reference, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            return _inner.ResolveAsync(reference, cancellationToken);
        }
    }

    [Fact]
    public async Task A_fetched_target_that_breaks_the_target_profile_is_an_error_at_the_reference()
    {
        var resolver = new CountingResolver(Person("target", "male"));

        var result = await ValidateAsync(Person("source", "other", "Patient/target"), "linked", resolver);

        var error = Assert.Single(Errors(result));
        Assert.Equal("reference-target", error.Rule);
        Assert.Equal("Patient.link[0].other", error.Location.Expression);
    }

    [Fact]
    public async Task A_fetched_target_that_meets_the_profile_is_no_finding()
    {
        var result = await ValidateAsync(Person("source", "other", "Patient/target"), "linked", new CountingResolver(Person("target", "other")));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task A_target_the_resolver_cannot_find_is_no_finding()
    {
        var resolver = new CountingResolver(Person("someone-else", "male"));

        var result = await ValidateAsync(Person("source", "other", "Patient/target"), "linked", resolver);

        EngineTestSupport.AssertNoErrors(result);
        Assert.Equal(1, resolver.Calls);
    }

    [Fact]
    public async Task Without_a_resolver_the_link_is_judged_by_the_type_it_names_only()
    {
        var result = await ValidateAsync(Person("source", "other", "Patient/target"), "linked", null);

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task A_circle_of_conforming_links_ends_without_findings()
    {
        // source -> a -> b -> a, and b also back to source: every check meets one already under way.
        var resolver = new CountingResolver(Person("a", "other", "Patient/b"), Person("b", "other", "Patient/a", "Patient/source"), Person("source", "other", "Patient/a"));

        var result = await ValidateAsync(Person("source", "other", "Patient/a"), "linked", resolver);

        EngineTestSupport.AssertNoErrors(result);
        Assert.Equal(3, resolver.Calls);
    }

    [Fact]
    public async Task A_bad_target_behind_a_relay_fails_the_first_link()
    {
        // The relay meets "relay" only if its own link meets "linked"; its target is male, so it does not.
        var resolver = new CountingResolver(Person("relay", "male", "Patient/bad"), Person("bad", "male", "Patient/relay"));

        var result = await ValidateAsync(Person("source", "male", "Patient/relay"), "entry", resolver);

        var error = Assert.Single(Errors(result));
        Assert.Equal("Patient.link[0].other", error.Location.Expression);
    }

    [Fact]
    public async Task Each_reference_is_fetched_once_per_call()
    {
        var resolver = new CountingResolver(Person("target", "male"));

        var result = await ValidateAsync(Person("source", "other", "Patient/target", "Patient/target"), "linked", resolver);

        Assert.Equal(2, Errors(result).Count());
        Assert.Equal(1, resolver.Calls);
    }

    [Fact]
    public async Task Contained_targets_are_not_fetched()
    {
        var resolver = new CountingResolver(Person("inner", "male"));
        var source = Person("source", "other", "#inner");
        source.Contained.Add(Person("inner", "other"));

        var result = await ValidateAsync(source, "linked", resolver);

        Assert.Equal(0, resolver.Calls);
        Assert.DoesNotContain(Errors(result), e => e.Rule == "reference-target");
    }

    [Fact]
    public async Task A_fetched_target_still_counts_as_referenced_for_aggregation()
    {
        var resolver = new CountingResolver(Person("target", "other"));

        var result = await ValidateAsync(Person("source", "other", "Patient/target"), "bundled-link", resolver);

        Assert.Equal("reference-aggregation", Assert.Single(Errors(result)).Rule);
    }

    [Theory]
    [InlineData("Patient/1", "Patient", "1", null)]
    [InlineData("Patient/1/_history/2", "Patient", "1", "2")]
    [InlineData("http://server.example/fhir/Observation/abc", "Observation", "abc", null)]
    [InlineData("http://server.example/fhir/Observation/abc/_history/7", "Observation", "abc", "7")]
    public void Addresses_are_read_from_relative_absolute_and_versioned_references(string reference, string type, string id, string? version) =>
        Assert.Equal(new ResourceAddress(type, id, version), ResourceAddress.Parse(reference));

    [Theory]
    [InlineData("#inner")]
    [InlineData("urn:uuid:9d1a4c68-6a4e-4c4c-9e36-2f1f7b1f1c11")]
    [InlineData("Patient?identifier=x")]
    [InlineData("Nonsense/1")]
    [InlineData("Patient")]
    public void References_without_a_resource_address_are_not_fetched(string reference) =>
        Assert.Null(ResourceAddress.Parse(reference));

    [Fact]
    public async Task The_in_memory_resolver_matches_a_version_only_when_it_is_the_stored_one()
    {
        var patient = Person("p", "other");
        patient.Meta = new Meta { VersionId = "3" };
        var resolver = new InMemoryReferenceResolver([patient]);

        Assert.Same(patient, await resolver.ResolveAsync("Patient/p/_history/3"));
        Assert.Null(await resolver.ResolveAsync("Patient/p/_history/2"));
        Assert.Same(patient, await resolver.ResolveAsync("http://elsewhere.example/fhir/Patient/p"));
    }
}
