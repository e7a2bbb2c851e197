namespace FhirCaseService.Api.Export;

/// <summary>A finished output file of one type (or the error file): what the manifest lists.</summary>
public sealed record ExportFileEntry(string Type, string Name, long Count);
