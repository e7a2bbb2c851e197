using System.Security.Cryptography;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The stored JSON of a version as a template: the exact text the serializer writes for the resource with its
/// meta.versionId and meta.lastUpdated, with those two values cut out. Filling them in at commit is a splice of the
/// serializer's UTF-8 (no serialization under the write lock; SQLite binds the bytes, PostgreSQL gets them decoded into
/// one string), and the text without them is what the content hash covers.
/// </summary>
internal sealed class StoredJsonTemplate
{
    // A value no client sends: the template is found by serializing with these and locating them.
    private static readonly string VersionSentinel = "fhircase" + Guid.NewGuid().ToString("N");
    private static readonly DateTimeOffset LastUpdatedSentinel = new(1111, 11, 11, 11, 11, 11, 111, TimeSpan.Zero);
    private static readonly byte[] VersionSentinelUtf8 = Encoding.UTF8.GetBytes(VersionSentinel);
    private static readonly byte[] LastUpdatedSentinelUtf8 = Encoding.UTF8.GetBytes(StoredJson.FormatLastUpdated(LastUpdatedSentinel));

    // The serializer's UTF-8, where the stamps' values sit in it, and the UTF-16 length of the three pieces around them.
    private readonly byte[] _utf8;
    private readonly StampPositions _stamps;
    private readonly int _charsBefore;
    private readonly int _charsBetween;
    private readonly int _charsAfter;

    private StoredJsonTemplate(byte[] utf8, StampPositions stamps, string contentHash)
    {
        _utf8 = utf8;
        _stamps = stamps;
        ContentHash = contentHash;
        var (before, between, after) = stamps.Around(utf8);
        _charsBefore = Encoding.UTF8.GetCharCount(before.Span);
        _charsBetween = Encoding.UTF8.GetCharCount(between.Span);
        _charsAfter = Encoding.UTF8.GetCharCount(after.Span);
    }

    /// <summary>SHA-256 (hex) of the stored JSON without the values of meta.versionId and meta.lastUpdated.</summary>
    public string ContentHash { get; }

    /// <summary>
    /// Serializes <paramref name="copy"/> (its meta stamps are overwritten: pass the store's own copy). The serializer's
    /// UTF-8 is kept and hashed as it is: no whole-document string, no re-encoding. Only the length of each piece in
    /// UTF-16 is counted here, for <see cref="Fill"/>; SQLite never needs the text as a string (<see cref="FillUtf8"/>).
    /// </summary>
    public static StoredJsonTemplate Of(Resource copy)
    {
        copy.Meta ??= new Meta();
        copy.Meta.VersionId = VersionSentinel;
        copy.Meta.LastUpdated = LastUpdatedSentinel;
        var json = FhirSerialization.ToJsonBytes(copy);
        var stamps = StoredJson.FindStamps(json)
                     ?? throw new InvalidOperationException("The serializer did not write meta.versionId followed by meta.lastUpdated.");
        if (json.AsSpan(stamps.VersionAt, stamps.VersionLength).SequenceEqual(VersionSentinelUtf8) is false ||
            json.AsSpan(stamps.LastUpdatedAt, stamps.LastUpdatedLength).SequenceEqual(LastUpdatedSentinelUtf8) is false)
            throw new InvalidOperationException("The serializer wrote meta.versionId and meta.lastUpdated in an unexpected place.");
        var (before, between, after) = stamps.Around(json);
        return new StoredJsonTemplate(json, stamps, StoredJson.Hash(before, between, after));
    }

    /// <summary>
    /// The stored JSON with its version and lastUpdated (as <see cref="StoredJson.FormatLastUpdated"/> writes it), as a
    /// string (PostgreSQL): one string of the final length, the pieces decoded straight into it (as much work as the
    /// concatenation of three kept strings was, without keeping them).
    /// </summary>
    public string Fill(string versionId, string lastUpdated) =>
        string.Create(_charsBefore + versionId.Length + _charsBetween + lastUpdated.Length + _charsAfter, (this, versionId, lastUpdated), static (text, state) =>
        {
            var (template, versionId, lastUpdated) = state;
            var (before, between, after) = template._stamps.Around(template._utf8);
            var at = Encoding.UTF8.GetChars(before.Span, text);
            versionId.CopyTo(text[at..]);
            at += versionId.Length;
            at += Encoding.UTF8.GetChars(between.Span, text[at..]);
            lastUpdated.CopyTo(text[at..]);
            at += lastUpdated.Length;
            Encoding.UTF8.GetChars(after.Span, text[at..]);
        });

