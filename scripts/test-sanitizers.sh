#!/usr/bin/env bash
# AddressSanitizer + UBSan over the unit tests of the modules that take untrusted input or hold
# the pure logic (rule, config, the HTTP server and webhook payload, planner, coord, metrics).
# Modules linked to gRPC are left out to keep CI short: Debian's gRPC is not instrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(edd_common_tests edd_rule_tests edd_planner_tests edd_coord_tests edd_config_tests
         edd_metrics_tests edd_http_tests)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DETCD_DEFRAGD_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" --target "${targets[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  echo "== $t (ASan + UBSan)"
  "build-asan/tests/$t" --reporter compact 2>&1 | grep -v "^$" | tail -n 1
done
