using System.Security.Cryptography;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The stored JSON of a version as a template: the exact text the serializer writes for the resource with its
/// meta.versionId and meta.lastUpdated, with those two values cut out. Filling them in at commit is a splice of
/// three strings (no serialization under the write lock), and the text without them is what the content hash covers.
/// </summary>
internal sealed class StoredJsonTemplate
{
    // A value no client sends: the template is found by serializing with these and locating them.
    private static readonly string VersionSentinel = "fhircase" + Guid.NewGuid().ToString("N");
    private static readonly DateTimeOffset LastUpdatedSentinel = new(1111, 11, 11, 11, 11, 11, 111, TimeSpan.Zero);
    private static readonly string LastUpdatedSentinelText = StoredJson.FormatLastUpdated(LastUpdatedSentinel);

    private readonly string _beforeVersion;
    private readonly string _betweenStamps;
    private readonly string _afterLastUpdated;

    private StoredJsonTemplate(string beforeVersion, string betweenStamps, string afterLastUpdated)
    {
        _beforeVersion = beforeVersion;
        _betweenStamps = betweenStamps;
        _afterLastUpdated = afterLastUpdated;
        ContentHash = StoredJson.Hash(string.Concat(beforeVersion, betweenStamps, afterLastUpdated));
    }

    /// <summary>SHA-256 (hex) of the stored JSON without the values of meta.versionId and meta.lastUpdated.</summary>
    public string ContentHash { get; }

    /// <summary>Serializes <paramref name="copy"/> (its meta stamps are overwritten: pass the store's own copy).</summary>
    public static StoredJsonTemplate Of(Resource copy)
    {
        copy.Meta ??= new Meta();
        copy.Meta.VersionId = VersionSentinel;
        copy.Meta.LastUpdated = LastUpdatedSentinel;
        var json = FhirSerialization.ToJson(copy);
        var stamps = StoredJson.FindStamps(json)
                     ?? throw new InvalidOperationException("The serializer did not write meta.versionId followed by meta.lastUpdated.");
        if (json.AsSpan(stamps.VersionAt, stamps.VersionLength).SequenceEqual(VersionSentinel) is false ||
            json.AsSpan(stamps.LastUpdatedAt, stamps.LastUpdatedLength).SequenceEqual(LastUpdatedSentinelText) is false)
            throw new InvalidOperationException("The serializer wrote meta.versionId and meta.lastUpdated in an unexpected place.");
        return new StoredJsonTemplate(json[..stamps.VersionAt], json[(stamps.VersionAt + stamps.VersionLength)..stamps.LastUpdatedAt],
            json[(stamps.LastUpdatedAt + stamps.LastUpdatedLength)..]);
    }

    /// <summary>The stored JSON with its version and lastUpdated (as <see cref="StoredJson.FormatLastUpdated"/> writes it).</summary>
    public string Fill(string versionId, string lastUpdated) =>
        string.Concat([_beforeVersion, versionId, _betweenStamps, lastUpdated, _afterLastUpdated]);
}

internal static class StoredJson
{
    private const string MetaKey = "\"meta\":{";
    private const string VersionField = "\"versionId\":\"";
    private const string LastUpdatedField = "\",\"lastUpdated\":\"";

    /// <summary>meta.lastUpdated exactly as the serializer writes it (one tiny serialization per transaction).</summary>
    public static string FormatLastUpdated(DateTimeOffset instant)
    {
        var json = FhirSerialization.ToJson(new Meta { LastUpdated = instant });
        const string field = "\"lastUpdated\":\"";
        var start = json.IndexOf(field, StringComparison.Ordinal) + field.Length;
        return json[start..json.IndexOf('"', start)];
    }

    /// <summary>
    /// Where the values of the resource's own meta.versionId and meta.lastUpdated are. The serializer writes "meta"
    /// right after "resourceType" and "id", versionId and lastUpdated first in it (after meta's own id and extensions,
    /// whose strings cannot hold an unescaped quote), so the first match is the resource's, never a contained one's.
    /// </summary>
    public static (int VersionAt, int VersionLength, int LastUpdatedAt, int LastUpdatedLength)? FindStamps(string json)
    {
        var meta = json.IndexOf(MetaKey, StringComparison.Ordinal);
        if (meta < 0)
            return null;
        var field = json.IndexOf(VersionField, meta, StringComparison.Ordinal);
        if (field < 0)
            return null;
        var versionAt = field + VersionField.Length;
        var versionEnd = json.IndexOf('"', versionAt);
        if (versionEnd < 0 || string.CompareOrdinal(json, versionEnd, LastUpdatedField, 0, LastUpdatedField.Length) != 0)
            return null;
        var lastUpdatedAt = versionEnd + LastUpdatedField.Length;
        var lastUpdatedEnd = json.IndexOf('"', lastUpdatedAt);
        return lastUpdatedEnd < 0 ? null : (versionAt, versionEnd - versionAt, lastUpdatedAt, lastUpdatedEnd - lastUpdatedAt);
    }

    /// <summary>
    /// The content hash of a version stored before hashes were kept (schema v3): its stored JSON without the two
    /// stamps' values, hashed as <see cref="StoredJsonTemplate.ContentHash"/> is. Null when the text does not have the
    /// store's form (then the content counts as changed).
    /// </summary>
    public static string? HashOfStored(string json)
    {
        if (FindStamps(json) is not { } s)
            return null;
        return Hash(string.Concat(json.AsSpan(0, s.VersionAt), json.AsSpan(s.VersionAt + s.VersionLength, s.LastUpdatedAt - s.VersionAt - s.VersionLength),
            json.AsSpan(s.LastUpdatedAt + s.LastUpdatedLength)));
    }

    public static string Hash(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
