using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FhirCaseService.CaseSeries.Input;

/// <summary>The outcome of reading a case-series file: the record, or every error found (never both).</summary>
public sealed record CaseSeriesReadResult(CaseSeriesRecord? Record, IReadOnlyList<InputError> Errors);

/// <summary>
/// Reads and checks a case-series file (docs/case-series-format.md). Collects all errors of a file, each
/// naming the field path, the rule and the line, instead of stopping at the first one; never throws on bad input.
/// </summary>
public static partial class CaseSeriesReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false };

    public static CaseSeriesReadResult Read(string json) => Read(Encoding.UTF8.GetBytes(json));

    public static CaseSeriesReadResult Read(byte[] utf8)
    {
        // A leading byte-order mark is legal in files but not in JSON text.
        if (utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF)
            utf8 = utf8[3..];

        JsonDocument document;
        JsonLocations locations;
        try
        {
            document = JsonDocument.Parse(utf8, DocumentOptions);
            locations = JsonLocations.Scan(utf8, DocumentOptions);
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is long l ? (int)l + 1 : (int?)null;
            var column = e.BytePositionInLine is long c ? (int)c + 1 : (int?)null;
            return new CaseSeriesReadResult(null, [new InputError("", InputRules.InvalidJson, $"the file is not valid JSON: {FirstSentence(e.Message)}", line, column)]);
        }

        using (document)
        {
            var errors = new ReadErrors(locations);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add("", InputRules.WrongType, "the file must hold one JSON object (a case series)");
                return new CaseSeriesReadResult(null, errors.All);
            }
            var record = ReadSeries(new FieldReader(document.RootElement, "", errors));
            return errors.All.Count == 0 ? new CaseSeriesReadResult(record, []) : new CaseSeriesReadResult(null, errors.All);
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static CaseSeriesRecord ReadSeries(FieldReader series)
    {
        var seriesId = series.Text("seriesId");
        if (seriesId is not null && !SeriesIdPattern().IsMatch(seriesId))
            series.Errors.Add(series.PathOf("seriesId"), InputRules.InvalidValue, "'seriesId' must be 1-40 characters of a-z, 0-9 and '-', starting with a letter or digit");
        var title = series.Text("title");
        var citation = series.Text("citation");
        var doi = series.Text("doi", required: false);
        var publicationDate = series.Date("publicationDate", allowNotReported: false);
        var compiledBy = series.Text("compiledBy");

        var timelineReader = series.Object("timeline", required: true, out _);
        Timeline? timeline = null;
        if (timelineReader is not null)
        {
            var anchor = timelineReader.Date("anchorDate", allowNotReported: false);
            var explanation = timelineReader.Text("explanation");
            timelineReader.RejectUnknownFields();
            if (anchor.IsReported && explanation is not null)
                timeline = new Timeline(anchor.Value, explanation);
        }

        var patients = new List<CasePatient>();
        var items = series.Array("patients", required: true, out var patientsNotReported);
        if (patientsNotReported)
            series.Errors.Add(series.PathOf("patients"), InputRules.InvalidValue, "'patients' must list the patients of the series");
        else if (items.Count == 0 && series.Has("patients"))
            series.Errors.Add(series.PathOf("patients"), InputRules.InvalidValue, "'patients' must hold at least one patient");
        foreach (var (item, path) in items)
        {
            var reader = series.ItemObject(item, path);
            if (reader is not null)
                patients.Add(PatientReader.Read(reader));
        }
        foreach (var duplicate in patients.GroupBy(p => p.Pseudonym, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            series.Errors.Add(duplicate.Last().Path + ".pseudonym", InputRules.Duplicate, $"pseudonym '{duplicate.Key}' is used by more than one patient (pseudonyms are compared ignoring case)");

        series.RejectUnknownFields();
        return new CaseSeriesRecord(seriesId ?? "", title ?? "", citation ?? "", doi, publicationDate.IsReported ? publicationDate.Value : default,
            timeline ?? new Timeline(default, ""), compiledBy ?? "", patients);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex SeriesIdPattern();
}
