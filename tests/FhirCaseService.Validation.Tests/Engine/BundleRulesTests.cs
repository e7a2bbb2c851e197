using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>The Bundle rules of the specification's prose (fullUrl, links, search sets, documents, messages), on small Bundles.</summary>
public sealed class BundleRulesTests
{
    private static async Task<List<string>> FindingsAsync(string bundleJson, string rulePrefix)
    {
        var result = await EngineTestSupport.ValidateJsonAsync(bundleJson);
        return result.Issues.Where(i => i.Rule.StartsWith(rulePrefix, StringComparison.Ordinal) && i.Severity == Hl7.Fhir.Model.OperationOutcome.IssueSeverity.Error)
            .Select(i => i.Location.Expression).ToList();
    }

    private const string Patient = """{ "resourceType": "Patient", "id": "p1" }""";

    [Fact]
    public async Task FullUrl_must_be_absolute_and_match_a_RESTful_type_and_id()
    {
        var bundle = $$"""
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "fullUrl": "http://example.org/fhir/Patient/p1", "resource": {{Patient}} },
              { "fullUrl": "Patient/p1", "resource": {{Patient}} },
              { "fullUrl": "http://example.org/fhir/Patient/other", "resource": {{Patient}} },
              { "fullUrl": "urn:uuid:0b1e6a4e-5c1b-4b8e-9a59-2d0c3f1d7e11", "resource": {{Patient}} } ] }
            """;

        Assert.Equal(["Bundle.entry[1]", "Bundle.entry[2]"], await FindingsAsync(bundle, "bdl-fullurl"));
    }

    [Fact]
    public async Task Entries_need_a_fullUrl_except_in_transactions_and_batches()
    {
        static string Of(string type) => $$"""{ "resourceType": "Bundle", "type": "{{type}}", "entry": [ { "resource": {{Patient}}{{(type == "transaction" ? ", \"request\": { \"method\": \"POST\", \"url\": \"Patient\" }" : "")}} } ] }""";

        Assert.Equal(["Bundle.entry[0]"], await FindingsAsync(Of("collection"), "bdl-fullurl"));
        Assert.Empty(await FindingsAsync(Of("transaction"), "bdl-fullurl"));
    }

    [Fact]
    public async Task Search_links_are_not_allowed_outside_search_sets()
    {
        var bundle = """
            { "resourceType": "Bundle", "type": "collection",
              "link": [ { "relation": "self", "url": "http://example.org/a" }, { "relation": "next", "url": "http://example.org/b" } ] }
            """;

        Assert.Equal(["Bundle.link[1].relation"], await FindingsAsync(bundle, "bdl-link"));
    }

    [Fact]
    public async Task Search_set_entries_are_held_to_their_search_mode()
    {
        var bundle = """
            { "resourceType": "Bundle", "type": "searchset",
              "link": [ { "relation": "self", "url": "http://example.org/fhir/Observation?code=1" } ],
              "entry": [
                { "fullUrl": "urn:uuid:6f4a2f0e-7a53-4c43-9d0a-3b5d2f8c1a01", "resource": { "resourceType": "Patient" }, "search": { "mode": "match" } },
                { "fullUrl": "urn:uuid:6f4a2f0e-7a53-4c43-9d0a-3b5d2f8c1a02", "resource": { "resourceType": "Patient", "id": "p2" }, "search": { "mode": "outcome" } } ] }
            """;

        // entry 0: no id, and not the Observation the search asked for; entry 1: mode outcome but not an OperationOutcome.
        Assert.Equal(["Bundle.entry[0].resource", "Bundle.entry[0].resource", "Bundle.entry[1].resource"], await FindingsAsync(bundle, "bdl-search"));
    }

    private static string Document(string compositionExtra, string entries) => $$"""
        { "resourceType": "Bundle", "type": "document", "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:7d1c3a52-3f0b-4f7e-8c11-5a9e2b7c0d01" },
          "timestamp": "2024-01-01T00:00:00Z", "entry": [
          { "fullUrl": "urn:uuid:7d1c3a52-3f0b-4f7e-8c11-5a9e2b7c0d02", "resource": { "resourceType": "Composition", "id": "c1", "status": "final",
            "type": { "text": "note" }, "date": "2024-01-01", "title": "Note", "author": [ { "display": "Dr A" } ]{{compositionExtra}} } }{{entries}} ] }
        """;

    [Fact]
    public async Task Document_references_resolve_by_the_fullUrl_rules_and_every_entry_is_reachable()
    {
        var patient = """, { "fullUrl": "urn:uuid:7d1c3a52-3f0b-4f7e-8c11-5a9e2b7c0d03", "resource": { "resourceType": "Patient", "id": "p1" } }""";
        var resolved = Document(""", "subject": { "reference": "urn:uuid:7d1c3a52-3f0b-4f7e-8c11-5a9e2b7c0d03" }""", patient);
        // A relative reference from a urn:uuid entry does not match by type and id alone (R4), so the Patient is also unreachable.
        var byTypeAndId = Document(""", "subject": { "reference": "Patient/p1" }""", patient);

        Assert.Empty(await FindingsAsync(resolved, "bdl-"));
        Assert.Equal(["Bundle.entry[0].resource.subject", "Bundle.entry[1]"], await FindingsAsync(byTypeAndId, "bdl-"));
    }

    [Fact]
    public async Task Document_starts_with_a_Composition()
    {
        var bundle = """
            { "resourceType": "Bundle", "type": "document", "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:7d1c3a52-3f0b-4f7e-8c11-5a9e2b7c0d01" },
              "timestamp": "2024-01-01T00:00:00Z",
              "entry": [ { "fullUrl": "urn:uuid:7d1c3a52-3f0b-4f7e-8c11-5a9e2b7c0d03", "resource": { "resourceType": "Patient", "id": "p1" } } ] }
            """;

        Assert.Equal(["Bundle.entry[0].resource"], await FindingsAsync(bundle, "bdl-document"));
    }

    [Fact]
    public async Task Reference_meaning_a_fullUrl_shared_by_two_entries_is_ambiguous()
    {
        var bundle = """
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "fullUrl": "http://example.org/fhir/Observation/o1", "resource": { "resourceType": "Observation", "id": "o1", "status": "final", "code": { "text": "x" },
                "subject": { "reference": "Patient/p1" } } },
              { "fullUrl": "http://example.org/fhir/Patient/p1", "resource": { "resourceType": "Patient", "id": "p1", "meta": { "versionId": "1" } } },
              { "fullUrl": "http://example.org/fhir/Patient/p1", "resource": { "resourceType": "Patient", "id": "p1", "meta": { "versionId": "2" } } } ] }
            """;

        Assert.Equal(["Bundle.entry[0].resource.subject"], await FindingsAsync(bundle, "reference-ambiguous"));
    }
}
