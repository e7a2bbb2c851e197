using System.Globalization;
using System.Text.RegularExpressions;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Search;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Export;

/// <summary>The checked parameters of a kick-off request (everything but who asks and where).</summary>
public sealed record ExportKickOffParameters(
    IReadOnlyList<string> Types,
    DateTimeOffset? Since,
    IReadOnlyList<string> TypeFilters,
    IReadOnlyList<string> PatientIds);

/// <summary>
/// Reads and checks kick-off parameters (Bulk Data Access IG 2.0.0): from the query string of a GET, from the
/// Parameters body of a POST (plus its query string). Every problem is a 400 naming the parameter: an export that
/// runs is an export the server understood completely.
/// </summary>
public static partial class ExportKickOff
{
    public static readonly IReadOnlyList<string> AcceptedOutputFormats = ["application/fhir+ndjson", "application/ndjson", "ndjson"];

    /// <summary>Parameters that only shape this response's own rendering; accepted and left to the response writer.</summary>
    private static readonly HashSet<string> RenderingParameters = new(StringComparer.Ordinal) { "_format", "_pretty" };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex InstantPattern();

    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex IdPattern();

    public static async Task<ExportKickOffParameters> ReadAsync(HttpRequest request, ExportLevel level, CancellationToken cancellationToken)
    {
        var pairs = new List<(string Name, DataType? Value, string Text)>();
        foreach (var (name, value) in SearchRequest.Parse(request.QueryString.Value))
        {
            if (name == "patient")
                throw FhirRequestException.BadRequest("patient is accepted only in the Parameters body of a POST kick-off (as valueReference).", "patient");
            pairs.Add((name, null, value));
        }
        if (HttpMethods.IsPost(request.Method))
            pairs.AddRange(await ReadBodyAsync(request, cancellationToken));
        return Check(pairs, level);
    }

