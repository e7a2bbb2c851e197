using System.Collections.Concurrent;
using System.Net;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using FhirCaseService.Validation;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Rest;

/// <summary>
/// What the service's validator and store are asked while it writes: every validation call (which overload, what it
/// was handed), and the store's transactions, before one of which a test may have a concurrent writer step in.
/// </summary>
public sealed class WriteProbes
{
    public ConcurrentQueue<string> ValidationCalls { get; } = new();

    private int _transactions;
    private Func<IResourceStore, Task>? _interference;

    public int Transactions => Volatile.Read(ref _transactions);

    /// <summary>Runs <paramref name="writer"/> (through the real store, as another client would) just before the next write transaction.</summary>
    public void BeforeNextTransaction(Func<IResourceStore, Task> writer) => _interference = writer;

    public void Reset()
    {
        ValidationCalls.Clear();
        Volatile.Write(ref _transactions, 0);
        _interference = null;
    }

    internal void Install(IWebHostBuilder builder) => builder.ConfigureTestServices(services =>
    {
        Decorate<IResourceValidator>(services, inner => new CountingValidator(inner, this));
        Decorate<IResourceStore>(services, inner => new InterferingStore(inner, this));
    });

    private static void Decorate<T>(IServiceCollection services, Func<T, T> wrap) where T : class
    {
        var descriptor = services.Last(d => d.ServiceType == typeof(T));
        services.Remove(descriptor);
        services.AddSingleton<T>(provider => wrap(descriptor switch
        {
            { ImplementationInstance: T instance } => instance,
            { ImplementationFactory: { } factory } => (T)factory(provider),
            _ => (T)ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!),
        }));
    }

    private sealed class CountingValidator(IResourceValidator inner, WriteProbes probes) : IResourceValidator
    {
        public Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            probes.ValidationCalls.Enqueue("text");
            return inner.ValidateAsync(content, format, options, cancellationToken);
        }

        public Task<ValidationResult> ValidateAsync(ParsedInstance instance, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            probes.ValidationCalls.Enqueue($"parsed {Describe(instance.Resource, options)}");
            return inner.ValidateAsync(instance, options, cancellationToken);
        }

        public Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null, CancellationToken cancellationToken = default)
        {
            probes.ValidationCalls.Enqueue($"object {Describe(resource, options)}");
            return inner.ValidateAsync(resource, options, cancellationToken);
        }

        /// <summary>"Bundle of 4 entries, Patient required", "Patient, Patient required".</summary>
        private static string Describe(Resource? resource, ValidationOptions? options)
        {
            var what = resource is Bundle bundle ? $"Bundle of {bundle.Entry.Count} entries" : resource?.TypeName ?? "(unreadable)";
            IEnumerable<string> required = options is null ? [] : options.RequiredProfiles.Keys.Order(StringComparer.Ordinal);
            return $"{what}, {string.Join(",", required)} required";
        }
    }

    private sealed class InterferingStore(IResourceStore inner, WriteProbes probes) : IResourceStore
    {
        public async Task<T> TransactionAsync<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref probes._interference, null) is { } writer)
                await writer(inner);
            Interlocked.Increment(ref probes._transactions);
            return await inner.TransactionAsync(work, cancellationToken);
        }

        public string NewId() => inner.NewId();

        public PreparedResource Prepare(Resource resource) => inner.Prepare(resource);

        public Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default) => inner.CreateAsync(resource, cancellationToken);

        public Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default) =>
            inner.UpdateAsync(resource, ifMatchVersion, cancellationToken);

        public Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(resourceType, id, ifMatchVersion, cancellationToken);

        public Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default) => inner.ReadAsync(resourceType, id, cancellationToken);

        public Task<ReadResult> VReadAsync(string resourceType, string id, int versionId, CancellationToken cancellationToken = default) =>
            inner.VReadAsync(resourceType, id, versionId, cancellationToken);

        public Task<IReadOnlySet<string>> ExistingIdsAsync(string resourceType, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default) =>
            inner.ExistingIdsAsync(resourceType, ids, cancellationToken);

        public Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken = default) => inner.HistoryAsync(query, cancellationToken);

        public Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) => inner.SearchAsync(query, cancellationToken);

        public Task<SearchResult> EverythingAsync(EverythingQuery query, CancellationToken cancellationToken = default) => inner.EverythingAsync(query, cancellationToken);

        public Task<ChangeMark> CurrentChangeAsync(CancellationToken cancellationToken = default) => inner.CurrentChangeAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

