#!/usr/bin/env bash
# Bulk export benchmark (docs/performance.md, "Bulk export"). Builds the service and the bench in Release, starts the
# test PostgreSQL, then seeds, exports and downloads. Arguments go to the bench, e.g.
#   bench/FhirCaseService.ExportBench/run.sh both 10000 100000
#   bench/FhirCaseService.ExportBench/run.sh sqlite 10000 --keep    # keep the seeded database for the next --keep run
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dotnet build "$root/src/FhirCaseService.Api/FhirCaseService.Api.csproj" -c Release -v q -nologo >/dev/null
dotnet build "$here/FhirCaseService.ExportBench.csproj" -c Release -v q -nologo >/dev/null
# shellcheck source=/dev/null
source "$root/tools/ci/start-postgres.sh" >/dev/null
dotnet "$here/bin/Release/net10.0/FhirCaseService.ExportBench.dll" "$@"
