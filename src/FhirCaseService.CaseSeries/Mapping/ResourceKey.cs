using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>
/// The stable identity of one generated resource: its type and an id derived from the series id, the
/// pseudonym and the event (never random), and the urn:uuid that stands for it inside a transaction Bundle.
/// The same record therefore always yields the same ids, and re-sending it overwrites instead of duplicating.
/// </summary>
public sealed partial record ResourceKey
{
    /// <summary>The longest id FHIR allows is 64; docs/resource-model.md keeps ours within it.</summary>
    public const int MaxIdLength = 64;

    // Name-based UUIDs need a namespace UUID: ours is the RFC 4122 v5 UUID of our canonical base in the URL namespace,
    // fixed here so the UUIDs never change.
    private static readonly Guid UrlNamespace = new("6ba7b811-9dad-11d1-80b4-00c04fd430c8");
    private static readonly Guid FhirCaseNamespace = NameBasedUuid(UrlNamespace, FhirCaseCanonicals.Base);

    private ResourceKey(string resourceType, string id)
    {
        ResourceType = resourceType;
        Id = id;
        FullUrl = "urn:uuid:" + NameBasedUuid(FhirCaseNamespace, $"{resourceType}/{id}").ToString("D");
    }

    public string ResourceType { get; }

    public string Id { get; }

    public string FullUrl { get; }

    /// <summary>The relative URL of the PUT request.</summary>
    public string RequestUrl => $"{ResourceType}/{Id}";

    /// <summary>An id from parts (series id, pseudonym, event words): lowercased, runs of other characters become '-',
    /// and an id longer than 64 keeps its start plus a hash of the whole so distinct keys stay distinct.</summary>
    public static ResourceKey For(string resourceType, params string[] parts)
    {
        var slug = Slug(string.Join('-', parts));
        if (slug.Length > MaxIdLength)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts))))[..12];
            slug = $"{slug[..(MaxIdLength - 13)].TrimEnd('-')}-{hash}";
        }
        return new ResourceKey(resourceType, slug);
    }

    private static string Slug(string text) => NotIdCharacters().Replace(text.ToLowerInvariant(), "-").Trim('-');

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotIdCharacters();

    /// <summary>RFC 4122 section 4.3 version 5 (SHA-1) UUID of <paramref name="name"/> in <paramref name="namespaceId"/>.</summary>
    internal static Guid NameBasedUuid(Guid namespaceId, string name)
    {
        var input = namespaceId.ToByteArray(bigEndian: true).Concat(Encoding.UTF8.GetBytes(name)).ToArray();
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 v5 prescribes; it names, it does not protect.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