/// <summary>The service with <see cref="WriteProbes"/> installed and fhircase-patient required for every Patient.</summary>
public abstract class WritePipelineHost : ServiceHost
{
    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["Validation:RequiredProfiles:Patient:0"] = TestData.PatientProfile,
    };

    protected WritePipelineHost(TestDatabase database) : this(database, new WriteProbes())
    {
    }

    private WritePipelineHost(TestDatabase database, WriteProbes probes) : base(database, Settings, "Development", probes.Install) => Probes = probes;

    public WriteProbes Probes { get; }
}

public sealed class SqliteWritePipelineHost() : WritePipelineHost(new SqliteTestDatabase());

public sealed class PostgresWritePipelineHost() : WritePipelineHost(new PostgresTestDatabase());

/// <summary>The one write pipeline: one parse and one validation per request, entries located as data, lookups that hold under the lock, linear size.</summary>
public abstract class WritePipelineTests(WritePipelineHost host)
{
    private readonly RestTestClient _client = new(host);

    private static string NewUrn() => "urn:uuid:" + Guid.NewGuid();

    /// <summary>A Patient that conforms to fhircase-patient without saying so: only the server's requirement applies the profile.</summary>
    private static Patient UndeclaredPatient(string? pseudonym = null)
    {
        var patient = TestData.NewPatient(pseudonym);
        patient.Meta = null;
        return patient;
    }

