using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

/// <summary>
/// Each file of examples/invalid, sent inside a transaction with every valid example it refers to: an error answers 422,
/// writes nothing, and names the rule at the sidecar's location inside the entry; a warning (extensible binding) is
/// stored and the warning comes back in that entry's response.outcome.
/// </summary>
public abstract class TransactionInvalidExampleTests(ServiceHost host)
{
    private const string FullUrlBase = "https://ehr.example.org/fhir";
    private readonly RestTestClient _client = new(host);

    public static TheoryData<string> InvalidExamples() =>
        new(Directory.EnumerateFiles(TestData.ExamplePath("invalid"), "*.json")
            .Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public async Task Transaction_with_an_invalid_example_reports_its_rule_at_the_entry_and_writes_nothing(string file)
    {
        var expected = JsonNode.Parse(File.ReadAllText(TestData.ExamplePath("invalid", Path.ChangeExtension(file, ".expected.json"))))!;
        var (bundle, index) = TransactionWith(file);
        var location = InEntry(index, expected["expression"]!.GetValue<string>());
        var before = await _client.LatestChangeAsync();

        var response = await _client.SendAsync(HttpMethod.Post, "/", bundle);

        if (expected["severity"]!.GetValue<string>() == "warning")
        {
            Assert.True(response.Status == HttpStatusCode.OK, response.Body);
            var outcome = Assert.IsType<OperationOutcome>(response.As<Bundle>().Entry[index].Response!.Outcome);
            Assert.Contains(outcome.Issue, i => i.Severity == OperationOutcome.IssueSeverity.Warning && i.Expression.Contains(location));
            return;
        }
        Assert.True(response.Status == (HttpStatusCode)422, $"{response.Status}: {response.Body}");
        var errors = response.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal).ToList();
        var issue = Assert.Single(errors);
        Assert.Equal(location, Assert.Single(issue.Expression));
        Assert.StartsWith($"Bundle.entry[{index}] ({FullUrlBase}/", issue.Diagnostics);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    /// <summary>"Observation.value.ofType(Quantity)" of entry 11 is "Bundle.entry[11].resource.value.ofType(Quantity)".</summary>
    private static string InEntry(int index, string expression)
    {
        var dot = expression.IndexOf('.', StringComparison.Ordinal);
        return $"Bundle.entry[{index}].resource" + (dot < 0 ? "" : expression[dot..]);
    }

    /// <summary>
    /// The valid examples, then the invalid file, as PUTs of their ids under one fullUrl base (so that the examples'
    /// relative references resolve inside the Bundle). Built as JSON text: the invalid file must reach the server as written.
    /// </summary>
    private static (string Bundle, int InvalidIndex) TransactionWith(string invalidFile)
    {
        var files = Directory.EnumerateFiles(TestData.ExamplePath("resources"), "*.json").Order(StringComparer.Ordinal)
            .Append(TestData.ExamplePath("invalid", invalidFile)).ToList();
        var entries = new JsonArray();
        foreach (var path in files)
        {
            var resource = JsonNode.Parse(File.ReadAllText(path))!;
            var reference = $"{resource["resourceType"]!.GetValue<string>()}/{resource["id"]!.GetValue<string>()}";
            entries.Add(new JsonObject
            {
                ["fullUrl"] = $"{FullUrlBase}/{reference}",
                ["resource"] = resource,
                ["request"] = new JsonObject { ["method"] = "PUT", ["url"] = reference },
            });
        }
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = "transaction", ["entry"] = entries };
        return (bundle.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), files.Count - 1);
    }
}

public sealed class TransactionInvalidExampleTestsOnSqlite(SqliteServiceHost host) : TransactionInvalidExampleTests(host), IClassFixture<SqliteServiceHost>;

public sealed class TransactionInvalidExampleTestsOnPostgres(PostgresServiceHost host) : TransactionInvalidExampleTests(host), IClassFixture<PostgresServiceHost>;
