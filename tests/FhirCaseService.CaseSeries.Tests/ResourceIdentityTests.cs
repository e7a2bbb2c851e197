using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FhirCaseService.CaseSeries.Mapping;
using static FhirCaseService.CaseSeries.Tests.Support.TestRecords;

namespace FhirCaseService.CaseSeries.Tests;

public sealed partial class ResourceIdentityTests
{
    [Fact]
    public void Converting_the_same_record_twice_gives_the_same_bytes()
    {
        Assert.Equal(CaseSeriesJson.Serialize(Convert(Valid)), CaseSeriesJson.Serialize(Convert(Valid)));
    }

    [Fact]
    public void Ids_depend_on_the_events_not_on_their_order_in_the_file()
    {
        var reordered = With(root =>
        {
            var relapses = Patient(root)["relapses"]!.AsArray();
            var items = relapses.Select(r => r!.DeepClone()).Reverse().ToList();
            relapses.Clear();
            foreach (var item in items)
                relapses.Add(item);
        });

        static IEnumerable<string> Urls(Hl7.Fhir.Model.Bundle b) => b.Entry.Select(e => $"{e.Request.Url} {e.FullUrl}").Order(StringComparer.Ordinal);

        Assert.Equal(Urls(Convert(Valid)), Urls(Convert(reordered)));
    }

    [Fact]
    public void Every_entry_is_a_put_of_its_own_type_and_id_with_a_name_based_uuid_full_url()
    {
        var bundle = Convert(Valid);

        Assert.Equal(Hl7.Fhir.Model.Bundle.BundleType.Transaction, bundle.Type);
        Assert.All(bundle.Entry, entry =>
        {
            Assert.Equal(Hl7.Fhir.Model.Bundle.HTTPVerb.PUT, entry.Request.Method);
            Assert.Equal($"{entry.Resource.TypeName}/{entry.Resource.Id}", entry.Request.Url);
            Assert.Matches(IdPattern(), entry.Resource.Id);
            Assert.Matches(UuidV5Pattern(), entry.FullUrl);
        });
        Assert.Equal(bundle.Entry.Count, bundle.Entry.Select(e => e.FullUrl).Distinct().Count());
    }

    [Fact]
    public void Re_sending_a_changed_record_overwrites_the_same_resources()
    {
        var changed = With(root => Patient(root)["relapses"]![0]!["date"] = "2018-06-01");

        Assert.Equal(Convert(Valid).Entry.Select(e => e.Request.Url), Convert(changed).Entry.Select(e => e.Request.Url));
    }

    [Fact]
    public void Long_keys_are_shortened_to_64_characters_without_colliding()
    {
        var longPseudonym = new string('x', 32);
        var first = ResourceKey.For("Observation", "a-very-long-series-identifier-of-forty-c", longPseudonym, "relapse", "1");
        var second = ResourceKey.For("Observation", "a-very-long-series-identifier-of-forty-c", longPseudonym, "relapse", "2");

        Assert.True(first.Id.Length <= ResourceKey.MaxIdLength);
        Assert.Matches(IdPattern(), first.Id);
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public void Name_based_uuid_follows_rfc_4122_version_5()
    {
        // Known vector: uuid5(NAMESPACE_DNS, "www.example.com") from Python's uuid module.
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

        Assert.Equal(new Guid("2ed6657d-e927-568b-95e1-2665a8aea6a2"), ResourceKey.NameBasedUuid(dns, "www.example.com"));
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex UuidV5Pattern();
}
