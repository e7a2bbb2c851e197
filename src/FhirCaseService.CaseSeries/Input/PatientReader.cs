using System.Text.Json;
using System.Text.RegularExpressions;

namespace FhirCaseService.CaseSeries.Input;

/// <summary>Reads one patient of a case series and checks its fields and the order of its dates.</summary>
internal static partial class PatientReader
{
    public static CasePatient Read(FieldReader patient)
    {
        var pseudonym = patient.Text("pseudonym");
        if (pseudonym is not null && !PseudonymPattern().IsMatch(pseudonym))
            patient.Errors.Add(patient.PathOf("pseudonym"), InputRules.InvalidValue, "'pseudonym' must be 1-32 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");

        var illustrative = ReadIllustrative(patient);
        var sex = patient.Code("sex", InputCodes.Sex);
        var birthYear = patient.Integer("birthYear", 1900, 2100, required: !patient.Has("ageAtDiagnosisYears"));
        var age = patient.Integer("ageAtDiagnosisYears", 0, 25, required: false);
        var diagnosis = ReadDiagnosis(patient);
        var relapses = ReadRelapses(patient);
        var priorLines = ReadPriorLines(patient);
        var carT = ReadCarT(patient);
        var cycles = ReadInotuzumab(patient);
        var assessments = ReadAssessments(patient);
        var hsct = ReadHsct(patient);
        var radiotherapy = ReadRadiotherapy(patient);
        var followUp = ReadFollowUp(patient);
        patient.RejectUnknownFields();

        var result = new CasePatient(patient.Path, pseudonym ?? "", illustrative, sex, birthYear, age, diagnosis, relapses, priorLines,
            carT, cycles, assessments, hsct, radiotherapy, followUp);
        PatientConsistency.Check(result, patient.Errors);
        return result;
    }

    private static IllustrativeFields ReadIllustrative(FieldReader patient)
    {
        var paths = new List<string>();
        var items = patient.Array("illustrative", required: false, out var notReported);
        foreach (var (item, path) in items)
        {
            if (item.ValueKind != JsonValueKind.String || !IllustrativePathPattern().IsMatch(item.GetString()!))
            {
                patient.Errors.Add(path, InputRules.InvalidValue, "each 'illustrative' entry must be a field path such as \"diagnosis.date\" or \"relapses[*].cd19\"");
                continue;
            }
            var text = item.GetString()!;
            var first = IllustrativeFields.Split(text)[0];
            if (!InputCodes.PatientFields.Contains(first))
                patient.Errors.Add(path, InputRules.UnknownField, $"'{text}' does not start with a patient field; use one of {string.Join(", ", InputCodes.PatientFields)}");
            else
                paths.Add(text);
        }
        if (notReported)
            patient.Errors.Add(patient.PathOf("illustrative"), InputRules.InvalidValue, "'illustrative' lists field paths; omit it when every fact is reported");
        return new IllustrativeFields(paths);
    }

    private static Diagnosis ReadDiagnosis(FieldReader patient)
    {
        var reader = patient.Object("diagnosis", required: true, out var notReported);
        if (notReported)
            patient.Errors.Add(patient.PathOf("diagnosis"), InputRules.InvalidValue, "'diagnosis' cannot be \"not-reported\": every patient of a BCP-ALL series has one; mark its fields not reported instead");
        if (reader is null)
            return new Diagnosis(patient.PathOf("diagnosis"), Fact<PartialDate>.NotReported, Fact<string>.NotReported);
        var diagnosis = new Diagnosis(reader.Path, reader.Date("date"), reader.Code("immunophenotype", InputCodes.Immunophenotype));
        reader.RejectUnknownFields();
        return diagnosis;
    }

    private static List<Relapse> ReadRelapses(FieldReader patient)
    {
        var relapses = new List<Relapse>();
        var items = patient.Array("relapses", required: true, out var notReported);
        foreach (var (item, path) in items)
        {
            var reader = patient.ItemObject(item, path);
            if (reader is null)
                continue;
            var number = reader.Integer("number", 1, 20, allowNotReported: false);
            var date = reader.Date("date");
            var sites = ReadCodeList(reader, "sites", InputCodes.RelapseSite);
            var cd19 = ReadAntigen(reader, "cd19");
            var cd22 = ReadAntigen(reader, "cd22");
            reader.RejectUnknownFields();
            if (number.IsReported)
                relapses.Add(new Relapse(path, number.Value, date, sites, cd19, cd22));
        }
        if (notReported)
            patient.Errors.Add(patient.PathOf("relapses"), InputRules.InvalidValue, "'relapses' must list the relapses (write [] for none); mark unknown fields of a relapse not reported instead");
        return relapses;
    }

