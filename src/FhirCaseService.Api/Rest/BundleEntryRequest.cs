using FhirCaseService.Api.Http;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>What one entry of a transaction or batch asks for: <c>Type</c>, <c>Type/id</c>, <c>Type/id/_history/n</c> or <c>Type?criteria</c>.</summary>
public sealed record EntryTarget(string ResourceType, string? Id, int? VersionId, string? Criteria)
{
    public bool IsConditional => Criteria is not null;

    public string Reference => Id is null ? ResourceType : $"{ResourceType}/{Id}";
}

/// <summary>One entry of a transaction or batch, checked and parsed.</summary>
public sealed record BundleEntryRequest(
    int Index,
    string? FullUrl,
    Bundle.HTTPVerb Method,
    EntryTarget Target,
    Resource? Resource,
    int? IfMatch,
    string? IfNoneExist)
{
    public string Path => $"Bundle.entry[{Index}]";

    /// <summary>Reads each entry's request; an entry that cannot be executed as written is a 400 that names it.</summary>
    public static IReadOnlyList<BundleEntryRequest> ReadAll(Bundle bundle, string baseUrl)
    {
        var entries = new List<BundleEntryRequest>(bundle.Entry.Count);
        for (var index = 0; index < bundle.Entry.Count; index++)
        {
            var entry = bundle.Entry[index];
            try
            {
                entries.Add(Read(index, entry, baseUrl));
            }
            catch (FhirRequestException e)
            {
                throw new TransactionEntryException(index, entry.FullUrl, e);
            }
        }
        return entries;
    }

    /// <summary>Reads one entry's request; throws <see cref="FhirRequestException"/> when it cannot be executed as written.</summary>
    public static BundleEntryRequest Read(int index, Bundle.EntryComponent entry, string baseUrl)
    {
        var request = entry.Request ?? throw FhirRequestException.BadRequest("The entry has no request (method and url).", "request");
        var method = request.Method ?? throw FhirRequestException.BadRequest("The entry's request has no method.", "request.method");
        if (method is not (Bundle.HTTPVerb.GET or Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT or Bundle.HTTPVerb.DELETE))
            throw FhirRequestException.Of(StatusCodes.Status405MethodNotAllowed, OperationOutcome.IssueType.NotSupported,
                $"{method} entries are not supported; use GET, POST, PUT or DELETE.", "request.method");
        if (string.IsNullOrWhiteSpace(request.Url))
            throw FhirRequestException.BadRequest("The entry's request has no url.", "request.url");

        var target = ParseUrl(request.Url, baseUrl);
        var resource = entry.Resource;
        switch (method)
        {
            case Bundle.HTTPVerb.POST when target.Id is not null || target.IsConditional:
                throw FhirRequestException.BadRequest($"A POST entry's url is the resource type alone (e.g. {target.ResourceType}); got {request.Url}.", "request.url");
            case Bundle.HTTPVerb.PUT when target.Id is null && !target.IsConditional:
            case Bundle.HTTPVerb.DELETE when target.Id is null && !target.IsConditional:
                throw FhirRequestException.BadRequest($"A {method} entry's url is {target.ResourceType}/[id] or {target.ResourceType}?[criteria]; got {request.Url}.", "request.url");
            case Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT when resource is null:
                throw FhirRequestException.BadRequest($"A {method} entry needs a resource.", "resource");
        }
        if (target.VersionId is not null && method != Bundle.HTTPVerb.GET)
            throw FhirRequestException.BadRequest($"Only a GET entry may name a version; got {method} {request.Url}.", "request.url");
        if (resource is not null && method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT)
        {
            if (resource.TypeName != target.ResourceType)
                throw FhirRequestException.BadRequest($"The entry's resource is a {resource.TypeName}, but its url is for {target.ResourceType}.", "resource");
            if (method == Bundle.HTTPVerb.PUT && target.Id is not null)
            {
                if (!string.IsNullOrEmpty(resource.Id) && resource.Id != target.Id)
                    throw FhirRequestException.BadRequest($"The resource's id ({resource.Id}) differs from the url's ({target.Id}).", "resource.id");
                resource.Id = target.Id;
            }
            // FHIR's id pattern admits them, but no URL can address them: every client normalises them away as path segments.
            if (method == Bundle.HTTPVerb.PUT && resource.Id is "." or "..")
                throw FhirRequestException.BadRequest($"'{resource.Id}' cannot be an id: as a URL path segment it means the current or parent level.", $"{resource.TypeName}.id");
        }
        var ifMatch = string.IsNullOrWhiteSpace(request.IfMatch) ? (int?)null : VersionHeaders.ParseETag(request.IfMatch, "request.ifMatch");
        var ifNoneExist = string.IsNullOrWhiteSpace(request.IfNoneExist) ? null : request.IfNoneExist;
        if (ifNoneExist is not null && method != Bundle.HTTPVerb.POST)
            throw FhirRequestException.BadRequest("ifNoneExist belongs to POST entries only.", "request.ifNoneExist");
        return new BundleEntryRequest(index, string.IsNullOrWhiteSpace(entry.FullUrl) ? null : entry.FullUrl, method, target, resource, ifMatch, ifNoneExist);
    }

    /// <summary>Relative urls as the spec writes them; an absolute url on this server's base is accepted too.</summary>
    public static EntryTarget ParseUrl(string url, string baseUrl)
    {
        var text = url.Trim();
        if (text.StartsWith(baseUrl + "/", StringComparison.OrdinalIgnoreCase))
            text = text[(baseUrl.Length + 1)..];
        // An absolute url elsewhere names another server's resource (a Bundle written for another endpoint, e.g. the
        // specification's examples): say so, rather than reading its scheme as a resource type.
        else if (Uri.TryCreate(text, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
            throw FhirRequestException.BadRequest(
                $"{url} is not on this server: an entry's url is relative to the server's base (e.g. Patient/123), or absolute under {baseUrl}.", "request.url");
        string? criteria = null;
        var question = text.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            criteria = text[(question + 1)..];
            text = text[..question];
        }
        var segments = text.Trim('/').Split('/');
        var type = segments[0];
        if (!StoredResourceTypes.IsStored(type))
            throw FhirRequestException.Of(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotSupported,
                $"{type} is not a resource type this server stores ({string.Join(", ", StoredResourceTypes.All)}).", "request.url");
        return segments switch
        {
            [_] => new EntryTarget(type, null, null, criteria),
            [_, var id] when criteria is null => new EntryTarget(type, id, null, null),
            [_, var id, "_history", var version] when criteria is null
                && int.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0
                => new EntryTarget(type, id, v, null),
            _ => throw FhirRequestException.BadRequest($"{url} is not a url this server executes in a Bundle.", "request.url"),
        };
    }
}
