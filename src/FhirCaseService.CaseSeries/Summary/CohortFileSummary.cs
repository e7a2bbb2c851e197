using System.Text;
using System.Text.Json;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>What <see cref="CohortFileSummary"/> found: the summary (null when the files hold problems), the problems, and the references no file resolves.</summary>
/// <param name="Problems">"path: [location: ]message" for each file or resource that could not be read strictly, in file order.</param>
/// <param name="UnresolvedReferences">Distinct references (other than contained ones) that point to no resource of the files, in file order.</param>
public sealed record CohortFileSummaryResult(CohortSummary? Summary, IReadOnlyList<string> Problems, IReadOnlyList<string> UnresolvedReferences);

/// <summary>
/// The cohort summary of FHIR files of any size, computed with memory bounded by one bucket of patients, never by the
/// whole cohort. It gives the same numbers as <see cref="CohortSummaryCalculator"/> over all the files' resources in
/// one <see cref="ResourceSet"/>: a patient's facts come from its own resources alone, so patients can be summarised
/// a bucket at a time once each resource has been sent to its patient's bucket.
/// <list type="number">
/// <item>The index pass reads each file's items (NDJSON lines, Bundle entries) without parsing them and keeps every
/// resource's keys (Type/id, fullUrl) as 64-bit hashes, and the keys of each Patient with its number.</item>
/// <item>The routing pass reads the files again and appends each Patient, and each Observation, MedicationAdministration
/// and Procedure whose subject is one of them, to a scratch file of its patient's bucket. Every other resource is
/// parsed there and then (for the strict check and the reference check) and dropped.</item>
/// <item>The bucket pass parses one bucket at a time into a <see cref="ResourceSet"/> and adds its patients to one
/// <see cref="CohortAccumulator"/>.</item>
/// </list>
/// Each resource is parsed once; the files are read twice and the routed resources written and read once more.
/// </summary>
public sealed class CohortFileSummary
{
    /// <summary>
    /// About how many resources a bucket holds, and so how many parsed resources are alive at once: at 5,000 a
    /// 10,000-patient cohort peaks at 0.33 GB against 0.64 GB at 20,000, for the same CPU (docs/performance.md).
    /// </summary>
    public int ResourcesPerBucket { get; init; } = 5_000;

    /// <summary>Where the scratch folder for the buckets is made (and removed when done).</summary>
    public string ScratchRoot { get; init; } = Path.GetTempPath();

