#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/FhirCaseService.Browser.Tests) and prints its path.
# Idempotent: does nothing when a chromium is already on PATH. Needs root (CI runs as root). The browser tests run it
# themselves when they find no chromium; .ci/run runs it first so that the install shows in the CI log.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt has never fetched them, or when the install fails on stale ones.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*Packages*' 2>/dev/null | head -n 1)" ]; then
    apt-get update -q >&2
  fi
  apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; }
fi
command -v chromium