    /// <summary>Status plus the optional flow cytometry values; the values need a reported status, since the observation that carries them states it.</summary>
    private static AntigenResult ReadAntigen(FieldReader relapse, string antigen)
    {
        var status = relapse.Code(antigen, InputCodes.AntigenStatus);
        var percent = relapse.Number(antigen + "PercentOfBlasts", 0m, 100m, required: false);
        var density = relapse.Number(antigen + "AntigenDensity", 0m, 1_000_000m, required: false);
        var statusNotReported = relapse.RawValue(antigen) is { ValueKind: JsonValueKind.String } raw && raw.GetString() == CaseSeriesFormat.NotReported;
        if (statusNotReported && (percent.IsReported || density.IsReported))
            relapse.Errors.Add(relapse.PathOf(antigen), InputRules.InvalidValue,
                $"'{antigen}' must be reported when '{antigen}PercentOfBlasts' or '{antigen}AntigenDensity' is given (the flow cytometry result states the antigen status)");
        return new AntigenResult(status, percent, density);
    }

    private static Fact<IReadOnlyList<string>> ReadCodeList(FieldReader reader, string name, IReadOnlyList<string> allowed)
    {
        var raw = reader.RawValue(name);
        if (raw is null)
        {
            reader.Errors.Add(reader.PathOf(name), InputRules.Missing, $"'{name}' is required (write \"{CaseSeriesFormat.NotReported}\" if the source does not report it)");
            return Fact<IReadOnlyList<string>>.NotReported;
        }
        if (raw.Value.ValueKind == JsonValueKind.String && raw.Value.GetString() == CaseSeriesFormat.NotReported)
            return Fact<IReadOnlyList<string>>.NotReported;
        if (raw.Value.ValueKind != JsonValueKind.Array || raw.Value.GetArrayLength() == 0)
        {
            reader.Errors.Add(reader.PathOf(name), InputRules.WrongType, $"'{name}' must be a non-empty array of codes or \"{CaseSeriesFormat.NotReported}\"");
            return Fact<IReadOnlyList<string>>.NotReported;
        }
        var codes = new List<string>();
        var index = 0;
        foreach (var item in raw.Value.EnumerateArray())
        {
            var path = $"{reader.PathOf(name)}[{index++}]";
            if (item.ValueKind != JsonValueKind.String || !allowed.Contains(item.GetString()!))
                reader.Errors.Add(path, InputRules.UnknownCode, $"'{item}' is not a known code; use one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}");
            else if (codes.Contains(item.GetString()!))
                reader.Errors.Add(path, InputRules.Duplicate, $"'{item.GetString()}' is listed twice");
            else
                codes.Add(item.GetString()!);
        }
        return Fact<IReadOnlyList<string>>.Of(codes);
    }

    private static List<PriorTherapyLine> ReadPriorLines(FieldReader patient)
    {
        var lines = new List<PriorTherapyLine>();
        foreach (var (item, path) in patient.Array("priorTherapyLines", required: true, out _))
        {
            var reader = patient.ItemObject(item, path);
            if (reader is null)
                continue;
            var line = reader.Integer("line", 1, 20, allowNotReported: false);
            var description = reader.FreeText("description", required: true);
            reader.RejectUnknownFields();
            if (line.IsReported)
                lines.Add(new PriorTherapyLine(path, line.Value, description));
        }
        foreach (var duplicate in lines.GroupBy(l => l.Line).Where(g => g.Count() > 1))
            patient.Errors.Add(duplicate.Last().Path + ".line", InputRules.Duplicate, $"line {duplicate.Key} is listed more than once");
        return lines;
    }

    private static CarTInfusion? ReadCarT(FieldReader patient)
    {
        var reader = patient.Object("carT", required: false, out _);
        if (reader is null)
            return null;
        var product = reader.Code("product", InputCodes.CarTProduct, allowNotReported: false);
        var infusion = new CarTInfusion(reader.Path, product.IsReported ? product.Value : "", reader.Date("date"));
        reader.RejectUnknownFields();
        return infusion;
    }

