using System.Text;
using System.Text.Json.Nodes;
using FhirCaseService.Api.Import;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Rest;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Import;
using FhirCaseService.Storage.Search;
using FhirCaseService.Validation;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Import;

/// <summary>
/// The verdict of <see cref="ImportLineProcessor"/> on one line against the strict judgement every write gets
/// (<see cref="InstanceReader.Read"/>, then one validation of that parse): the processor reads a line with the
/// validator's fast read first and reads it strictly only when something is found, which must change neither verdict
/// nor wording. For every example resource and many mutations of each: a line refused strictly is refused with the same
/// OperationOutcome (issues, wording, locations, line number), a line admitted strictly is admitted with the same
/// content and no other line is admitted. The store and validator are the host's, wrapped to record what they are handed.
/// </summary>
public sealed class ImportLineVerdictTests(SqliteImportHost host) : IClassFixture<SqliteImportHost>
{
    private const int Seed = 20261206;

    private IResourceValidator Validator => host.Services.GetRequiredService<IResourceValidator>();

    private WriteValidationOptions Validation => host.Services.GetRequiredService<IOptions<WriteValidationOptions>>().Value;

    private static readonly IReadOnlySet<string> AllStoredTypes = new HashSet<string>(StoredResourceTypes.All, StringComparer.Ordinal);

    [Fact]
    public async Task Every_example_and_every_mutation_of_it_gets_the_strict_verdict_with_the_same_wording_and_line()
    {
        var (processor, store, _) = NewProcessor();
        var differences = new List<string>();
        var (admitted, refused) = (0, 0);
        long number = 100;
        foreach (var (description, json) in Inputs())
        {
            number++;
            var expected = await StrictVerdictAsync(number, json);
            var outcome = await processor.ProcessAsync(Line(number, json), AllStoredTypes, CancellationToken.None);
            var actual = Describe(outcome, store.TakeLast());
            if (expected != actual)
                differences.Add($"line {number} ({description}):\n  strict:    {expected}\n  processor: {actual}");
            if (outcome.Write is not null)
                admitted++;
            else
                refused++;
        }
        Assert.True(differences.Count == 0, $"{differences.Count} of {admitted + refused} lines differ:\n{string.Join("\n", differences.Take(10))}");
        // The inputs must exercise both verdicts in numbers, or the comparison says little.
        Assert.True(admitted > 100 && refused > 300, $"{admitted} admitted, {refused} refused");
    }

