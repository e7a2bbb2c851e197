using System.Text.Json;
using FhirCaseService.Storage.Indexing;

namespace FhirCaseService.Storage.Export;

/// <summary>The patients a stored Group names as its members, read from the stored JSON without building the POCO.</summary>
internal static class GroupMembers
{
    /// <summary>
    /// Ids of member.entity references to Patient, in order, without repeats; members marked inactive are not in the
    /// group any more (Group.member.inactive) and are skipped.
    /// </summary>
    public static IReadOnlyList<string> PatientIds(string groupJson)
    {
        using var document = JsonDocument.Parse(groupJson);
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!document.RootElement.TryGetProperty("member", out var members) || members.ValueKind != JsonValueKind.Array)
            return ids;
        foreach (var member in members.EnumerateArray())
        {
            if (member.TryGetProperty("inactive", out var inactive) && inactive.ValueKind == JsonValueKind.True)
                continue;
            if (!member.TryGetProperty("entity", out var entity) || !entity.TryGetProperty("reference", out var reference)
                || reference.ValueKind != JsonValueKind.String)
                continue;
            var (type, id) = ReferenceParser.Split(reference.GetString()!);
            if (type == "Patient" && id is not null && seen.Add(id))
                ids.Add(id);
        }
        return ids;
    }
}