    /// <summary>
    /// The same text as <see cref="Fill"/>, as UTF-8 (both stamps passed as UTF-8): five copies of the serializer's
    /// bytes, which SQLite takes as they are. Binding the string instead made SQLitePCL encode every version's content
    /// to UTF-8 under the write lock (into a fresh array, whose length SQLite then counted), after a UTF-16
    /// concatenation of twice the bytes.
    /// </summary>
    public Utf8Text FillUtf8(ReadOnlySpan<byte> versionId, ReadOnlySpan<byte> lastUpdated)
    {
        var (before, between, after) = _stamps.Around(_utf8);
        var text = new byte[before.Length + versionId.Length + between.Length + lastUpdated.Length + after.Length];
        var rest = text.AsSpan();
        Append(before.Span, ref rest);
        Append(versionId, ref rest);
        Append(between.Span, ref rest);
        Append(lastUpdated, ref rest);
        Append(after.Span, ref rest);
        return new Utf8Text(text);

        static void Append(ReadOnlySpan<byte> piece, ref Span<byte> rest)
        {
            piece.CopyTo(rest);
            rest = rest[piece.Length..];
        }
    }
}

/// <summary>
/// Text already encoded as UTF-8, bound as text (not as a blob): SQLite's writer binds the bytes as they are
/// (<see cref="SqliteStatements"/>); any other binding decodes it (<see cref="ToString"/>).
/// </summary>
internal sealed class Utf8Text(byte[] bytes)
{
    public byte[] Bytes { get; } = bytes;

    public override string ToString() => Encoding.UTF8.GetString(Bytes);
}

/// <summary>Where the values of meta.versionId and meta.lastUpdated are in a stored JSON's UTF-8 (byte offsets).</summary>
internal readonly record struct StampPositions(int VersionAt, int VersionLength, int LastUpdatedAt, int LastUpdatedLength)
{
    /// <summary>The text before the version's value, between the two values, and after lastUpdated's value.</summary>
    public (ReadOnlyMemory<byte> Before, ReadOnlyMemory<byte> Between, ReadOnlyMemory<byte> After) Around(ReadOnlyMemory<byte> json) =>
        (json[..VersionAt], json[(VersionAt + VersionLength)..LastUpdatedAt], json[(LastUpdatedAt + LastUpdatedLength)..]);
}

internal static class StoredJson
{
    private static ReadOnlySpan<byte> MetaKey => "\"meta\":{"u8;
    private static ReadOnlySpan<byte> VersionField => "\"versionId\":\""u8;
    private static ReadOnlySpan<byte> LastUpdatedField => "\",\"lastUpdated\":\""u8;

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
    /// The markers are ASCII, and no byte of a multi-byte UTF-8 character is, so a byte search finds what a character
    /// search would.
    /// </summary>
    public static StampPositions? FindStamps(ReadOnlySpan<byte> json)
    {
        var meta = json.IndexOf(MetaKey);
        if (meta < 0)
            return null;
        var field = json[meta..].IndexOf(VersionField);
        if (field < 0)
            return null;
        var versionAt = meta + field + VersionField.Length;
        var versionLength = json[versionAt..].IndexOf((byte)'"');
        if (versionLength < 0 || !json[(versionAt + versionLength)..].StartsWith(LastUpdatedField))
            return null;
        var lastUpdatedAt = versionAt + versionLength + LastUpdatedField.Length;
        var lastUpdatedLength = json[lastUpdatedAt..].IndexOf((byte)'"');
        return lastUpdatedLength < 0 ? null : new StampPositions(versionAt, versionLength, lastUpdatedAt, lastUpdatedLength);
    }

    /// <summary>
    /// The content hash of a version stored before hashes were kept (schema v3): its stored JSON without the two
    /// stamps' values, hashed as <see cref="StoredJsonTemplate.ContentHash"/> is. Null when the text does not have the
    /// store's form (then the content counts as changed).
    /// </summary>
    public static string? HashOfStored(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        if (FindStamps(utf8) is not { } stamps)
            return null;
        var (before, between, after) = stamps.Around(utf8);
        return Hash(before, between, after);
    }

    /// <summary>SHA-256 (lower-case hex) of the pieces' bytes one after another, as if they were one text.</summary>
    public static string Hash(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(first.Span);
        sha.AppendData(second.Span);
        sha.AppendData(third.Span);
        Span<byte> digest = stackalloc byte[32];
        sha.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }
}
