#!/usr/bin/env bash
# Builds etcd-defragd and the benchmark, then runs the benchmark on a fresh 3-member etcd cluster
# on loopback (stopped at the end) and prints its figures: the etcdctl runbook, etcd-defragd and
# the real etcd-defrag, each with and without --move-leader, over 3 rounds. Takes about 30
# minutes. etcd 3.6 unless EDD_ETCD_VERSION says otherwise (scripts/install-etcd-versions.sh).
# Usage: tests/bench/run_defrag_bench.sh [BUILD_DIR] [-- benchmark flags, e.g. --variants a,b]
# BUILD_DIR defaults to ./build (the bench target is not part of `all`, so this adds one target).
# Environment: BUILD_TYPE (e.g. RelWithDebInfo), CSV_DIR (write every sample there as CSV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/bench_lib.sh
bench_parse_args "$@"
set -- "${bench_args[@]}"

command -v curl >/dev/null || { echo "run_defrag_bench.sh: curl is not on PATH" >&2; exit 2; }
export EDD_ETCD_VERSION=${EDD_ETCD_VERSION:-3.6}
scripts/install-etcd-versions.sh "$EDD_ETCD_VERSION" etcd-defrag
bench_build edd_defrag_bench

args=(--defragd "$build_dir/daemon/etcd-defragd")
[[ -n ${CSV_DIR:-} ]] && args+=(--csv-dir "$CSV_DIR")
cache=${EDD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-defragd}
version=$("$cache/etcd-$EDD_ETCD_VERSION/etcd" --version)
echo "${version%%$'\n'*}; $(nproc) cores"
exec "$build_dir/tests/bench/edd_defrag_bench" "${args[@]}" "$@"
