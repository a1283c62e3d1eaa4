#!/usr/bin/env bash
# Command (2) of the README, and CI (.ci/run): installs what is needed and runs the whole suite.
#   1. every ctest label (unit, etcd, compat, e2e, faults, soak, system) on an AddressSanitizer +
#      UBSan build (build-asan) against etcd 3.6, then the etcd label again against 3.4, 3.5 and
#      3.7 (EDD_ETCD_VERSION, tests/harness/etcd_version.h), less its version-insensitive tests; a sanitizer report from any process
#      fails the run; label system builds its own plain .deb (build-asan/system-deb) and boots it
#      under systemd in a container;
#   2. the unit tests on a ThreadSanitizer build (build-tsan);
#   3. each libFuzzer target for FUZZ_SECONDS (default 60) seconds (build-fuzz);
#   4. clang-tidy over daemon/ (scripts/clang-tidy.sh, on build-asan's compile commands).
# Steps 2 to 4 run at the lowest CPU priority while step 1's cluster tests run: those mostly
# wait on etcd, so the suite fits CI's 30 minutes on 2 cores. Their output is in
# build-tsan/test.log, build-fuzz/test.log and build-tidy/test.log; their last lines are
# repeated at the end.
# Extra arguments go to step 1's ctest only and skip 2 to 4, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ $# -gt 0 ]; then
  exec scripts/test-sanitizers.sh address "$@"
fi
start=$SECONDS
export EDD_ETCD_VERSION=${EDD_ETCD_VERSION:-3.6}
EDD_EXTRA_ETCD_VERSIONS=${EDD_EXTRA_ETCD_VERSIONS-3.4 3.5 3.7}
# The unit tests first: they build build-asan and give the quickest verdict.
scripts/test-sanitizers.sh address -L unit
mkdir -p build-tsan build-fuzz build-tidy
nice -n 19 scripts/test-sanitizers.sh thread >build-tsan/test.log 2>&1 &
tsan=$!
nice -n 19 scripts/test-fuzz.sh >build-fuzz/test.log 2>&1 &
fuzz=$!
# build-asan is built by now (the unit step builds it all); clang-tidy only reads it.
nice -n 19 scripts/clang-tidy.sh build-asan >build-tidy/test.log 2>&1 &
tidy=$!
# What the system tests (registered last) need, made meanwhile: the release .deb and the cached
# Debian tree. The tests ask again and only wait if this is not done; their verdict is the one.
(
  nice -n 19 scripts/build-deb.sh build-asan/system-deb &
  scripts/system-tree.sh >/dev/null &
  wait
) >build-asan/system-prep.log 2>&1 &
system_prep=$!
status=0
scripts/test-sanitizers.sh address -LE unit || status=1
wait "$system_prep" || true
# On the other versions, the etcd label less what does not depend on etcd's version: the
# harness's own tests (every other test of the label runs on the harness's clusters, TLS and auth
# ones included), a TLS handshake's certificate dates and statvfs of a data directory. That keeps
# CI well under its 50 minutes; each of them runs on the default version above.
version_insensitive='^harness |^certificates: |no room for the new file'
for version in $EDD_EXTRA_ETCD_VERSIONS; do
  echo "== the etcd label on etcd $version"
  EDD_ETCD_VERSION=$version scripts/test-sanitizers.sh address -L '^etcd$' \
    -E "$version_insensitive" || status=1
done
for step in tsan fuzz tidy; do
  code=0
  wait "${!step}" || code=$?
  echo "== build-$step/test.log (exit $code), last lines:"
  tail -n 12 "build-$step/test.log"
  [ "$code" -eq 0 ] || status=1
done
echo "test.sh: $([ $status -eq 0 ] && echo passed || echo FAILED) in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s"
exit "$status"
