#!/usr/bin/env bash
# Rebuilds src/FhirCaseService.Conformance/CoreDefinitions/fhir-r4-core.zip from the official HL7 FHIR R4 4.0.1
# specification.zip of the NuGet package Hl7.Fhir.Specification.Data.R4 (the design card's Hl7.Fhir.Specification.R4
# brings it; the version is the one in Directory.Packages.props). Output is byte-identical across runs for the same
# package version. CoreDefinitionsSourceTests checks that the committed archive was packed from the package the
# build restores (its sha256 is recorded in the archive's provenance).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="${1:-$repo_root/src/FhirCaseService.Conformance/CoreDefinitions/fhir-r4-core.zip}"
packer="$repo_root/tools/CoreDefinitionsPacker/CoreDefinitionsPacker.csproj"

version="$(sed -n 's/.*PackageVersion Include="Hl7.Fhir.Specification.Data.R4" Version="\([^"]*\)".*/\1/p' "$repo_root/Directory.Packages.props")"
dotnet build "$packer" -c Release --nologo -v quiet
bin="$repo_root/tools/CoreDefinitionsPacker/bin/Release/net10.0"
dotnet "$bin/CoreDefinitionsPacker.dll" "$bin/specification.zip" "$version" "$output"
sha256sum "$output"
