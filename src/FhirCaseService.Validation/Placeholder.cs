namespace FhirCaseService.Validation;
