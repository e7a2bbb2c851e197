using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Profiles the FHIR specification itself requires of a resource because of what it holds, whether or not the resource
/// declares them. In R4 these are the vital signs profiles: an Observation whose code names a vital sign SHALL conform to
/// that sign's profile (R4 observation.html, "Vital Signs"). The reference validator applies them by the codes below;
/// we apply the same table so a vital sign without its LOINC code is caught here as it is there.
/// </summary>
/// <remarks>
/// Codes verified in hapifhir/org.hl7.fhir.core, BasePolicyAdvisorForFullValidation.getImpliedProfilesForObservation
/// (the table the reference validator uses), and against the R4 profiles' own required LOINC codes (bodytemp 8310-5,
/// heartrate 8867-4, ...). LOINC rows are tried before SNOMED CT rows and the first row that matches wins, as there.
/// </remarks>
internal static class ImpliedProfiles
{
    private const string Loinc = "http://loinc.org";
    private const string Snomed = "http://snomed.info/sct";
    private const string Core = "http://hl7.org/fhir/StructureDefinition/";

    private sealed record Row(string System, string SystemName, string Profile, string Name, IReadOnlySet<string> Codes)
    {
        public Row(string system, string profileId, string name, params string[] codes)
            : this(system, system == Loinc ? "LOINC" : "SNOMED CT", Core + profileId, name, new HashSet<string>(codes, StringComparer.Ordinal))
        {
        }
    }

    private static readonly Row[] ObservationRows =
    [
        new(Loinc, "vitalspanel", "Vital Signs Panel", "85353-1"),
        new(Loinc, "resprate", "Respiratory Rate", "9279-1", "76170-0", "76172-6", "76171-8", "19840-8", "33438-3", "76270-8", "11291-2"),
        new(Loinc, "heartrate", "Heart rate", "60978-4", "73795-7", "73799-9", "76476-1", "76477-9", "8867-4", "8889-8", "8890-6", "8891-4",
            "8892-2", "8893-0", "40443-4", "55425-3", "68999-2", "11328-2", "69000-8", "8886-4"),
        new(Loinc, "oxygensat", "Oxygen saturation", "2708-6", "19224-5", "20564-1", "2709-4", "2710-2", "2713-6", "51733-4", "59408-5",
            "59417-6", "89276-0", "97549-0"),
        new(Loinc, "bodytemp", "Body temperature", "8310-5", "60834-9", "60835-6", "60836-4", "60838-0", "60955-2", "61009-7", "75539-7",
            "75987-8", "76010-8", "76011-6", "76278-1", "8309-7", "8328-7", "8329-5", "8330-3", "8331-1", "8332-9", "8333-7", "8334-5",
            "91371-5", "98657-0", "98663-8"),
        new(Loinc, "bodyheight", "Body height", "8302-2", "3137-7", "3138-5", "8306-3", "8308-9"),
        new(Loinc, "headcircum", "Head circumference", "9843-4", "8287-5"),
        new(Loinc, "bodyweight", "Body weight", "29463-7", "3141-9", "3142-7", "75292-3", "79348-9", "8350-1", "8351-9"),
        new(Loinc, "bmi", "Body mass index", "39156-5", "89270-3"),
        new(Loinc, "bp", "Blood pressure systolic and diastolic", "85354-9", "35094-2", "8459-0", "76534-7", "55284-4", "8480-6"),
        new(Snomed, "vitalspanel", "Vital Signs Panel", "46680005"),
        new(Snomed, "resprate", "Respiratory Rate", "86290005", "271625008", "271306003"),
        new(Snomed, "heartrate", "Heart rate", "271306003", "249043002", "444981005", "399017001", "251670001", "429525003", "429614003"),
        new(Snomed, "oxygensat", "Oxygen saturation", "442476006", "431314004"),
        new(Snomed, "bodytemp", "Body temperature", "386725007", "276885007", "300076005", "1222808002", "364246006", "307047009",
            "708499008", "431598003", "698831002", "698832009", "415882003", "415974002", "415929009", "415945006"),
        new(Snomed, "bodyheight", "Body height", "1153637007", "1162419008", "50373000", "1162418000", "1230278008", "1162392001", "1162417005"),
        new(Snomed, "headcircum", "Head circumference", "363812007", "169876006", "1269262007", "363811000"),
        new(Snomed, "bodyweight", "Body weight", "735395000", "425024002", "424927000", "784399000", "1162416001", "1162415002"),
        new(Snomed, "bmi", "Body mass index", "60621009"),
        new(Snomed, "bp", "Blood pressure systolic and diastolic", "251076008", "163033001", "163035008", "386534000", "386536003",
            "271649006", "271650006", "407556006", "407554009", "716579001", "399304008"),
    ];

    /// <summary>The profile the specification requires of <paramref name="resource"/>, with the reason in words; null when none.</summary>
    public static (string Profile, string Reason)? For(Resource resource)
    {
        if (resource is not Observation observation)
            return null;
        // Read raw: in a partial parse result code may hold a wrong-shaped coding.
        var codings = RawElements.Many<Coding>(RawElements.One<CodeableConcept>(observation, "code"), "coding").ToList();
        if (codings.Count == 0)
            return null;
        foreach (var row in ObservationRows)
        {
            foreach (var coding in codings)
            {
                if (RawElements.Text(coding, "system") == row.System && RawElements.Text(coding, "code") is { } code && row.Codes.Contains(code))
                    return (row.Profile, $"Validate Observation against the {row.Name} profile ({row.Profile}) which is required by the FHIR specification because the {row.SystemName} code {code} was found.");
            }
        }
        return null;
    }
}
