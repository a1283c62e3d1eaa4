#!/usr/bin/env bash
# Builds etcd-defragd and its tests with a sanitizer and runs ctest there. Every instrumented
# process — the test executables and each etcd-defragd they start, daemons and CLI alike — writes
# its reports into one directory, so a leak at a daemon's exit or a report from a process whose
# exit status no test looks at still fails the run.
#   scripts/test-sanitizers.sh address [ctest args]  AddressSanitizer + LeakSanitizer + UBSan,
#                                                    build-asan; ctest args default to every label
#   scripts/test-sanitizers.sh thread [ctest args]   ThreadSanitizer, build-tsan, -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
shift || true
case $kind in
  address) dir=build-asan option=ON target=all defaults=() ;;
  thread) dir=build-tsan option=thread target=edd_unit_tests defaults=(-L unit) ;;
  *)
    echo "test-sanitizers.sh: unknown sanitizer '$kind'; use address or thread" >&2
    exit 2
    ;;
esac
[ $# -gt 0 ] || set -- "${defaults[@]}"
# Debug (-O0): compiles fastest; the sanitizers need no optimisation.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DETCD_DEFRAGD_SANITIZE="$option" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target "$target"

reports=$PWD/$dir/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"
status=0
(cd "$dir" && ctest --output-on-failure -j2 "$@") || status=$?
found=$(find "$reports" -type f | wc -l)
if [ "$found" -gt 0 ]; then
  echo "test-sanitizers ($kind): $found report(s) in $reports:"
  for f in "$reports"/*; do
    echo "== $f"
    head -n 60 "$f"
  done
  status=1
else
  echo "test-sanitizers ($kind): 0 sanitizer reports"
fi
exit "$status"