    public CohortFileSummaryResult Summarise(IReadOnlyList<CohortFile> files, CancellationToken cancellationToken = default)
    {
        var run = new Run(files);
        var scratch = Directory.CreateDirectory(Path.Combine(ScratchRoot, $"fhircase-summary-{Guid.NewGuid():N}"));
        try
        {
            run.IndexKeys(cancellationToken);
            var bucketCount = (int)Math.Min(int.MaxValue, Math.Max(1, (run.ItemCount + ResourcesPerBucket - 1) / ResourcesPerBucket));
            var buckets = run.Route(scratch.FullName, bucketCount, cancellationToken);
            var cohort = new CohortAccumulator(keepEvents: false);
            foreach (var bucket in buckets)
            {
                cancellationToken.ThrowIfCancellationRequested();
                cohort.AddAll(run.ReadBucket(bucket));
                File.Delete(bucket);
            }
            var problems = run.Problems();
            return new CohortFileSummaryResult(problems.Count == 0 ? cohort.Summary() : null, problems, run.Unresolved());
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private sealed class Run(IReadOnlyList<CohortFile> files)
    {
        private readonly HashSet<ulong> _keys = [];
        private readonly Dictionary<string, int> _patientByKey = new(StringComparer.Ordinal);
        private readonly HashSet<int> _unreadable = [];
        private readonly List<(int File, ItemPlace Place, long Position, string Message)> _problems = [];
        private readonly Dictionary<string, (int File, long Order)> _unresolved = new(StringComparer.Ordinal);

        public long ItemCount { get; private set; }

        /// <summary>The index pass: every resource's keys, and which Patient each Patient key names.</summary>
        public void IndexKeys(CancellationToken cancellationToken)
        {
            var patients = 0;
            for (var f = 0; f < files.Count; f++)
            {
                var fileProblems = new List<string>();
                foreach (var item in CohortFileItems.Read(files[f], fileProblems))
                {
                    if ((ItemCount++ & 0xFFF) == 0)
                        cancellationToken.ThrowIfCancellationRequested();
                    if (item.Position < 0)
                        continue; // a Bundle's own fields: checked in the routing pass, but no resource of the cohort
                    var head = ItemHead.Of(item.Json.Span);
                    if (head.ResourceType is { } type && head.Id is { } id)
                        _keys.Add(KeyHash($"{type}/{id}"));
                    if (item.FullUrl is { Length: > 0 } fullUrl)
                        _keys.Add(KeyHash(fullUrl));
                    if (head.ResourceType == "Patient")
                    {
                        var number = patients++;
                        if (head.Id is { Length: > 0 } patientId)
                            _patientByKey.TryAdd($"Patient/{patientId}", number);
                        if (item.FullUrl is { Length: > 0 } patientUrl)
                            _patientByKey.TryAdd(patientUrl, number);
                    }
                }
                foreach (var problem in fileProblems)
                    _problems.Add((f, ItemPlace.WholeFile, long.MinValue, problem));
                if (fileProblems.Count > 0)
                    _unreadable.Add(f);
            }
        }

        /// <summary>The routing pass: patients' resources to their buckets' scratch files, the rest checked and dropped.</summary>
        public IReadOnlyList<string> Route(string scratch, int bucketCount, CancellationToken cancellationToken)
        {
            var paths = Enumerable.Range(0, bucketCount).Select(b => Path.Combine(scratch, $"bucket-{b}.bin")).ToList();
            var writers = new BinaryWriter?[bucketCount];
            try
            {
                var patients = 0;
                long order = 0;
                for (var f = 0; f < files.Count; f++)
                {
                    if (_unreadable.Contains(f))
                        continue;
                    foreach (var item in CohortFileItems.Read(files[f], new List<string>()))
                    {
                        if ((order++ & 0xFFF) == 0)
                            cancellationToken.ThrowIfCancellationRequested();
                        var head = ItemHead.Of(item.Json.Span);
                        var owner = head.ResourceType == "Patient" && item.Position >= 0
                            ? patients++
                            : head.ResourceType is "Observation" or "MedicationAdministration" or "Procedure" ? PatientOf(head.Subject) : null;
                        if (owner is not int patient)
                        {
                            Record(f, order, item.Place, item.Position, Check(item.Json.Span));
                            continue;
                        }
                        var bucket = patient % bucketCount;
                        var writer = writers[bucket] ??= new BinaryWriter(
                            new FileStream(paths[bucket], FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
                        writer.Write(f);
                        writer.Write(order);
                        writer.Write((byte)item.Place);
                        writer.Write(item.Position);
                        writer.Write(item.FullUrl ?? "");
                        writer.Write(item.Json.Length);
                        writer.Write(item.Json.Span);
                    }
                }
            }
            finally
            {
                foreach (var writer in writers)
                    writer?.Dispose();
            }
            return paths.Where(File.Exists).ToList();
        }

        /// <summary>
        /// The bucket pass: one bucket's resources, parsed and checked, as a set the accumulator reads. The parse is the
        /// work, and each resource's is independent, so the bucket's resources are parsed on all cores, then recorded in order.
        /// </summary>
        public ResourceSet ReadBucket(string path)
        {
            var items = new List<(int File, long Order, ItemPlace Place, long Position, string FullUrl, byte[] Json)>();
            using (var reader = new BinaryReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 16)))
            {
                while (reader.BaseStream.Position < reader.BaseStream.Length)
                {
                    items.Add((reader.ReadInt32(), reader.ReadInt64(), (ItemPlace)reader.ReadByte(), reader.ReadInt64(), reader.ReadString(),
                        reader.ReadBytes(reader.ReadInt32())));
                }
            }
            var checkedItems = new CheckedResource[items.Count];
            Parallel.For(0, items.Count, i => checkedItems[i] = Check(items[i].Json));

            var set = new ResourceSet();
            for (var i = 0; i < items.Count; i++)
            {
                var (file, order, place, position, fullUrl, _) = items[i];
                if (Record(file, order, place, position, checkedItems[i]) is { } resource)
                    set.Add(resource, fullUrl.Length > 0 ? fullUrl : null);
            }
            return set;
        }

        /// <summary>Parses one resource strictly and finds its references that resolve to nothing; changes nothing, so it runs on any thread.</summary>
        private CheckedResource Check(ReadOnlySpan<byte> json)
        {
            Resource? resource;
            IEnumerable<Hl7.Fhir.Utility.CodedException>? issues;
            try
            {
                var reader = new Utf8JsonReader(json);
                FhirSerialization.StrictJson.TryDeserializeResource(ref reader, out resource, out issues);
            }
            catch (JsonException e)
            {
                // The SDK reports FHIR problems as issues but lets malformed JSON through as an exception.
                return new CheckedResource(null, $"not valid JSON: {e.Message}", []);
            }
            var listed = issues?.ToList() ?? [];
            if (resource is null || listed.Count > 0)
            {
                var more = listed.Count > 1 ? $" (and {listed.Count - 1} more)" : "";
                return new CheckedResource(null, $"{listed.FirstOrDefault()?.Message ?? "not a FHIR resource"}{more}", []);
            }
            var unresolved = ReferencesIn(resource).Where(target => !target.StartsWith('#') && !Resolves(target)).ToList();
            return new CheckedResource(resource, null, unresolved);
        }

        /// <summary>Records a checked resource's problem or dangling references; returns the resource when it was read.</summary>
        private Resource? Record(int file, long order, ItemPlace place, long position, CheckedResource result)
        {
            if (result.Problem is { } problem)
                _problems.Add((file, place, position, problem));
            foreach (var target in result.Unresolved)
            {
                // Resources are recorded out of file order (buckets last), so each keeps the earliest place it was seen.
                if (!_unresolved.TryGetValue(target, out var first) || (file, order).CompareTo(first) < 0)
                    _unresolved[target] = (file, order);
            }
            return result.Resource;
        }

        /// <summary>Every non-empty reference of the resource, contained resources and extensions included, in document order.</summary>
        private static IEnumerable<string> ReferencesIn(Base node)
        {
            foreach (var (_, value) in node.EnumerateElements())
            {
                foreach (var child in value is Base one ? [one] : value as IEnumerable<Base> ?? [])
                {
                    if (child is ResourceReference { Reference: { Length: > 0 } reference })
                        yield return reference;
                    foreach (var nested in ReferencesIn(child))
                        yield return nested;
                }
            }
        }

        private int? PatientOf(string? subject)
        {
            if (string.IsNullOrEmpty(subject))
                return null;
            if (_patientByKey.TryGetValue(subject, out var patient))
                return patient;
            return ResourceSet.TypeIdTail(subject) is { } tail && _patientByKey.TryGetValue(tail, out patient) ? patient : null;
        }

        // As ResourceSet.Resolve: the reference itself, else its last two segments as Type/id.
        private bool Resolves(string reference)
        {
            if (_keys.Contains(KeyHash(reference)))
                return true;
            return ResourceSet.TypeIdTail(reference) is { } tail && _keys.Contains(KeyHash(tail));
        }

        public IReadOnlyList<string> Problems() => _problems
            .OrderBy(p => p.File)
            .ThenBy(p => p.Place == ItemPlace.WholeFile ? long.MinValue : p.Position)
            .Select(p => $"{files[p.File].DisplayPath}: {CohortFileItem.Location(p.Place, p.Position)}{p.Message}")
            .ToList();

        public IReadOnlyList<string> Unresolved() => _unresolved
            .OrderBy(u => u.Value)
            .Select(u => u.Key)
            .ToList();
    }

    /// <summary>
    /// 64-bit FNV-1a of the key's UTF-16 text. The index keeps hashes, not strings, so it stays small for millions of
    /// resources; a collision (odds of about 10^-6 at 6 million keys) could only hide one dangling-reference warning.
    /// </summary>
    private static ulong KeyHash(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>A resource parsed strictly (or the problem that stopped it), with its references that resolve to nothing.</summary>
internal readonly record struct CheckedResource(Resource? Resource, string? Problem, IReadOnlyList<string> Unresolved);

/// <summary>The few top-level fields of a resource the routing needs, read without parsing the resource.</summary>
internal readonly record struct ItemHead(string? ResourceType, string? Id, string? Subject)
{
    /// <summary>The head of <paramref name="json"/>; all null where the text is not a JSON object (the strict parse says why later).</summary>
    public static ItemHead Of(ReadOnlySpan<byte> json)
    {
        string? type = null, id = null, subject = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return default;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("resourceType"u8))
                    type = ReadString(ref reader);
                else if (reader.ValueTextEquals("id"u8))
                    id = ReadString(ref reader);
                else if (reader.ValueTextEquals("subject"u8))
                    subject = ReadReference(ref reader);
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return default;
        }
        return new ItemHead(type, id, subject);
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
            return reader.GetString();
        reader.Skip();
        return null;
    }

    private static string? ReadReference(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        string? reference = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("reference"u8))
                reference = ReadString(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return reference;
    }
}
