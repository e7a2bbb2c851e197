#!/usr/bin/env bash
# Builds the 10,000-resource validation workload of docs/performance.md: N copies of the
# profiled examples in examples/resources (one per profile), each copy with its own ids.
# Usage: bench/make-validation-workload.sh OUT_DIR [COPIES]   (834 copies x 12 files = 10,008)
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [COPIES]}
copies=${2:-834}
src="$(cd "$(dirname "$0")/.." && pwd)/examples/resources"
mkdir -p "$out"
for i in $(seq 1 "$copies"); do
  for f in "$src"/*.json; do
    name=$(basename "$f" .json)
    sed "s/\"id\": *\"\([^\"]*\)\"/\"id\": \"\1-$i\"/" "$f" > "$out/$name-$i.json"
  done
done
echo "$(ls "$out" | wc -l) files in $out"
