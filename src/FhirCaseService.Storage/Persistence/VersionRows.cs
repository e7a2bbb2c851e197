using System.Data.Common;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage.Indexing;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Storage.Persistence;

/// <summary>Reading resource_version rows into <see cref="StoredResource"/> values.</summary>
internal static class VersionRows
{
    public static string Columns(string alias) =>
        $"{alias}.version_key, {alias}.resource_type, {alias}.resource_id, {alias}.version_id, {alias}.change_seq, {alias}.last_updated_ms, {alias}.is_deleted, {alias}.content";

    public static async Task<List<(long Key, StoredResource Version)>> ReadAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<(long, StoredResource)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows.Add((reader.GetInt64(0), ToStored(reader)));
        return rows;
    }

    private static StoredResource ToStored(DbDataReader reader)
    {
        var deleted = Convert.ToInt32(reader.GetValue(6), System.Globalization.CultureInfo.InvariantCulture) != 0;
        var resource = deleted || reader.IsDBNull(7) ? null : FhirSerialization.TolerantJson.DeserializeResource(reader.GetString(7));
        return new StoredResource(reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
            FhirInstantRange.ToInstant(reader.GetInt64(5)), reader.GetInt64(4), deleted, resource);
    }

    public static string Serialize(Resource resource) => FhirSerialization.ToJson(resource);
}