    private static List<InotuzumabCycle> ReadInotuzumab(FieldReader patient)
    {
        var cycles = new List<InotuzumabCycle>();
        foreach (var (item, path) in patient.Array("inotuzumabCycles", required: false, out _))
        {
            var reader = patient.ItemObject(item, path);
            if (reader is null)
                continue;
            var cycle = reader.Integer("cycle", 1, 20, allowNotReported: false);
            var doses = new List<InotuzumabDose>();
            var items = reader.Array("doses", required: true, out var dosesNotReported);
            if (dosesNotReported || (items.Count == 0 && reader.Has("doses")))
                reader.Errors.Add(reader.PathOf("doses"), InputRules.InvalidValue, "'doses' must list at least one dose (mark its date or amount not reported if unknown)");
            PartialDate? firstDate = null;
            foreach (var (doseItem, dosePath) in items)
            {
                var doseReader = reader.ItemObject(doseItem, dosePath);
                if (doseReader is null)
                    continue;
                var date = doseReader.Date("date");
                var day = doseReader.Integer("day", 1, 42, required: false, allowNotReported: false);
                var amount = doseReader.Number("doseMgPerM2", 0.01m, 10m);
                doseReader.RejectUnknownFields();
                firstDate ??= date.IsReported ? date.Value : null;
                var cycleDay = day.IsReported ? day.Value : DayFromDates(firstDate, date);
                if (cycleDay is null)
                    doseReader.Errors.Add(doseReader.PathOf("day"), InputRules.Missing, "'day' (day of the cycle, 1 = first dose) is required when it cannot be derived from full dates of this and the first dose");
                else
                    doses.Add(new InotuzumabDose(dosePath, date, cycleDay.Value, amount));
            }
            foreach (var duplicate in doses.GroupBy(d => d.Day).Where(g => g.Count() > 1))
                reader.Errors.Add(duplicate.Last().Path, InputRules.Duplicate, $"two doses fall on cycle day {duplicate.Key}");
            reader.RejectUnknownFields();
            if (cycle.IsReported)
                cycles.Add(new InotuzumabCycle(path, cycle.Value, doses));
        }
        foreach (var duplicate in cycles.GroupBy(c => c.Cycle).Where(g => g.Count() > 1))
            patient.Errors.Add(duplicate.Last().Path + ".cycle", InputRules.Duplicate, $"cycle {duplicate.Key} is listed more than once");
        return cycles;
    }

    private static int? DayFromDates(PartialDate? first, Fact<PartialDate> date)
    {
        if (first is not { IsFullDate: true } start || !date.TryGetValue(out var current) || !current.IsFullDate)
            return null;
        var day = current.Earliest.DayNumber - start.Earliest.DayNumber + 1;
        return day >= 1 ? day : null;
    }

    private static List<ResponseAssessment> ReadAssessments(FieldReader patient)
    {
        var assessments = new List<ResponseAssessment>();
        foreach (var (item, path) in patient.Array("responseAssessments", required: false, out _))
        {
            var reader = patient.ItemObject(item, path);
            if (reader is null)
                continue;
            var date = reader.Date("date", allowNotReported: false);
            var response = reader.Code("response", InputCodes.DiseaseStatus);
            var after = ReadTreatmentReference(reader);
            var mrd = ReadMrd(reader);
            reader.RejectUnknownFields();
            if (date.IsReported)
                assessments.Add(new ResponseAssessment(path, date.Value, response, after, mrd));
        }
        foreach (var duplicate in assessments.GroupBy(a => a.Date).Where(g => g.Count() > 1))
            patient.Errors.Add(duplicate.Last().Path + ".date", InputRules.Duplicate, $"two response assessments on {duplicate.Key}; merge them into one (the date identifies the assessment)");
        return assessments;
    }