    private static async Task<IEnumerable<(string Name, DataType? Value, string Text)>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await FhirRequestBody.ReadOptionalAsync(request, cancellationToken);
        if (body is null)
            return [];
        if (body.Parse() is not Parameters parameters)
            throw FhirRequestException.BadRequest("The body of a POST kick-off must be a Parameters resource.");
        var read = new List<(string, DataType?, string)>();
        foreach (var parameter in parameters.Parameter)
        {
            var name = parameter.Name ?? "";
            var text = parameter.Value switch
            {
                Instant { Value: { } instant } => instant.ToString("o", CultureInfo.InvariantCulture),
                PrimitiveType primitive => primitive.ToString() ?? "",
                _ => "",
            };
            read.Add((name, parameter.Value, text));
        }
        return read;
    }

    private static ExportKickOffParameters Check(IEnumerable<(string Name, DataType? Value, string Text)> pairs, ExportLevel level)
    {
        List<string>? types = null;
        DateTimeOffset? since = null;
        var filters = new List<(string Type, string Text)>();
        var patients = new List<string>();
        foreach (var (name, value, text) in pairs)
        {
            switch (name)
            {
                case "_outputFormat":
                    if (!AcceptedOutputFormats.Contains(text.Trim(), StringComparer.OrdinalIgnoreCase))
                        throw FhirRequestException.BadRequest(
                            $"_outputFormat '{text}' is not offered; this server writes {AcceptedOutputFormats[0]} (also accepted as {AcceptedOutputFormats[1]} or {AcceptedOutputFormats[2]}).", "_outputFormat");
                    break;
                case "_since":
                    since = ParseSince(text);
                    break;
                case "_type":
                    types ??= [];
                    foreach (var type in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        types.Add(CheckType(type, "_type"));
                    if (types.Count == 0)
                        throw FhirRequestException.BadRequest("_type is empty; name at least one resource type, or leave it out for every type.", "_type");
                    break;
                case "_typeFilter":
                    filters.Add(CheckTypeFilter(text));
                    break;
                case "patient":
                    if (level == ExportLevel.System)
                        throw FhirRequestException.BadRequest("patient applies to Patient and Group exports only, not to [base]/$export.", "patient");
                    patients.Add(CheckPatient(value));
                    break;
                case "includeAssociatedData":
                    throw FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.NotSupported,
                        "includeAssociatedData is not supported by this server; leave it out (no associated data such as Provenance is added to exports).", "includeAssociatedData");
                case "_elements":
                    throw FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.NotSupported,
                        "_elements is not supported by this server; exports always carry whole resources.", "_elements");
                default:
                    if (!RenderingParameters.Contains(name))
                        throw FhirRequestException.BadRequest(
                            $"'{name}' is not a parameter of $export here (known: _outputFormat, _since, _type, _typeFilter, patient).", name);
                    break;
            }
        }

        // A filter's type is exported even when _type forgot to list it: the filter says the client wants it.
        var selected = (types ?? [.. StoredResourceTypes.All]).Concat(filters.Select(f => f.Type)).Distinct(StringComparer.Ordinal).ToList();
        return new ExportKickOffParameters(selected, since, [.. filters.Select(f => f.Text)], [.. patients.Distinct(StringComparer.Ordinal)]);
    }

    private static DateTimeOffset ParseSince(string text)
    {
        // A '+' of an offset decodes to a space when the client did not percent-encode it; an instant holds no spaces.
        var value = text.Trim().Replace(' ', '+');
        if (!InstantPattern().IsMatch(value)
            || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var since))
            throw FhirRequestException.BadRequest(
                $"_since must be a FHIR instant with seconds and a time zone (e.g. 2025-01-31T10:00:00.000Z), not '{text}'.", "_since");
        return since;
    }

    private static string CheckType(string type, string parameter) =>
        StoredResourceTypes.IsStored(type)
            ? type
            : throw FhirRequestException.BadRequest(
                $"{parameter} names '{type}', which this server does not store (it stores {string.Join(", ", StoredResourceTypes.All)}).", parameter);

    private static (string Type, string Text) CheckTypeFilter(string text)
    {
        var question = text.IndexOf('?');
        if (question <= 0)
            throw FhirRequestException.BadRequest($"_typeFilter '{text}' must have the form Type?search-parameters (e.g. Observation?code=http://loinc.org|51124-6).", "_typeFilter");
        var type = CheckType(text[..question], "_typeFilter");
        SearchQuery query;
        try
        {
            query = SearchQuery.Parse(type, SearchRequest.Parse(text[(question + 1)..]));
        }
        catch (SearchQueryException e)
        {
            throw FhirRequestException.BadRequest($"_typeFilter '{text}' cannot be used: {string.Join(" ", e.Errors)}", "_typeFilter");
        }
        if (query.UnknownParameters.Count > 0)
            throw FhirRequestException.BadRequest(
                $"_typeFilter '{text}' uses search parameters {type} does not have here: {string.Join(", ", query.UnknownParameters)}.", "_typeFilter");
        if (query.Criteria.Count == 0)
            throw FhirRequestException.BadRequest($"_typeFilter '{text}' has no search criteria.", "_typeFilter");
        if (query.Includes.Count > 0 || query.Sort.Count > 0 || query.Count is not null || query.Cursor is not null)
            throw FhirRequestException.BadRequest(
                $"_typeFilter '{text}' may hold only search criteria, not _include, _revinclude, _sort, _count or paging.", "_typeFilter");
        return (type, text);
    }

    private static string CheckPatient(DataType? value)
    {
        if (value is not ResourceReference { Reference: { } reference })
            throw FhirRequestException.BadRequest("patient must be a valueReference such as {\"reference\": \"Patient/123\"}.", "patient");
        var parts = reference.TrimEnd('/').Split('/');
        if (parts.Length < 2 || parts[^2] != "Patient" || !IdPattern().IsMatch(parts[^1]))
            throw FhirRequestException.BadRequest($"patient '{reference}' is not a reference to a Patient (Patient/[id]).", "patient");
        return parts[^1];
    }
}
