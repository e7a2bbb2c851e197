using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FhirCaseService.Bench;

/// <summary>
/// Large inputs built from the examples, to measure how validation time grows with size: a transaction Bundle of
/// N entries (copies of the case-series Bundle's entries, each copy with its own fullUrls, ids and references) and
/// a Patient with N names. Deterministic: the same N gives the same text.
/// </summary>
public static class ScalingInputs
{
    /// <summary>A transaction Bundle of exactly <paramref name="entries"/> entries from the example transaction Bundle.</summary>
    public static string TransactionBundle(string exampleBundleJson, int entries)
    {
        var template = JsonNode.Parse(exampleBundleJson)!.AsObject();
        var templateEntries = template["entry"]!.AsArray().Select(e => e!.ToJsonString()).ToList();
        var text = new StringBuilder(exampleBundleJson.Length * (entries / templateEntries.Count + 1));
        text.Append("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        // The entries after the first (the Group of the patients) refer only backwards or to the patients, so a
        // partial last copy that starts after the Group leaves no reference dangling.
        for (int i = 0, copy = 0; i < entries; copy++)
        {
            var remaining = entries - i;
            var first = remaining < templateEntries.Count ? 1 : 0;
            for (var e = first; e < templateEntries.Count && i < entries; e++, i++)
            {
                if (i > 0)
                    text.Append(',');
                text.Append(copy == 0 ? templateEntries[e] : Renamed(templateEntries[e], copy));
            }
        }
        text.Append("]}");
        return text.ToString();
    }

    /// <summary>
    /// One copy of an entry: every urn:uuid gets the copy number in its last group (so references inside a copy still
    /// resolve, across copies never), and every id and PUT url gets a suffix.
    /// </summary>
    private static string Renamed(string entryJson, int copy)
    {
        var suffix = copy.ToString("x12", CultureInfo.InvariantCulture);
        var text = new StringBuilder(entryJson.Length + 64);
        var position = 0;
        const string urn = "urn:uuid:";
        while (true)
        {
            var found = entryJson.IndexOf(urn, position, StringComparison.Ordinal);
            if (found < 0)
                break;
            // urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: the last 12 hex digits are replaced.
            var lastGroup = found + urn.Length + 24;
            text.Append(entryJson, position, lastGroup - position).Append(suffix);
            position = lastGroup + 12;
        }
        text.Append(entryJson, position, entryJson.Length - position);
        var node = JsonNode.Parse(text.ToString())!.AsObject();
        if (node["resource"] is JsonObject resource && resource["id"] is JsonValue id)
        {
            var newId = $"{id.GetValue<string>()}-c{copy}";
            resource["id"] = newId;
            if (node["request"] is JsonObject request && request["method"]?.GetValue<string>() == "PUT")
                request["url"] = $"{resource["resourceType"]!.GetValue<string>()}/{newId}";
        }
        return node.ToJsonString();
    }

    /// <summary>
    /// The example Patient with <paramref name="names"/> entries in Patient.name, checked against core Patient (our
    /// pseudonymised patient profile forbids names).
    /// </summary>
    public static string PatientWithNames(string examplePatientJson, int names)
    {
        var patient = JsonNode.Parse(examplePatientJson)!.AsObject();
        patient.Remove("meta");
        var array = new JsonArray();
        for (var i = 0; i < names; i++)
        {
            array.Add(new JsonObject
            {
                ["use"] = i == 0 ? "official" : "nickname",
                ["family"] = $"Family{i}",
                ["given"] = new JsonArray($"Given{i}"),
            });
        }
        patient["name"] = array;
        return patient.ToJsonString();
    }
}
