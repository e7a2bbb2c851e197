using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Audit;

/// <summary>
/// What one request was, in AuditEvent terms, read from its method and URL only (never its body): the event type, the
/// RESTful interaction (or operation, or HTTP verb when the URL is no FHIR interaction), the action code, and the
/// resource or resource type it addressed.
/// </summary>
internal sealed record AuditInteraction(
    Coding Type,
    string Subtype,
    Coding SubtypeCoding,
    string Action,
    string? ResourceType,
    string? Id,
    int? VersionId,
    bool IsQuery)
{
    public const string TokenPath = "/auth/token";

    internal static readonly Coding RestType = new("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation");
    internal static readonly Coding ExportType = new(Dicom, "110106", "Export");
    internal static readonly Coding ImportType = new(Dicom, "110107", "Import");
    internal static readonly Coding AuthenticationType = new(Dicom, "110114", "User Authentication");
    internal static readonly Coding AuditLogUsedType = new(Dicom, "110101", "Audit Log Used");

    private const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    private const string RestfulInteraction = "http://hl7.org/fhir/restful-interaction";
    private const string HttpVerb = "http://hl7.org/fhir/http-verb";

    /// <summary>Our code system for operation names ($export, $everything...), the second subtype of an operation.</summary>
    public const string OperationNameSystem = "https://fhircase.example.org/fhir/CodeSystem/operation-name";

    /// <param name="bundleKind">"transaction" or "batch" when the handler of <c>POST /</c> said which.</param>
    public static AuditInteraction Classify(string method, string path, string? bundleKind)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (method == HttpMethods.Post && string.Equals(path.TrimEnd('/'), TokenPath, StringComparison.OrdinalIgnoreCase))
            return new(AuthenticationType, "110122", new Coding(Dicom, "110122", "Login"), "E", null, null, null, false);

        var typed = segments.Length > 0 && ModelInfo.IsKnownResource(segments[0]);
        var type = typed ? segments[0] : null;
        var rest = typed ? segments[1..] : segments;
        var operation = rest.FirstOrDefault(s => s.StartsWith('$'));
        if (operation is not null)
        {
            // Type/$op, Type/id/$op, $op; what follows an export operation's name (status, files) is the export too.
            var id = typed && rest.Length > 1 && rest[1] == operation ? rest[0] : null;
            return Operation(operation, type, id, method);
        }

        return (method, type, rest) switch
        {
            ("POST", null, []) => Interaction(bundleKind ?? "transaction", "E", null, null, null, false),
            ("GET", null, ["_history"]) => Interaction("history-system", "R", null, null, null, true),
            ("GET", null, []) => Interaction("search-system", "E", null, null, null, true),
            ("GET", not null, []) or ("POST", not null, ["_search"]) => Interaction("search-type", "E", type, null, null, true),
            ("POST", not null, []) => Interaction("create", "C", type, null, null, false),
            ("PUT", not null, []) => Interaction("update", "U", type, null, null, true),
            ("DELETE", not null, []) => Interaction("delete", "D", type, null, null, true),
            ("GET", not null, ["_history"]) => Interaction("history-type", "R", type, null, null, true),
            ("GET", not null, [var id]) => Interaction("read", "R", type, id, null, false),
            ("PUT", not null, [var id]) => Interaction("update", "U", type, id, null, false),
            ("PATCH", not null, [var id]) => Interaction("patch", "U", type, id, null, false),
            ("DELETE", not null, [var id]) => Interaction("delete", "D", type, id, null, false),
            ("GET", not null, [var id, "_history"]) => Interaction("history-instance", "R", type, id, null, false),
            ("GET", not null, [var id, "_history", var version]) => Interaction("vread", "R", type, id, VersionOf(version), false),
            _ => Unrecognised(method, type),
        };
    }

    private static AuditInteraction Interaction(string code, string action, string? type, string? id, int? version, bool isQuery) =>
        new(type == "AuditEvent" ? AuditLogUsedType : RestType, code, new Coding(RestfulInteraction, code, code), action, type, id, version, isQuery);

    /// <summary>
    /// An operation: executed (E), except that fetching what an export produced reads data (R). $export is typed as a
    /// DICOM Export so that every disclosure of the population can be found by type; $import (and its status and error
    /// file) as a DICOM Import, so every bulk load can.
    /// </summary>
    private static AuditInteraction Operation(string operation, string? type, string? id, string method)
    {
        var isExport = operation.StartsWith("$export", StringComparison.Ordinal);
        var isImport = !isExport && operation.StartsWith("$import", StringComparison.Ordinal) && operation != "$import-case-series";
        var action = isExport && method == HttpMethods.Get && operation != "$export" ? "R" : "E";
        var eventType = isExport ? ExportType : isImport ? ImportType : RestType;
        return new(eventType, operation, new Coding(OperationNameSystem, operation, operation), action, type, id, null, id is null);
    }

    /// <summary>A URL that is no FHIR interaction (an unknown route, a typo, a probe): recorded by its HTTP verb, its URL as the query.</summary>
    private static AuditInteraction Unrecognised(string method, string? type)
    {
        var action = method switch
        {
            "GET" or "HEAD" => "R",
            "POST" => "C",
            "PUT" or "PATCH" => "U",
            "DELETE" => "D",
            _ => "E",
        };
        return new(RestType, method, new Coding(HttpVerb, method, method), action, type, null, null, true);
    }

    private static int? VersionOf(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) ? version : null;
}
