#!/usr/bin/env bash
# Builds the cold-start probe in Release and runs it in N fresh processes (default 7), one JSON line each.
# A second argument `sdk` measures the Firely SDK's ZipSource over specification.zip instead of our archive.
set -euo pipefail
runs="${1:-7}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/ConformanceColdStart.csproj" -c Release -v q -nologo >/dev/null
for _ in $(seq "$runs"); do
  dotnet "$here/bin/Release/net10.0/ConformanceColdStart.dll" ${2:-}
done