    private static TreatmentReference? ReadTreatmentReference(FieldReader reader)
    {
        var raw = reader.RawValue("afterTreatment");
        if (raw is null)
            return null;
        var text = raw.Value.ValueKind == JsonValueKind.String ? raw.Value.GetString()! : "";
        var match = TreatmentReferencePattern().Match(text);
        if (!match.Success)
        {
            reader.Errors.Add(reader.PathOf("afterTreatment"), InputRules.InvalidValue,
                "'afterTreatment' must be \"car-t\", \"hsct\", \"inotuzumab-cycle-N\" or \"radiotherapy-N\" (N counts from 1), or be omitted");
            return null;
        }
        return new TreatmentReference(match.Groups["kind"].Value, match.Groups["n"].Success ? int.Parse(match.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    private static MrdResult? ReadMrd(FieldReader assessment)
    {
        var reader = assessment.Object("mrd", required: false, out _);
        if (reader is null)
            return null;
        var percent = Fact<decimal?>.NotReported;
        var raw = reader.RawValue("result");
        if (raw is null)
            reader.Errors.Add(reader.PathOf("result"), InputRules.Missing, $"'result' is required: a percentage, \"{InputCodes.MrdNotDetected}\" or \"{CaseSeriesFormat.NotReported}\"");
        else if (raw.Value.ValueKind == JsonValueKind.String && raw.Value.GetString() == InputCodes.MrdNotDetected)
            percent = Fact<decimal?>.Of(null);
        else if (raw.Value.ValueKind == JsonValueKind.String && raw.Value.GetString() == CaseSeriesFormat.NotReported)
            percent = Fact<decimal?>.NotReported;
        else if (raw.Value.ValueKind == JsonValueKind.Number)
        {
            var number = reader.NumberValue("result", raw.Value, 0m, 100m);
            if (number.IsReported)
                percent = Fact<decimal?>.Of(number.Value);
        }
        else
            reader.Errors.Add(reader.PathOf("result"), InputRules.WrongType, $"'result' must be a percentage (number 0-100), \"{InputCodes.MrdNotDetected}\" or \"{CaseSeriesFormat.NotReported}\"");

        var method = reader.Code("method", InputCodes.MrdMethod);
        var limit = reader.Number("limitOfDetectionPercent", 0.000001m, 100m, required: false);
        var specimen = reader.Code("specimen", InputCodes.MrdSpecimen, allowNotReported: false);
        reader.RejectUnknownFields();
        return new MrdResult(reader.Path, percent, method, limit, specimen.IsReported ? specimen.Value : "");
    }

    private static Transplant? ReadHsct(FieldReader patient)
    {
        var reader = patient.Object("hsct", required: false, out _);
        if (reader is null)
            return null;
        var transplant = new Transplant(reader.Path, reader.Date("date"), reader.Code("donorType", InputCodes.DonorType),
            reader.FreeText("conditioning", required: false));
        reader.RejectUnknownFields();
        return transplant;
    }

    private static List<RadiotherapyCourse> ReadRadiotherapy(FieldReader patient)
    {
        var courses = new List<RadiotherapyCourse>();
        foreach (var (item, path) in patient.Array("radiotherapy", required: false, out _))
        {
            var reader = patient.ItemObject(item, path);
            if (reader is null)
                continue;
            var start = reader.Date("startDate");
            var end = reader.Date("endDate");
            var site = reader.Code("site", InputCodes.RadiotherapySite, allowNotReported: false);
            var laterality = reader.Code("laterality", InputCodes.Laterality, required: false);
            var description = reader.Text("siteDescription", required: false);
            var intent = reader.Code("intent", InputCodes.TreatmentIntent);
            var dose = reader.Number("doseGy", 0.1m, 100m, required: false);
            var forRelapses = new List<int>();
            foreach (var (number, numberPath) in reader.Array("forRelapses", required: false, out _))
            {
                if (number.ValueKind == JsonValueKind.Number && number.TryGetInt32(out var n) && n >= 1)
                    forRelapses.Add(n);
                else
                    reader.Errors.Add(numberPath, InputRules.WrongType, "'forRelapses' lists relapse numbers (whole numbers from 1)");
            }
            reader.RejectUnknownFields();
            courses.Add(new RadiotherapyCourse(path, start, end, site.IsReported ? site.Value : "", laterality, description, intent, dose, forRelapses));
        }
        return courses;
    }

    private static FollowUp? ReadFollowUp(FieldReader patient)
    {
        var reader = patient.Object("followUp", required: true, out _);
        if (reader is null)
            return null;
        var followUp = new FollowUp(reader.Path, reader.Date("lastContactDate"), reader.Code("diseaseStatus", InputCodes.DiseaseStatus),
            reader.Code("vitalStatus", InputCodes.VitalStatus));
        reader.RejectUnknownFields();
        return followUp;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex PseudonymPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9]*(\[(\d+|\*)\])?(\.[A-Za-z][A-Za-z0-9]*(\[(\d+|\*)\])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex IllustrativePathPattern();

    [GeneratedRegex(@"^(?<kind>car-t|hsct|inotuzumab-cycle|radiotherapy)(-(?<n>[1-9][0-9]?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex TreatmentReferencePattern();
}
