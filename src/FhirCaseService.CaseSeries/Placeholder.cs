namespace FhirCaseService.CaseSeries;