    [Theory]
    // Parser findings beside an engine error: the fast read sees the engine error, the strict parse adds its own findings.
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"sometimes","birthDate":"yesterday"}""", "Patient.birthDate")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":["male"]}""", "Patient")]
    [InlineData("""{"resourceType":"Patient","id":"p1","name":{"family":"x"},"gender":"other"}""", "Patient.name")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"female","active":"true"}""", "Patient.active")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"female","nmae":[{"family":"x"}]}""", "Patient.nmae")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"female","birthdate":"2020-01-01"}""", "Patient.birthdate")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"female","text":{"status":"generated","div":"<p>no namespace</p>"}}""", "Patient.text.div")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"female","photo":[{"data":"not base64!"}]}""", "Patient.photo[0].data")]
    [InlineData("""{"resourceType":"Patient","id":"p1","gender":"female","name":[null,{"family":"x"}]}""", "Patient")]
    [InlineData("""{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"valueInteger":"1"}""", "Observation.value")]
    public async Task A_line_with_a_parser_finding_is_refused_in_the_strict_parser_s_words_at_its_element(string json, string expressionStart)
    {
        var (processor, store, _) = NewProcessor();
        const long number = 4_000_000_007;

        var outcome = await processor.ProcessAsync(Line(number, json), AllStoredTypes, CancellationToken.None);

        Assert.Null(outcome.Write);
        Assert.Null(store.TakeLast());
        Assert.Equal(await StrictVerdictAsync(number, json), Describe(outcome, null));
        var refusal = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(outcome.Error!.OperationOutcomeJson);
        Assert.Equal(number, outcome.Error.Line);
        Assert.Contains(refusal.Issue, i => i.Expression.Any(e => e?.StartsWith(expressionStart, StringComparison.Ordinal) == true)
                                           && i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
        // The issue-line extension and the diagnostics name the input line (an int: the largest when the number is larger).
        Assert.All(refusal.Issue, i => Assert.StartsWith($"line {number}: ", i.Diagnostics, StringComparison.Ordinal));
        Assert.All(refusal.Issue, i => Assert.Equal(int.MaxValue,
            Assert.IsType<Integer>(i.GetExtension("http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line")!.Value).Value));
    }

    [Fact]
    public async Task A_clean_line_is_validated_once_and_stored_as_parsed_and_an_engine_error_is_judged_again_from_the_strict_parse()
    {
        var (processor, store, validator) = NewProcessor();
        var clean = Compact(File.ReadAllText(RepositoryRoot.Combine("examples", "resources", "Observation-example-cd19.json")));

        var admitted = await processor.ProcessAsync(Line(1, clean), AllStoredTypes, CancellationToken.None);

        Assert.NotNull(admitted.Write);
        Assert.Equal(1, validator.Calls);
        Assert.Equal(FhirSerialization.ToJson(FhirSerialization.StrictJson.DeserializeResource(clean)), store.TakeLast());

        // An engine error (not a parser finding): the fast read validates, finds it, and the strict parse is validated for the words.
        var invalid = Compact(File.ReadAllText(RepositoryRoot.Combine("examples", "invalid", "patient-gender-missing.json")));
        var refused = await processor.ProcessAsync(Line(2, invalid), AllStoredTypes, CancellationToken.None);

        Assert.Null(refused.Write);
        Assert.Equal(3, validator.Calls);
        Assert.Contains("gender", refused.Error!.OperationOutcomeJson, StringComparison.Ordinal);

        // A parser finding: the fast read gives up before validating, the strict parse is validated once.
        var unreadable = await processor.ProcessAsync(Line(3, """{"resourceType":"Patient","gender":"male","birthDate":"yesterday"}"""), AllStoredTypes, CancellationToken.None);

        Assert.Null(unreadable.Write);
        Assert.Equal(4, validator.Calls);
    }

    [Fact]
    public async Task A_clean_line_of_a_type_not_stored_or_not_granted_is_refused_as_before()
    {
        var (processor, _, validator) = NewProcessor();
        var basic = """{"resourceType":"Basic","code":{"text":"x"}}""";
        var patient = """{"resourceType":"Patient","id":"granted-not","gender":"male"}""";

        var notStored = await processor.ProcessAsync(Line(5, basic), AllStoredTypes, CancellationToken.None);
        var notGranted = await processor.ProcessAsync(Line(6, patient), new HashSet<string> { "Observation" }, CancellationToken.None);

        Assert.Equal(await StrictVerdictAsync(5, basic), Describe(notStored, null));
        Assert.Contains("Basic is not stored by this server", notStored.Error!.OperationOutcomeJson, StringComparison.Ordinal);
        Assert.Contains("does not grant create and update on Patient", notGranted.Error!.OperationOutcomeJson, StringComparison.Ordinal);
        Assert.Equal(0, validator.Calls);
    }

    private (ImportLineProcessor Processor, RecordingStore Store, CountingValidator Validator) NewProcessor()
    {
        var store = new RecordingStore(host.Services.GetRequiredService<IResourceStore>());
        var validator = new CountingValidator(Validator);
        var processor = new ImportLineProcessor(validator, store, Validation, host.Services.GetRequiredService<IOptions<LimitsOptions>>().Value);
        return (processor, store, validator);
    }

    private static NdjsonLine Line(long number, string json) => new(number, Encoding.UTF8.GetBytes(json), 0);

    /// <summary>
    /// What a line came to when every line was read strictly (the import before the fast read, and every REST write):
    /// the error file's line, or the content the store is handed.
    /// </summary>
    private async Task<string> StrictVerdictAsync(long number, string json)
    {
        var parsed = InstanceReader.Read(json, ResourceFormat.Json);
        if (parsed.Resource is not { } resource)
            return Describe(ImportLineErrors.FromIssues(number, parsed.Issues.Select(i => i.Issue)));
        if (!StoredResourceTypes.IsStored(resource.TypeName))
            return Describe(ImportLineErrors.Single(number, OperationOutcome.IssueType.NotSupported,
                $"{resource.TypeName} is not stored by this server (it stores {string.Join(", ", StoredResourceTypes.All)}); a Bundle's resources are imported one per line.",
                resource.TypeName));
        var issues = (await Validator.ValidateAsync(parsed, Validation.ToEngineOptions())).Issues;
        if (issues.Any(WriteValidation.IsError))
            return Describe(ImportLineErrors.FromIssues(number, issues));
        var kind = string.IsNullOrEmpty(resource.Id) ? PreparedWriteKind.Create : PreparedWriteKind.Update;
        resource.Id ??= NewIdPlaceholder;
        return $"write {kind}: {FhirSerialization.ToJson(resource)}";
    }

    private const string NewIdPlaceholder = "new-id";

    private static string Describe(ImportLineError error) => $"refused at line {error.Line}: {error.OperationOutcomeJson}";

    private static string Describe(ImportLineOutcome outcome, string? stored)
    {
        if (outcome.Error is { } error)
            return Describe(error) + (stored is null ? "" : $" (yet the store was handed {stored})");
        if (outcome.Write is not { } write)
            return "nothing";
        Assert.NotNull(stored);
        // A new id is the store's choice: the strict side writes a placeholder in its place.
        var content = write.Kind == PreparedWriteKind.Create ? stored.Replace($"\"id\":\"{write.Resource.Id}\"", $"\"id\":\"{NewIdPlaceholder}\"", StringComparison.Ordinal) : stored;
        return $"write {write.Kind}: {content}";
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    /// <summary>Every example resource (the Bundle's entries one per line), and mutations of each at every element.</summary>
    private static IEnumerable<(string Description, string Json)> Inputs()
    {
        var random = new Random(Seed);
        var originals = new List<(string Name, string Json)>();
        foreach (var folder in new[] { "resources", "invalid" })
        {
            foreach (var file in Directory.EnumerateFiles(RepositoryRoot.Combine("examples", folder), "*.json").Order(StringComparer.Ordinal))
            {
                if (!file.EndsWith(".expected.json", StringComparison.Ordinal))
                    originals.Add(($"{folder}/{Path.GetFileName(file)}", Compact(File.ReadAllText(file))));
            }
        }
        foreach (var file in Directory.EnumerateFiles(RepositoryRoot.Combine("examples", "bundles"), "*.json").Order(StringComparer.Ordinal))
        {
            var entries = JsonNode.Parse(File.ReadAllText(file))!["entry"]!.AsArray();
            for (var i = 0; i < entries.Count; i++)
                originals.Add(($"bundles/{Path.GetFileName(file)} entry {i}", entries[i]!["resource"]!.ToJsonString()));
        }
        foreach (var (name, json) in originals)
        {
            yield return (name, json);
            var kind = random.Next(Mutations.Length);
            foreach (var path in ElementPaths(JsonNode.Parse(json)!, []))
            {
                var (mutation, mutate) = Mutations[kind++ % Mutations.Length];
                var copy = JsonNode.Parse(json)!;
                if (mutate(copy, path))
                    yield return ($"{name} {string.Join('.', path)} <- {mutation}", copy.ToJsonString());
            }
        }
    }

    /// <summary>A way to break (or not) the element at a path: what the strict parser, the fast read and the engine each catch.</summary>
    private static readonly (string Name, Func<JsonNode, object[], bool> Apply)[] Mutations =
    [
        ("a number", (root, path) => Replace(root, path, _ => JsonValue.Create(7))),
        ("a string with a space", (root, path) => Replace(root, path, _ => JsonValue.Create("x y"))),
        ("true", (root, path) => Replace(root, path, _ => JsonValue.Create(true))),
        ("null", (root, path) => Replace(root, path, _ => null)),
        ("{}", (root, path) => Replace(root, path, _ => new JsonObject())),
        ("[]", (root, path) => Replace(root, path, _ => new JsonArray())),
        ("an array of it", (root, path) => Replace(root, path, node => new JsonArray(node?.DeepClone()))),
        ("its first item", (root, path) => Replace(root, path, node => node is JsonArray { Count: > 0 } array ? array[0]?.DeepClone() : node?.DeepClone())),
        ("an empty string", (root, path) => Replace(root, path, _ => JsonValue.Create(""))),
        ("itself padded", (root, path) => Replace(root, path, node => node is JsonValue value && value.TryGetValue<string>(out var text) ? JsonValue.Create($" {text} ") : node?.DeepClone())),
        ("an unknown sibling", (root, path) => Parent(root, path) is JsonObject parent && parent.TryAdd("unknownElement", "x")),
        ("its name in lower case", (root, path) => Parent(root, path) is JsonObject parent && path[^1] is string name && name.ToLowerInvariant() != name
                                                      && !parent.ContainsKey(name.ToLowerInvariant()) && Rename(parent, name, name.ToLowerInvariant())),
        ("unchanged", (_, _) => true),
    ];

    private static IEnumerable<object[]> ElementPaths(JsonNode node, object[] path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    object[] childPath = [.. path, name];
                    yield return childPath;
                    if (child is not null)
                        foreach (var deeper in ElementPaths(child, childPath))
                            yield return deeper;
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    object[] childPath = [.. path, i];
                    yield return childPath;
                    if (array[i] is { } child)
                        foreach (var deeper in ElementPaths(child, childPath))
                            yield return deeper;
                }
                break;
        }
    }

    private static JsonNode? Parent(JsonNode root, object[] path)
    {
        var node = root;
        foreach (var step in path[..^1])
            node = step is string name ? node?[name] : node?[(int)step];
        return node;
    }

    private static bool Replace(JsonNode root, object[] path, Func<JsonNode?, JsonNode?> replacement)
    {
        switch (Parent(root, path))
        {
            case JsonObject obj when path[^1] is string name:
                obj[name] = replacement(obj[name]);
                return true;
            case JsonArray array when path[^1] is int index:
                array[index] = replacement(array[index]);
                return true;
            default:
                return false;
        }
    }

    private static bool Rename(JsonObject parent, string from, string to)
    {
        // Keeps the property's place: the parser's findings come in document order.
        var properties = parent.ToList();
        parent.Clear();
        foreach (var (name, value) in properties)
            parent[name == from ? to : name] = value;
        return true;
    }

    /// <summary>The host's store for ids and preparation, recording the content it is handed; nothing else is called.</summary>
    private sealed class RecordingStore(IResourceStore inner) : IResourceStore
    {
        private string? _last;

        /// <summary>The JSON of the last resource handed to <see cref="PrepareOwned"/>, then forgotten.</summary>
        public string? TakeLast() => Interlocked.Exchange(ref _last, null);

        public string NewId() => inner.NewId();

        public PreparedResource Prepare(Resource resource) => throw new NotSupportedException("the import hands its own parse over");

        public PreparedResource PrepareOwned(Resource resource)
        {
            _last = FhirSerialization.ToJson(resource);
            return inner.PrepareOwned(resource);
        }

        public Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ReadResult> VReadAsync(string resourceType, string id, int versionId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlySet<string>> ExistingIdsAsync(string resourceType, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SearchResult> EverythingAsync(EverythingQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<T> TransactionAsync<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ChangeMark> CurrentChangeAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The host's validator, counting the validations it runs.</summary>
    private sealed class CountingValidator(IResourceValidator inner) : IResourceValidator
    {
        private int _calls;

        public int Calls => _calls;

        public Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return inner.ValidateAsync(content, format, options, cancellationToken);
        }

        public Task<ValidationResult> ValidateAsync(ParsedInstance instance, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return inner.ValidateAsync(instance, options, cancellationToken);
        }

        public Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return inner.ValidateAsync(resource, options, cancellationToken);
        }
    }
}
