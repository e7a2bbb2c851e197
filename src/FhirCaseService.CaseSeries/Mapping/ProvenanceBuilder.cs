using System.Globalization;
using System.Net;
using System.Text;
using FhirCaseService.CaseSeries.Input;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>
/// States, per patient, which generated resources carry only facts the source reports and which carry
/// illustrative ones: one Provenance for each group (when not empty), citing the source publication;
/// the illustrative one lists the illustrative input fields in its narrative.
/// </summary>
internal static class ProvenanceBuilder
{
    public static void AddForPatient(CaseSeriesRecord series, CasePatient patient, ResourceKey patientKey, IReadOnlyList<GeneratedResource> resources, BundleAssembly assembly)
    {
        if (series.Synthetic)
        {
            AddSynthetic(series, patient, resources, assembly);
            return;
        }
        var reported = resources.Where(r => !r.Illustrative).ToList();
        var illustrative = resources.Where(r => r.Illustrative).ToList();
        if (reported.Count > 0)
            Add(series, patient, patientKey, reported, illustrative: false, assembly);
        if (illustrative.Count > 0)
            Add(series, patient, patientKey, illustrative, illustrative: true, assembly);
    }

    private static void Add(CaseSeriesRecord series, CasePatient patient, ResourceKey patientKey, IReadOnlyList<GeneratedResource> targets, bool illustrative, BundleAssembly assembly)
    {
        var kind = illustrative ? "illustrative" : "reported";
        var provenance = new Provenance
        {
            Target = targets.Select(t => assembly.Reference(t.Key)).ToList(),
            // Recorded is the publication date of the source, not "now", so the output is the same on every run.
            RecordedElement = new Instant(new DateTimeOffset(series.PublicationDate.Earliest.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)),
            Activity = new CodeableConcept
            {
                Text = illustrative
                    ? "Illustrative assignment: values not stated per patient by the source, chosen to match every aggregate it reports"
                    : "Transcription of facts reported by the source",
            },
            Agent =
            [
                new Provenance.AgentComponent
                {
                    Type = Codes.Concept(illustrative ? Codes.Assembler : Codes.Author),
                    Who = new ResourceReference { Display = illustrative ? series.CompiledBy : series.Citation },
                },
            ],
            Entity = [new Provenance.EntityComponent { Role = Provenance.ProvenanceEntityRole.Source, What = Source(series) }],
            Text = new Hl7.Fhir.Model.Narrative { Status = Hl7.Fhir.Model.Narrative.NarrativeStatus.Generated, Div = NarrativeDiv(series, patient, targets, illustrative) },
        };
        var key = ResourceKey.For("Provenance", series.SeriesId, patient.Pseudonym, "provenance", kind);
        assembly.Add(key, provenance, profile: null, illustrative: false, $"provenance ({kind})");
    }

    /// <summary>
    /// One Provenance per generated patient: what made the resources (the generator, named in compiledBy) and that they
    /// describe no real patient. It cites no source entity: nothing in them was taken from one.
    /// </summary>
    private static void AddSynthetic(CaseSeriesRecord series, CasePatient patient, IReadOnlyList<GeneratedResource> targets, BundleAssembly assembly)
    {
        var html = new StringBuilder("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        html.Append(CultureInfo.InvariantCulture, $"<p>Synthetic patient {Encode(patient.Pseudonym)} of {Encode(series.Title)}: generated, not observed; it describes no real person.</p><p>Resources:</p><ul>");
        foreach (var target in targets)
            html.Append(CultureInfo.InvariantCulture, $"<li>{Encode(target.Key.RequestUrl)}: {Encode(target.Description)}</li>");
        html.Append("</ul></div>");
        var provenance = new Provenance
        {
            Target = targets.Select(t => assembly.Reference(t.Key)).ToList(),
            RecordedElement = new Instant(new DateTimeOffset(series.PublicationDate.Earliest.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)),
            Activity = new CodeableConcept { Text = $"Synthetic generation: {series.Citation}" },
            Agent =
            [
                new Provenance.AgentComponent
                {
                    Type = Codes.Concept(Codes.Assembler),
                    Who = new ResourceReference { Display = series.CompiledBy },
                },
            ],
            Text = new Hl7.Fhir.Model.Narrative { Status = Hl7.Fhir.Model.Narrative.NarrativeStatus.Generated, Div = html.ToString() },
        };
        var key = ResourceKey.For("Provenance", series.SeriesId, patient.Pseudonym, "provenance");
        assembly.Add(key, provenance, profile: null, illustrative: false, "provenance (synthetic)");
    }

    private static ResourceReference Source(CaseSeriesRecord series) => new()
    {
        Identifier = series.Doi is null ? null : new Identifier(FhirCaseCanonicals.CodeSystems.Doi, series.Doi),
        Display = series.Citation,
    };

    private static string NarrativeDiv(CaseSeriesRecord series, CasePatient patient, IReadOnlyList<GeneratedResource> targets, bool illustrative)
    {
        var html = new StringBuilder("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        html.Append(CultureInfo.InvariantCulture, $"<p>Patient {Encode(patient.Pseudonym)} of {Encode(series.Title)} ({Encode(series.Citation)}).</p>");
        if (illustrative)
        {
            html.Append("<p>These resources contain illustrative values: the source does not report them per patient; they were assigned to match its aggregates. Illustrative input fields:</p><ul>");
            foreach (var path in patient.Illustrative.Paths)
                html.Append(CultureInfo.InvariantCulture, $"<li>{Encode(path)}</li>");
            html.Append("</ul>");
        }
        else
        {
            html.Append("<p>These resources contain only facts reported by the source.</p>");
        }
        html.Append("<p>Resources:</p><ul>");
        foreach (var target in targets)
            html.Append(CultureInfo.InvariantCulture, $"<li>{Encode(target.Key.RequestUrl)}: {Encode(target.Description)}</li>");
        html.Append(CultureInfo.InvariantCulture, $"</ul><p>Dates follow a relative timeline anchored at {series.Timeline.AnchorDate}: {Encode(series.Timeline.Explanation)}</p></div>");
        return html.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