    private static Bundle.EntryComponent Post(Resource resource, string fullUrl) => new()
    {
        FullUrl = fullUrl,
        Resource = resource,
        Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = resource.TypeName },
    };

    [Fact]
    public async Task A_transaction_is_validated_in_one_call_that_applies_the_required_profiles_to_its_entries()
    {
        var patientUrn = NewUrn();
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [Post(UndeclaredPatient(), patientUrn), Post(UndeclaredPatient(), NewUrn()), Post(TestData.NewObservation(patientUrn), NewUrn())],
        };
        host.Probes.Reset();

        var response = await _client.PostBundleAsync(bundle);

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        Assert.Equal(["parsed Bundle of 3 entries, Patient required"], host.Probes.ValidationCalls);
    }

    [Fact]
    public async Task A_create_and_an_update_are_each_parsed_and_validated_once()
    {
        host.Probes.Reset();
        var created = await _client.CreateAsync(UndeclaredPatient());
        created.Gender = AdministrativeGender.Female;
        var updated = await _client.PutAsync($"/Patient/{created.Id}", created);

        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal(["parsed Patient, Patient required", "parsed Patient, Patient required"], host.Probes.ValidationCalls);
    }

    [Fact]
    public async Task A_transaction_of_1000_entries_is_stored_whole_with_every_reference_rewritten()
    {
        var entries = new List<Bundle.EntryComponent>();
        var patients = new List<(string Urn, string Pseudonym)>();
        for (var i = 0; i < 500; i++)
        {
            var pseudonym = "bulk-" + Guid.NewGuid().ToString("N");
            var urn = NewUrn();
            patients.Add((urn, pseudonym));
            entries.Add(Post(TestData.NewPatient(pseudonym), urn));
            entries.Add(Post(TestData.NewObservation(urn), NewUrn()));
        }
        host.Probes.Reset();

        var response = await _client.PostBundleAsync(new Bundle { Type = Bundle.BundleType.Transaction, Entry = entries });

        Assert.True(response.Status == HttpStatusCode.OK, response.Body[..Math.Min(2000, response.Body.Length)]);
        var result = response.As<Bundle>().Entry;
        Assert.Equal(1000, result.Count);
        Assert.All(result, e => Assert.Equal("201 Created", e.Response!.Status));
        Assert.Equal(1, host.Probes.Transactions);
        foreach (var index in new[] { 0, 498, 998 })
        {
            var patientId = Assert.IsType<Patient>(result[index].Resource).Id;
            Assert.Equal($"Patient/{patientId}", Assert.IsType<Observation>(result[index + 1].Resource).Subject!.Reference);
        }
        var found = (await _client.GetAsync($"/Patient?identifier={TestData.PseudonymSystem}|{patients[250].Pseudonym}")).As<Bundle>();
        Assert.Equal(result[500].Response!.Location!.Split("/_history")[0], $"Patient/{Assert.Single(found.Entry).Resource!.Id}");
    }

    [Fact]
    public async Task A_transaction_of_1000_entries_with_one_invalid_at_the_end_writes_nothing_and_names_that_entry()
    {
        var invalid = FhirSerialization.StrictJson.Deserialize<Patient>(File.ReadAllText(TestData.ExamplePath("invalid", "patient-gender-missing.json")));
        var entries = Enumerable.Range(0, 999).Select(_ => Post(TestData.NewPatient(), NewUrn())).ToList();
        entries.Add(Post(invalid, "urn:uuid:6f7d9c2a-5555-4e1b-a0c3-000000000999"));
        var before = await _client.LatestChangeAsync();

        var response = await _client.PostBundleAsync(new Bundle { Type = Bundle.BundleType.Transaction, Entry = entries });

        Assert.Equal((HttpStatusCode)422, response.Status);
        var issue = Assert.Single(response.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Bundle.entry[999].resource", Assert.Single(issue.Expression));
        Assert.StartsWith("Bundle.entry[999] (urn:uuid:6f7d9c2a-5555-4e1b-a0c3-000000000999): ", issue.Diagnostics);
        Assert.Equal(before, await _client.LatestChangeAsync());
    }

    [Fact]
    public async Task A_conditional_reference_whose_match_changes_before_the_lock_is_resolved_again_and_points_at_the_new_match()
    {
        var pseudonym = "moving-" + Guid.NewGuid().ToString("N");
        var first = await _client.CreateAsync(UndeclaredPatient(pseudonym));
        var second = UndeclaredPatient("other-" + Guid.NewGuid().ToString("N"));
        second.Id = "second-" + Guid.NewGuid().ToString("N")[..16];
        host.Probes.Reset();
        // Another client, between this request's lookup and its write: the pseudonym moves from the first patient to a second.
        host.Probes.BeforeNextTransaction(async store =>
        {
            var moved = (Patient)first.DeepCopy();
            moved.Identifier[0].Value = "moved-" + Guid.NewGuid().ToString("N");
            await store.UpdateAsync(moved);
            second.Identifier[0].Value = pseudonym;
            await store.UpdateAsync(second);
        });

        var response = await _client.PostBundleAsync(new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [Post(TestData.NewObservation($"Patient?identifier={TestData.PseudonymSystem}|{pseudonym}"), NewUrn())],
        });

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        Assert.Equal($"Patient/{second.Id}", Assert.IsType<Observation>(Assert.Single(response.As<Bundle>().Entry).Resource).Subject!.Reference);
        Assert.Equal(2, host.Probes.Transactions);
    }

    [Fact]
    public async Task A_conditional_update_whose_match_is_deleted_before_the_lock_creates_instead_of_reviving_it()
    {
        var pseudonym = "gone-" + Guid.NewGuid().ToString("N");
        var existing = await _client.CreateAsync(UndeclaredPatient(pseudonym));
        host.Probes.Reset();
        host.Probes.BeforeNextTransaction(store => store.DeleteAsync("Patient", existing.Id!));

        var response = await _client.PutAsync($"/Patient?identifier={TestData.PseudonymSystem}|{pseudonym}", UndeclaredPatient(pseudonym));

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.NotEqual(existing.Id, response.As<Patient>().Id);
        Assert.Equal(HttpStatusCode.Gone, (await _client.GetAsync($"/Patient/{existing.Id}")).Status);
        Assert.Equal(2, host.Probes.Transactions);
    }
}

public sealed class WritePipelineTestsOnSqlite(SqliteWritePipelineHost host) : WritePipelineTests(host), IClassFixture<SqliteWritePipelineHost>;

public sealed class WritePipelineTestsOnPostgres(PostgresWritePipelineHost host) : WritePipelineTests(host), IClassFixture<PostgresWritePipelineHost>;
