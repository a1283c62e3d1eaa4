#!/usr/bin/env bash
# Command (2) of the README: install, build, run the whole test suite (unit, etcd, ...).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# Unit tests under AddressSanitizer + UBSan first (a report aborts the script), then everything.
[ $# -gt 0 ] || scripts/test-sanitizers.sh
cd build
ctest --output-on-failure -j2 "$@"
