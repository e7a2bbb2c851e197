using FhirCaseService.CaseSeries.Input;
using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries;

/// <summary>The outcome of converting a case-series file: the transaction Bundle, or every input error.</summary>
public sealed record CaseSeriesConversion(Bundle? Bundle, IReadOnlyList<InputError> Errors)
{
    public bool Succeeded => Bundle is not null;
}

/// <summary>Case-series file (JSON bytes) -> checked record -> transaction Bundle. Never throws on bad input.</summary>
public static class CaseSeriesConverter
{
    public static CaseSeriesConversion Convert(byte[] utf8Json)
    {
        var read = CaseSeriesReader.Read(utf8Json);
        return read.Record is null
            ? new CaseSeriesConversion(null, read.Errors)
            : new CaseSeriesConversion(CaseSeriesMapper.ToTransactionBundle(read.Record), []);
    }

    public static CaseSeriesConversion Convert(string json) => Convert(System.Text.Encoding.UTF8.GetBytes(json));
}
